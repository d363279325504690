/**
 * zod for every schema a handler parses with: `zod/mini`, whose functions esbuild keeps only
 * when a bundle uses them (about 20 KB where the classic API's methods bring all of its 95 KB
 * into every bundle that validates anything). Unlike the classic API it registers no
 * language of its own, so without English here every issue would read "Invalid input": the
 * 400s and a refused step state say what they said with the classic API.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

// Re-exported name by name (`import * as z` of this module): a namespace object re-exported
// whole would keep every export of zod/mini, all its languages among them.
export * from 'zod/mini';
