/**
 * Each Lambda function's bundle, built as the CDK app builds it (lib/bundling/build.ts; no
 * `cdk synth` needed), and measured.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Metafile } from 'esbuild';
import { catalogFunctions, type CatalogFunction } from '../functions/catalog.ts';
import { PROJECT_ROOT, type BundleEntry, bundleFileOf as bundleFileOfEntry, bundleFunctions } from '../lib/bundling/build.ts';

export interface BundleSize extends CatalogFunction {
  /** `index.mjs`, bytes. */
  bytes: number;
  gzipBytes: number;
  /** `index.mjs.map`, bytes (deployed alongside). */
  sourceMapBytes: number;
  /** The largest contributors to `index.mjs`: npm package (or `own code`) and bytes, largest first. */
  contributors: { source: string; bytes: number }[];
}

/** Bundles `entry` (a path from the repository root) into `outDir/index.mjs` as every function is bundled. */
export function bundleFunction(entry: string, outDir: string): Promise<Metafile> {
  return bundleFunctions([{ entry, dir: '.' }], outDir);
}

/** A catalog function as the build takes it: its handler from the repository root, built into a directory of its name. */
const entryOf = (fn: CatalogFunction): BundleEntry => ({ entry: path.join('functions', fn.entry), dir: fn.name });

/** The bundle's file in `outDir`. */
export const bundleFileOf = (outDir: string, fn: CatalogFunction): string => bundleFileOfEntry(outDir, entryOf(fn));

/** Bundles each function (every catalog function by default) into `outDir/<name>/index.mjs` and measures it. */
export async function measureBundles(outDir: string, functions = catalogFunctions()): Promise<BundleSize[]> {
  const metafile = await bundleFunctions(functions.map(entryOf), outDir);
  return functions.map((fn) => {
    const outfile = bundleFileOf(outDir, fn);
    const code = readFileSync(outfile);
    // The metafile names its outputs from the project root.
    const output = metafile.outputs[path.relative(PROJECT_ROOT, outfile)];
    if (output === undefined) throw new Error(`esbuild's metafile has no output ${outfile}`);
    return {
      ...fn,
      bytes: code.length,
      gzipBytes: gzipSync(code, { level: 9 }).length,
      sourceMapBytes: readFileSync(`${outfile}.map`).length,
      contributors: contributors(output),
    };
  });
}

/** Bytes in one output by npm package (`@scope/name` or `name`), own code together. */
function contributors(output: Metafile['outputs'][string]): { source: string; bytes: number }[] {
  const bySource = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    // The innermost package: a copy nested under another package counts as itself.
    const packages = [...input.split(path.sep).join('/').matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
    const source = packages.at(-1)?.[1] ?? 'own code';
    bySource.set(source, (bySource.get(source) ?? 0) + bytesInOutput);
  }
  return [...bySource.entries()].map(([source, bytes]) => ({ source, bytes })).sort((a, b) => b.bytes - a.bytes);
}
