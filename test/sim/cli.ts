/**
 * The simulation from the command line.
 *
 *   npm run sim                                  1,000 histories from a fresh seed
 *   npm run sim -- --seed S --path P [--trace]   replays the failure fast-check reported, and
 *                                                with --trace prints every gate of it
 *   npm run soak -- --histories N [--seed S]     a long run, with progress and histories/second
 *   --variant NAME                               runs the product with one rule broken on purpose
 *                                                (see variants.ts): the simulator must fail it
 *   --focus NAME                                 draws histories from one corner of the swarm
 *                                                (`focuses` in history.ts), as a test that found
 *                                                the failure did
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { type FocusName, type History, type Variant, everyHistoryHolds, failureReport, focuses, runHistory } from './history.ts';
import { type BrokenVariant, brokenVariants } from './variants.ts';
import { loadDeployment } from './deployment.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    path: { type: 'string' },
    histories: { type: 'string', default: '1000' },
    trace: { type: 'boolean', default: false },
    progress: { type: 'boolean', default: false },
    variant: { type: 'string' },
    focus: { type: 'string' },
  },
});

const variant: Variant = values.variant === undefined ? {} : brokenVariants[values.variant as BrokenVariant];
if (variant === undefined) throw new Error(`--variant is one of: ${Object.keys(brokenVariants).join(', ')}`);
const focusName = values.focus as FocusName | undefined;
if (focusName !== undefined && !(focusName in focuses)) throw new Error(`--focus is one of: ${Object.keys(focuses).join(', ')}`);
const focus = focusName === undefined ? undefined : focuses[focusName];
const drawn = { variant: values.variant, focus: focusName };

const seed = values.seed === undefined ? Date.now() ^ (process.pid << 8) : Number(values.seed);
const histories = Number(values.histories);
if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(histories) || histories < 1) {
  throw new Error('--seed and --histories take integers');
}

process.exitCode = values.path === undefined ? await run() : await replay(values.path);

async function run(): Promise<number> {
  loadDeployment();
  const seen = new Map<string, number>();
  const property = everyHistoryHolds(variant, seen, focus);
  const startedAt = performance.now();
  let lastReport = startedAt;
  if (values.progress) {
    property.afterEach(() => {
      const now = performance.now();
      if (now - lastReport < 10_000) return;
      lastReport = now;
      const done = seen.get('histories') ?? 0;
      console.log(`${done} histories, ${rate(done, now - startedAt)} histories/s`);
    });
  }
  console.log(`simulating ${histories} histories, seed ${seed}`);
  const result = await fc.check(property, { seed, numRuns: histories });
  const elapsed = performance.now() - startedAt;
  const done = seen.get('histories') ?? 0;
  console.log(`${done} histories in ${(elapsed / 1000).toFixed(1)} s: ${rate(done, elapsed)} histories/s`);
  if (result.failed) {
    console.log(failureReport(result, drawn));
    return 1;
  }
  for (const [what, count] of [...seen].sort(([a], [b]) => a.localeCompare(b))) console.log(`${String(count).padStart(9)}  ${what}`);
  return 0;
}

async function replay(path: string): Promise<number> {
  const result = await fc.check(everyHistoryHolds(variant, undefined, focus), { seed, path, endOnFailure: true });
  if (!result.failed) {
    console.log(`the history at seed ${seed}, path ${path} holds`);
    return 0;
  }
  console.log(failureReport(result, drawn));
  if (values.trace) {
    const [history] = result.counterexample as [History];
    await runHistory(history, variant, true).catch((error: unknown) => console.log(error instanceof Error ? error.message : error));
  }
  return 1;
}

function rate(count: number, ms: number): string {
  return (count / (ms / 1000)).toFixed(1);
}
