/**
 * The esbuild plugin that leaves out of the Lambda bundles the modules no function runs, each in
 * favour of a stub with the same exports that throws, naming the module, once anything uses it
 * (lib/bundling/stubbed-export.ts). Each entry says why no function needs what it cuts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { OnLoadArgs, OnLoadResult, Plugin } from 'esbuild';
import { STRIPE_RESOURCES } from '../../functions/adapters/stripe/resources.ts';

const STUBBED_EXPORT_MODULE = path.join(import.meta.dirname, 'stubbed-export.ts');

/** A package's file, as a path inside the package (`esm/resources.js`). */
interface PackageFile {
  readonly packageName: string;
  readonly file: string;
}

/**
 * The modules of the Stripe client's resources (`esm/resources/PaymentIntents.js` for
 * `paymentIntents`): stripe names each file after its property, capitalized.
 */
const stripeResourceFiles = (properties: readonly string[]): string[] =>
  properties.map((property) => `esm/resources/${property[0]!.toUpperCase()}${property.slice(1)}.js`);

interface Cut {
  /** Whether the plugin replaces this file of a package. */
  readonly matches: (file: PackageFile) => boolean;
  /** The replacement: by default a stub for each of the file's exports. */
  readonly contents?: (file: PackageFile, original: string) => string;
}

/** What is cut, keeping the Stripe resource modules `keptStripeFiles`. */
const cutsKeeping = (keptStripeFiles: readonly string[]): Cut[] => [
  {
    // stripe's `Stripe` constructor (v23) imports every resource class of its API and builds one of
    // each; the adapter is typed against STRIPE_RESOURCES alone, so every other one is never called.
    // Each namespace (`resources/Billing/index.js`...) goes whole with its members.
    matches: ({ packageName, file }) =>
      packageName === 'stripe' && file.startsWith('esm/resources/') && !keptStripeFiles.includes(file),
  },
  {
    // `Stripe.resources`, which re-exports every resource class for a caller to build by name
    // (no function does): it keeps the adapter's, and OAuthResource, which the constructor takes
    // from here (stubbed by the rule above).
    matches: ({ packageName, file }) => packageName === 'stripe' && file === 'esm/resources.js',
    contents: (_, original) => {
      const kept = [...original.matchAll(/^export \{ ([^}]+) \} from '\.\/([^']+)';$/gm)].filter(
        ([, names, from]) => keptStripeFiles.includes(`esm/${from}`) || names === 'OAuthResource',
      );
      // A name of STRIPE_RESOURCES that stripe spells otherwise has no module here: it stops the build.
      const missing = [
        ...keptStripeFiles.filter((file) => !kept.some(([, , from]) => `esm/${from}` === file)),
        ...(kept.some(([, names]) => names === 'OAuthResource') ? [] : ['OAuthResource']),
      ];
      if (missing.length > 0) throw new Error(`stripe/esm/resources.js exports nothing of ${missing.join(', ')}`);
      return kept.map(([line]) => line).join('\n');
    },
  },
  {
    // Parses and verifies v2 event notifications, for `stripe.notificationHandler()`, which no function calls.
    matches: ({ packageName, file }) => packageName === 'stripe' && file === 'esm/StripeEventNotificationHandler.js',
  },
  {
    // Event streams, imported (dynamically) only by an operation that streams events in or out:
    // DynamoDB, Step Functions and Secrets Manager have none.
    matches: ({ packageName, file }) => packageName === '@smithy/core' && file === 'dist-es/submodules/event-streams/index.js',
  },
  {
    // SHA-256 in JavaScript, for a runtime whose `node:crypto` has none (`Sha256Node` falls back on
    // it); Node's always has.
    matches: ({ packageName, file }) => packageName === '@smithy/core' && file === 'dist-es/submodules/checksum/sha256/Sha256Js.js',
  },
  {
    // The region from EC2 instance metadata, asked only when neither the environment nor a config
    // file names one: Lambda sets AWS_REGION.
    matches: ({ packageName, file }) =>
      packageName === '@smithy/core' && file === 'dist-es/submodules/config/config-resolver/regionConfig/getInstanceMetadataRegion.js',
  },
  {
    // A client's whole package.json, of which it reads its version alone (for its User-Agent).
    matches: ({ packageName, file }) => packageName.startsWith('@aws-sdk/client-') && file === 'package.json',
    contents: ({ packageName, file }, original) => {
      const { version } = JSON.parse(original) as { version: string };
      return [
        `import { versionOnly } from ${JSON.stringify(STUBBED_EXPORT_MODULE)};`,
        `export default versionOnly(${JSON.stringify(`${packageName}/${file}`)}, ${JSON.stringify(version)});`,
      ].join('\n');
    },
  },
];

/**
 * The plugin every function's bundle is built with (lib/bundling/build.ts), keeping of the Stripe
 * client's resources those of `stripeResources` (the adapter's by default).
 */
export function unusedModules(stripeResources: readonly string[] = STRIPE_RESOURCES): Plugin {
  const cuts = cutsKeeping(stripeResourceFiles(stripeResources));
  return {
    name: 'chargeonce-unused-modules',
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/](stripe|@smithy[\\/]core|@aws-sdk[\\/]client-[^\\/]+)[\\/]/ }, (args) => stubOf(cuts, args));
    },
  };
}

function stubOf(cuts: readonly Cut[], { path: absolute }: OnLoadArgs): OnLoadResult | undefined {
  const packageFile = packageFileOf(absolute);
  const cut = cuts.find(({ matches }) => matches(packageFile));
  if (cut === undefined) return undefined;
  const original = readFileSync(absolute, 'utf8');
  const contents = (cut.contents ?? stubsOfExports)(packageFile, original);
  return { contents, loader: 'js', resolveDir: path.dirname(absolute) };
}

function packageFileOf(absolute: string): PackageFile {
  const [, packageName, file] = absolute.split(path.sep).join('/').match(/.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.+)$/)!;
  return { packageName: packageName!, file: file! };
}

/** A module with the exports of `original`, each a stub that names `packageName/file`. */
function stubsOfExports({ packageName, file }: PackageFile, original: string): string {
  const module = `${packageName}/${file}`;
  const lines = [`import { stubbedExport } from ${JSON.stringify(STUBBED_EXPORT_MODULE)};`, `const module = ${JSON.stringify(module)};`];
  for (const name of exportNamesOf(module, original)) {
    lines.push(`export const ${name} = /* @__PURE__ */ stubbedExport(module, ${JSON.stringify(name)});`);
  }
  return lines.join('\n');
}

/** The names a module exports, from the forms stripe and the AWS SDK write; any other form stops the build. */
function exportNamesOf(module: string, source: string): string[] {
  const names: string[] = [];
  // A statement from `export` to the end of its line, or of its list when the list spans lines.
  for (const [statement] of source.matchAll(/^export (?:\{[^}]*\}.*|.*)$/gm)) {
    const declared = statement.match(/^export (?:class|const|let|var|function\*?|async function) ([\w$]+)/);
    const listed = statement.match(/^export \{([^}]*)\}(?: from ['"][^'"]+['"])?;?$/);
    if (declared !== null) names.push(declared[1]!);
    else if (listed !== null) {
      for (const item of listed[1]!.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
        names.push(item.split(/\s+as\s+/).at(-1)!);
      }
    } else throw new Error(`${module}: cannot stub an export written as ${JSON.stringify(statement.slice(0, 80))}`);
  }
  return names;
}
