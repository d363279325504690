/**
 * How every Lambda function is bundled: esbuild's JS API (its CLI, which `NodejsFunction` runs,
 * takes no plugins) with the options and the plugins below. The CDK app builds with it
 * (lib/function-bundles.ts, through lib/bundling/bundle-command.ts) and so does the bench
 * (bench/bundle-sizes.ts): what is measured is what is deployed.
 */
import path from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { stripeErrorNames } from './stripe-error-names.ts';
import { unusedModules } from './unused-modules.ts';

/** The repository root: `functions/` and `node_modules/` live here. */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * An ESM bundle has no `require`; CommonJS dependencies bundled into it (parts of the AWS SDK
 * and Stripe) still call it for Node built-ins, so give them a real one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __chargeonceCreateRequire } from 'node:module'; " +
  'const require = __chargeonceCreateRequire(import.meta.url);';

/**
 * The links of the AWS SDK's default credential chain after the first (`fromEnv`): SSO,
 * shared config files, a credential process, web identity, container and instance metadata.
 * The chain imports each (`import()`) only once the environment held no credentials, and
 * Lambda always puts the role's there: left out of the bundles, they never load. That is
 * about 135 KB of each bundle (their STS and SSO clients among them); bench/bundles.ts
 * imports every bundle alone, so a static import of one fails it.
 */
export const UNLOADED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@smithy/credential-provider-imds',
] as const;

/** Each function's bundle: ESM, minified, with an external source map, every dependency in it. */
const FUNCTION_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  banner: { js: ESM_REQUIRE_BANNER },
  minify: true,
  sourcemap: true,
  target: 'node22',
  mainFields: ['module', 'main'],
  // The AWS SDK is bundled too (Lambda's own copy is not used): the versions pinned in
  // package-lock.json are the ones that run.
  external: [...UNLOADED_CREDENTIAL_PROVIDERS],
  outExtension: { '.js': '.mjs' },
  absWorkingDir: PROJECT_ROOT,
  // esbuild's real warnings still show; not its summary of every output's size.
  logLevel: 'warning',
} as const satisfies BuildOptions;

/** A function to bundle: its handler module, relative to the repository root. */
export interface BundleEntry {
  readonly entry: string;
  /** Where its `index.mjs` and `index.mjs.map` go, relative to the build's output directory. */
  readonly dir: string;
}

/**
 * Bundles each entry into `outDir/<dir>/index.mjs`, in one build (the modules they share are
 * read and parsed once). The metafile has one output per entry.
 *
 * Minifying renames classes. Step Functions matches Retry and Catch on `error.name`, which our
 * errors and the AWS SDK's set as strings (test/unit/domain/errors.test.ts holds ours to it);
 * stripe reads one class's name, which its own plugin keeps (lib/bundling/stripe-error-names.ts).
 */
export async function bundleFunctions(entries: readonly BundleEntry[], outDir: string): Promise<Metafile> {
  const { metafile } = await build({
    ...FUNCTION_BUILD_OPTIONS,
    entryPoints: entries.map(({ entry, dir }) => ({ in: path.resolve(PROJECT_ROOT, entry), out: path.join(dir, 'index') })),
    outdir: outDir,
    metafile: true,
    plugins: [unusedModules(), stripeErrorNames()],
  });
  return metafile;
}

/** Where {@link bundleFunctions} writes `entry`'s bundle. */
export const bundleFileOf = (outDir: string, { dir }: BundleEntry): string => path.join(outDir, dir, 'index.mjs');
