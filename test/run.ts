// `npm test`: the typecheck, then each group of vitest projects in its own run (the stack-heavy
// ones must not share two cores with each other), stopping at the first that fails. It ends on
// one plain line, `tests: N passed, N failed`, summed over every run: CI reads a run's closing
// line to tell that tests ran, and vitest's own summary ("Tests  354 passed (354)") is not a
// form it reads.
import { spawnSync } from 'node:child_process';
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

function run(command: string, args: readonly string[]): number {
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  return result.status ?? 1;
}

function main(): number {
  const typecheck = run('npx', ['tsc', '--noEmit']);
  if (typecheck !== 0) return typecheck;
  for (const [i, projects] of RUNS.entries()) {
    const report = join(reports, `${i}.json`);
    const status = run('npx', [
      'vitest', 'run',
      ...projects.flatMap((project) => ['--project', project]),
      '--reporter=default', '--reporter=json', `--outputFile.json=${report}`,
    ]);
    addReport(report);
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

const status = main();
rmSync(reports, { recursive: true, force: true });
const skipped = totals.skipped > 0 ? `, ${totals.skipped} skipped` : '';
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed${skipped}`);
process.exit(status === 0 && totals.failed === 0 && totals.passed > 0 ? 0 : status || 1);
