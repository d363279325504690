import { execFileSync } from 'node:child_process';
import { renameSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { AssetHashType, type BundlingOptions, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { CatalogFunction } from '../functions/catalog.ts';
import { PROJECT_ROOT, type BundleEntry } from './bundling/build.ts';

const BUNDLE_COMMAND = path.join(PROJECT_ROOT, 'lib/bundling/bundle-command.ts');
/** The files of a function's asset, as lib/bundling/build.ts writes them. */
const BUNDLE_FILES = ['index.mjs', 'index.mjs.map'];

/**
 * Each function's code: its bundle from lib/bundling/build.ts (esbuild with the plugin that
 * leaves out unused modules), as an asset, where `NodejsFunction` would run esbuild's CLI.
 * CDK asks for one asset at a time, synchronously; the first it asks for builds every function's
 * bundle in one child process (one esbuild build: the modules they share are parsed once), and
 * each asset then takes its own. When a synthesis skips bundling (the infra tests), nothing is built.
 */
export class FunctionBundles {
  readonly #functions: readonly CatalogFunction[];
  /** The assembly directories whose bundles are built. */
  readonly #builtIn = new Set<string>();

  constructor(functions: readonly CatalogFunction[]) {
    this.#functions = functions;
  }

  /** The asset of the function `name` of the catalog, whose handler is `index.handler`. */
  code(name: string): lambda.Code {
    const fn = this.#functions.find((candidate) => candidate.name === name);
    if (fn === undefined) throw new Error(`no function ${name} in functions/catalog.ts`);
    const bundling: BundlingOptions = {
      // Never run: the local bundling below always bundles or throws.
      image: DockerImage.fromRegistry('dummy'),
      local: new LocalBundle(fn, (assemblyDir) => this.#build(assemblyDir)),
    };
    return lambda.Code.fromAsset(PROJECT_ROOT, { assetHashType: AssetHashType.OUTPUT, bundling });
  }

  #build(assemblyDir: string): void {
    if (this.#builtIn.has(assemblyDir)) return;
    const entries = this.#functions.map((fn): BundleEntry => ({ entry: path.join('functions', fn.entry), dir: builtDirOf(fn) }));
    // tsx: the command and what it imports are TypeScript, as the app is.
    execFileSync(process.execPath, ['--import', 'tsx', BUNDLE_COMMAND, assemblyDir, JSON.stringify(entries)], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.#builtIn.add(assemblyDir);
  }
}

/**
 * Where a function's bundle is built in the assembly directory: beside the asset directories, so
 * that the source map's paths (relative to it) hold once the bundle is moved into its asset.
 */
const builtDirOf = ({ name }: CatalogFunction): string => `chargeonce-bundle-${name}`;

/** One function's local bundling. Its own fields tell CDK's asset cache one function from another. */
class LocalBundle implements ILocalBundling {
  readonly name: string;
  readonly entry: string;
  readonly #buildAll: (assemblyDir: string) => void;

  constructor(fn: CatalogFunction, buildAll: (assemblyDir: string) => void) {
    this.name = fn.name;
    this.entry = fn.entry;
    this.#buildAll = buildAll;
  }

  tryBundle(outputDir: string): boolean {
    const assemblyDir = path.dirname(outputDir);
    this.#buildAll(assemblyDir);
    const built = path.join(assemblyDir, builtDirOf(this));
    for (const file of BUNDLE_FILES) renameSync(path.join(built, file), path.join(outputDir, file));
    rmdirSync(built);
    return true;
  }
}
