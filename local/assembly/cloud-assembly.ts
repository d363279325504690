/**
 * A cloud assembly as `cdk synth` writes it (`cdk.out/`): its manifest names the stack's
 * template, and the stack's asset manifest says which directory holds each asset the template
 * points at (a function's `Code.S3Key` is the object key its bundle is uploaded under).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type CfnTemplate, UnsupportedTemplateError } from './intrinsics.ts';

export interface CloudAssembly {
  /** The assembly's directory. */
  readonly dir: string;
  readonly stackName: string;
  readonly template: CfnTemplate;
  /** The directory whose contents are uploaded as the object `s3Key` (a function's bundle). */
  assetDir(s3Key: string, where: string): string;
}

interface Manifest {
  artifacts?: Record<string, { type: string; displayName?: string; properties?: { templateFile?: string }; dependencies?: string[] }>;
}

interface AssetManifest {
  files?: Record<string, { source: { path?: string; packaging?: string }; destinations: Record<string, { objectKey: string }> }>;
}

/** Reads the assembly in `dir`: its one stack (or the one named `stackName`), its template and its assets. */
export function readCloudAssembly(dir: string, stackName?: string): CloudAssembly {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`${dir} holds no cloud assembly (no manifest.json): run \`npx cdk synth\` into it first`);
  const artifacts = Object.entries(readJson<Manifest>(manifestFile).artifacts ?? {});
  const stacks = artifacts.filter(([id, artifact]) => artifact.type === 'aws:cloudformation:stack' && (stackName === undefined || id === stackName));
  if (stacks.length !== 1) {
    const found = stacks.map(([id]) => id).join(', ') || 'none';
    throw new UnsupportedTemplateError(`${dir}: the local stack runs one stack${stackName ? ` named ${stackName}` : ''}; found ${found}`);
  }
  const [id, stack] = stacks[0]!;
  const templateFile = stack.properties?.templateFile;
  if (templateFile === undefined) throw new Error(`${dir}: stack ${id} names no template file`);
  const template = readJson<CfnTemplate>(path.join(dir, templateFile));

  const assetDirs = new Map<string, string>();
  for (const dependency of stack.dependencies ?? []) {
    const artifact = Object.fromEntries(artifacts)[dependency];
    const file = artifact?.type === 'cdk:asset-manifest' ? (artifact.properties as { file?: string } | undefined)?.file : undefined;
    if (file === undefined) continue;
    for (const asset of Object.values(readJson<AssetManifest>(path.join(dir, file)).files ?? {})) {
      if (asset.source.path === undefined) continue;
      for (const destination of Object.values(asset.destinations)) assetDirs.set(destination.objectKey, path.join(dir, asset.source.path));
    }
  }

  return {
    dir,
    stackName: id,
    template,
    assetDir(s3Key, where) {
      const found = assetDirs.get(s3Key);
      if (found === undefined || !existsSync(found)) throw new UnsupportedTemplateError(`${where}: no asset in ${dir} is uploaded as ${s3Key}`);
      return found;
    },
  };
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
