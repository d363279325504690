import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ChargeonceStack } from '../../lib/chargeonce-stack.ts';
import { isRunning } from '../process-records.ts';
import type { CfnTemplate } from './intrinsics.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');

/** Where `npm start` and the tests keep the synthesized app, as `cdk synth` does. */
export const DEFAULT_CDK_OUT = path.join(projectRoot, 'cdk.out');

/** What a synthesis reads: a change to any of them makes a new assembly. */
const SYNTH_INPUTS = ['functions', 'lib', 'bin', 'cdk.json', 'cdk.context.json', 'package-lock.json'];

/** Written into an assembly the local stack synthesized: what it was made from. */
const RECORD_FILE = 'chargeonce-local-synth.json';

interface SynthRecord {
  readonly inputs: string;
  /** The template's own hash: an assembly `cdk synth` rewrote since (with other context) is not taken for ours. */
  readonly template: string;
}

/**
 * The app synthesized into `outDir` as `npx cdk synth` does it (the CLI, offline, bundling with
 * the local esbuild), unless `outDir` already holds what the current sources synthesize to: the
 * hash of functions/, lib/, bin/, cdk.json, cdk.context.json and package-lock.json is recorded
 * with the assembly. Processes that ask at once synthesize once: the first holds a lock, the
 * others wait and find its assembly.
 */
export async function ensureAssembly(outDir = DEFAULT_CDK_OUT, log: (line: string) => void = () => undefined): Promise<string> {
  const inputs = inputsHash();
  if (isCurrent(outDir, inputs)) return outDir;
  const release = await lock(`${outDir}.lock`);
  try {
    if (isCurrent(outDir, inputs)) return outDir;
    log(`synthesizing the app into ${path.relative(process.cwd(), outDir) || outDir} (its sources changed)...`);
    const fresh = `${outDir}.${process.pid}.tmp`;
    rmSync(fresh, { recursive: true, force: true });
    await cdkSynth(fresh);
    const record: SynthRecord = { inputs, template: hashOf(readFileSync(templateFileOf(fresh))) };
    writeFileSync(path.join(fresh, RECORD_FILE), JSON.stringify(record));
    const previous = `${outDir}.${process.pid}.old`;
    if (existsSync(outDir)) renameSync(outDir, previous);
    renameSync(fresh, outDir);
    rmSync(previous, { recursive: true, force: true });
    return outDir;
  } finally {
    release();
  }
}

function isCurrent(outDir: string, inputs: string): boolean {
  try {
    const record = JSON.parse(readFileSync(path.join(outDir, RECORD_FILE), 'utf8')) as SynthRecord;
    return record.inputs === inputs && record.template === hashOf(readFileSync(templateFileOf(outDir)));
  } catch {
    return false;
  }
}

function templateFileOf(outDir: string): string {
  const file = readdirSync(outDir).find((name) => name.endsWith('.template.json'));
  if (file === undefined) throw new Error(`${outDir} holds no template`);
  return path.join(outDir, file);
}

/** The hash of every file that a synthesis reads, path and content, in a stable order. */
export function inputsHash(): string {
  const hash = createHash('sha256');
  const visit = (relative: string): void => {
    const absolute = path.join(projectRoot, relative);
    if (!existsSync(absolute)) return;
    const files = statSync(absolute).isDirectory()
      ? readdirSync(absolute, { withFileTypes: true, recursive: true })
          .filter((entry) => entry.isFile())
          .map((entry) => path.join(entry.parentPath, entry.name))
          .sort()
      : [absolute];
    for (const file of files) hash.update(`${path.relative(projectRoot, file)}\0`).update(readFileSync(file)).update('\0');
  };
  for (const input of SYNTH_INPUTS) visit(input);
  return hash.digest('hex');
}

const hashOf = (content: Buffer) => createHash('sha256').update(content).digest('hex');

/** `cdk synth --output <dir>`, with the project's CLI and Node (the CLI runs the app of cdk.json). */
function cdkSynth(outDir: string): Promise<void> {
  const cli = path.join(projectRoot, 'node_modules/aws-cdk/bin/cdk');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'synth', '--quiet', '--output', outDir], {
      cwd: projectRoot,
      // The app command (`node_modules/.bin/tsx`) finds `node` on the PATH: the project's Node 22 first.
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cdk synth failed (exit ${code}):\n${output}`))));
  });
}

/**
 * A lock file holding its owner's pid; one left by a process that died is taken over. Waits
 * up to `timeoutMs` for a live owner (a synthesis takes tens of seconds on two busy cores).
 */
async function lock(file: string, timeoutMs = 10 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSync(file, 'utf8'));
    if (!(Number.isInteger(owner) && owner > 0 && isRunning(owner))) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${file} is held by process ${owner} for too long`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Synthesizes the CDK app's stack in this process, with cdk.json's context (feature flags
 * included) and without bundling: for the tests that need the template's table, not the
 * functions' bundles, in a few seconds.
 */
export function synthesizeTemplate(): CfnTemplate {
  const cdkJson = JSON.parse(readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const outdir = mkdtempSync(path.join(tmpdir(), 'chargeonce-synth-'));
  try {
    const app = new App({
      outdir,
      context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
    });
    const stack = new ChargeonceStack(app, 'Chargeonce');
    return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
