/**
 * Each Lambda function's bundle, built with esbuild the way `NodejsFunction` builds it from
 * `BUNDLING` in `lib/lambda-functions.ts` (no `cdk synth` needed), and measured.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { apiRoutes, authorizerEntry, reconcilerEntry, refundSteps, sagaSteps } from '../functions/catalog.ts';
import { BUNDLING } from '../lib/lambda-functions.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');

export interface CatalogFunction {
  /** The function's id, as the CDK app names it. */
  readonly name: string;
  /** Its handler module, relative to `functions/`. */
  readonly entry: string;
}

export interface BundleSize extends CatalogFunction {
  /** `index.mjs`, bytes. */
  bytes: number;
  gzipBytes: number;
  /** `index.mjs.map`, bytes (deployed alongside: `sourceMap: true`). */
  sourceMapBytes: number;
  /** The largest contributors to `index.mjs`: npm package (or `own code`) and bytes, largest first. */
  contributors: { source: string; bytes: number }[];
}

/** Every function of `functions/catalog.ts`, in the order the CDK app creates them. */
export function catalogFunctions(): CatalogFunction[] {
  return [
    ...Object.entries(sagaSteps).map(([name, entry]) => ({ name, entry })),
    ...Object.entries(refundSteps).map(([name, entry]) => ({ name, entry })),
    ...apiRoutes.map((route) => ({ name: route.id, entry: route.entry })),
    { name: 'Authorizer', entry: authorizerEntry },
    { name: 'Reconciler', entry: reconcilerEntry },
  ];
}

/**
 * Bundles `entry` (a path from the repository root) into `outDir/index.mjs` with the bundling
 * options every function gets (lib/lambda-functions.ts's `BUNDLING`).
 */
export function bundleFunction(entry: string, outDir: string) {
  return build({
    ...esbuildOptionsOf(BUNDLING),
    entryPoints: [path.join(projectRoot, entry)],
    outfile: path.join(outDir, 'index.mjs'),
    absWorkingDir: projectRoot,
    metafile: true,
  });
}

/** The bundle's file in `outDir`, as `NodejsFunction` names it in the asset. */
export const bundleFileOf = (outDir: string, { name }: CatalogFunction): string => path.join(outDir, name, 'index.mjs');

/** Bundles each function (every catalog function by default) into `outDir/<name>/index.mjs` and measures it. */
export async function measureBundles(outDir: string, functions = catalogFunctions()): Promise<BundleSize[]> {
  return Promise.all(
    functions.map(async (fn) => {
      const outfile = bundleFileOf(outDir, fn);
      const result = await bundleFunction(path.join('functions', fn.entry), path.dirname(outfile));
      const code = readFileSync(outfile);
      return {
        ...fn,
        bytes: code.length,
        gzipBytes: gzipSync(code, { level: 9 }).length,
        sourceMapBytes: readFileSync(`${outfile}.map`).length,
        contributors: contributors(result.metafile),
      };
    }),
  );
}

/**
 * `NodejsFunction`'s bundling options as the flags it passes esbuild (always `--bundle
 * --platform=node`). An option it is given that this does not translate stops the bench,
 * rather than measuring other bundles than the deployed ones.
 */
function esbuildOptionsOf(bundling: BundlingOptions): BuildOptions {
  const translated: BuildOptions = {
    bundle: true,
    platform: 'node',
    ...(bundling.format !== undefined && { format: bundling.format }),
    ...(bundling.banner !== undefined && { banner: { js: bundling.banner } }),
    ...(bundling.minify !== undefined && { minify: bundling.minify }),
    ...(bundling.keepNames !== undefined && { keepNames: bundling.keepNames }),
    ...(bundling.sourceMap !== undefined && { sourcemap: bundling.sourceMap }),
    ...(bundling.target !== undefined && { target: bundling.target }),
    ...(bundling.mainFields !== undefined && { mainFields: bundling.mainFields }),
    external: bundling.externalModules ?? [],
    ...(bundling.logLevel !== undefined && { logLevel: bundling.logLevel }),
  };
  const known = new Set(['format', 'banner', 'minify', 'keepNames', 'sourceMap', 'target', 'mainFields', 'externalModules', 'logLevel']);
  const unknown = Object.keys(bundling).filter((option) => !known.has(option));
  if (unknown.length > 0) throw new Error(`bench/bundle-sizes.ts does not translate BUNDLING's ${unknown.join(', ')} for esbuild`);
  return translated;
}

/** Bytes in the output by npm package (`@scope/name` or `name`), own code together. */
function contributors(metafile: Metafile): { source: string; bytes: number }[] {
  const bySource = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      // The innermost package: a copy nested under another package counts as itself.
      const packages = [...input.split(path.sep).join('/').matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
      const source = packages.at(-1)?.[1] ?? 'own code';
      bySource.set(source, (bySource.get(source) ?? 0) + bytesInOutput);
    }
  }
  return [...bySource.entries()].map(([source, bytes]) => ({ source, bytes })).sort((a, b) => b.bytes - a.bytes);
}
