// `npm test`: each group of vitest projects in its own run (the stack-heavy ones must not share
// two cores with each other), stopping at the first that fails. The typecheck and the app's
// synthesis (a minute of esbuild bundling, which the stack-heavy runs need) go on beside the first
// run, whose files spend much of their time waiting for a JVM or a child process. It ends on
// one plain line, `tests: N passed, N failed`, summed over every run: CI reads a run's closing
// line to tell that tests ran, and vitest's own summary ("Tests  354 passed (354)") is not a
// form it reads.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNS: readonly (readonly string[])[] = [
  ['unit', 'infra', 'adapters', 'sim'],
  ['integration'],
  ['crash'],
  ['stack'],
  ['browser'],
  ['fuzz'],
];

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

const env = { ...process.env, NO_COLOR: '1' };
const reports = mkdtempSync(join(tmpdir(), 'chargeonce-test-'));
const totals = { passed: 0, failed: 0, skipped: 0 };

function run(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    child.once('error', () => resolve(1));
    child.once('close', (code) => resolve(code ?? 1));
  });
}

interface Finished {
  readonly status: number;
  readonly output: string;
}

/** `command` started now, its output kept for when it is awaited (so it never interleaves a run's). */
function runBeside(command: string, args: readonly string[]): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error) => resolve({ status: 1, output: `${output}${error.message}\n` }));
    child.once('close', (code) => resolve({ status: code ?? 1, output }));
  });
}

async function finished(name: string, running: Promise<Finished>): Promise<number> {
  const { status, output } = await running;
  console.log(`\n${name}: ${status === 0 ? 'done' : `failed (exit ${status})`}`);
  if (output.trim() !== '') console.log(output.trimEnd());
  return status;
}

async function main(): Promise<number> {
  const typecheck = runBeside('npx', ['tsc', '--noEmit']);
  const synthesis = runBeside('npx', ['tsx', '--eval', "import('./local/assembly/synthesize.ts').then((m) => m.ensureAssembly())"]);
  for (const [i, projects] of RUNS.entries()) {
    const report = join(reports, `${i}.json`);
    const status = await run('npx', [
      'vitest', 'run',
      ...projects.flatMap((project) => ['--project', project]),
      '--reporter=default', '--reporter=json', `--outputFile.json=${report}`,
    ]);
    addReport(report);
    if (i === 0) {
      const besides = [await finished('typecheck', typecheck), await finished('synthesis of the app', synthesis)];
      if (besides.some((s) => s !== 0)) return 1;
    }
    if (status !== 0) return status;
  }
  return 0;
}

function addReport(path: string): void {
  let report: VitestJsonReport;
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as VitestJsonReport;
  } catch {
    // A run that died before writing its report counts as one failure, so the line never
    // claims a clean result the runs did not give.
    totals.failed += 1;
    return;
  }
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests;
  totals.skipped += report.numPendingTests + report.numTodoTests;
}

const status = await main();
rmSync(reports, { recursive: true, force: true });
const skipped = totals.skipped > 0 ? `, ${totals.skipped} skipped` : '';
// The plain closing line CI reads to tell that tests ran, alone on the last line, with no word before it.
console.log(`\nall vitest runs together:\n${totals.passed} passed, ${totals.failed} failed${skipped}`);
process.exit(status === 0 && totals.failed === 0 && totals.passed > 0 ? 0 : status || 1);
