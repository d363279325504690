/**
 * `node --import tsx lib/bundling/bundle-command.ts <outDir> <entries as JSON>`: bundles the
 * functions (lib/bundling/build.ts). The CDK app runs it as a child process, since CDK bundles
 * synchronously and esbuild runs plugins only in its asynchronous `build`.
 */
import { bundleFunctions, type BundleEntry } from './build.ts';

const [outDir, entries] = process.argv.slice(2);
if (outDir === undefined || entries === undefined) throw new Error('usage: bundle-command.ts <outDir> <entries as JSON>');
await bundleFunctions(JSON.parse(entries) as BundleEntry[], outDir);
