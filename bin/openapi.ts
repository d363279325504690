/** Writes the API's OpenAPI document, generated from the code, to `openapi.json` (`npm run openapi`). */
import { writeFileSync } from 'node:fs';
import { openApiText } from '../functions/contract/openapi.ts';

const file = new URL('../openapi.json', import.meta.url);
writeFileSync(file, openApiText());
console.log(`wrote ${file.pathname}`);
