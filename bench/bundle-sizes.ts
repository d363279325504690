/**
 * Each Lambda function's bundle, built with esbuild the way `NodejsFunction` builds it in
 * `lib/lambda-functions.ts` (no `cdk synth` needed), and measured.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { apiRoutes, authorizerEntry, reconcilerEntry, sagaSteps } from '../functions/catalog.ts';
import { ESM_REQUIRE_BANNER } from '../lib/lambda-functions.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');

export interface BundleSize {
  /** The function's id, as the CDK app names it. */
  name: string;
  entry: string;
  /** `index.mjs`, bytes. */
  bytes: number;
  gzipBytes: number;
  /** `index.mjs.map`, bytes (deployed alongside: `sourceMap: true`). */
  sourceMapBytes: number;
  /** The largest contributors to `index.mjs`: npm package (or `own code`) and bytes, largest first. */
  contributors: { source: string; bytes: number }[];
}

/** Every function of `functions/catalog.ts`, in the order the CDK app creates them. */
export function catalogFunctions(): { name: string; entry: string }[] {
  return [
    ...Object.entries(sagaSteps).map(([name, entry]) => ({ name, entry })),
    ...apiRoutes.map((route) => ({ name: route.id, entry: route.entry })),
    { name: 'Authorizer', entry: authorizerEntry },
    { name: 'Reconciler', entry: reconcilerEntry },
  ];
}

/**
 * Bundles `entry` (a path from the repository root) into `outDir/index.mjs` with the bundling
 * options of `createFunction` in lib/lambda-functions.ts, as esbuild flags.
 */
export function bundleFunction(entry: string, outDir: string) {
  return build({
    entryPoints: [path.join(projectRoot, entry)],
    outfile: path.join(outDir, 'index.mjs'),
    absWorkingDir: projectRoot,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    keepNames: true,
    sourcemap: true,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    external: [],
    logLevel: 'warning',
    metafile: true,
  });
}

/** Bundles every catalog function into `outDir/<name>/index.mjs` and measures it. */
export async function measureBundles(outDir: string): Promise<BundleSize[]> {
  return Promise.all(
    catalogFunctions().map(async ({ name, entry }) => {
      const outfile = path.join(outDir, name, 'index.mjs');
      const result = await bundleFunction(path.join('functions', entry), path.dirname(outfile));
      const code = readFileSync(outfile);
      return {
        name,
        entry,
        bytes: code.length,
        gzipBytes: gzipSync(code, { level: 9 }).length,
        sourceMapBytes: readFileSync(`${outfile}.map`).length,
        contributors: contributors(result.metafile),
      };
    }),
  );
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
