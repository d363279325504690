/**
 * `npm run bench`: the payment checkout on the local stack, measured from outside. Prints
 * figures; asserts nothing about timings. See bench/README.md for what each figure means.
 *
 *   BENCH_N=200 BENCH_CONCURRENCY=50 npm run bench
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { measureBundles, type BundleSize } from './bundle-sizes.ts';
import { startDynamoCounter, type DynamoCounter, type DynamoCounts } from './dynamo-counter.ts';
import type { ExecutionEvent } from '../local/runtime/stepfunctions-local.ts';

// Before the handlers' loggers are built (they are imported by startLocalStack).
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const overlappingDimensionWarnings = muteOverlappingDimensionWarnings();
const { startLocalStack } = await import('../local/local-stack.ts');

const N = positiveInt('BENCH_N', 50);
const CONCURRENCY = positiveInt('BENCH_CONCURRENCY', 25);
/** Payments run without polling, to count what one checkout costs in DynamoDB by itself. */
const QUIET_N = Math.min(N, 20);
const WARM_UP = 3;
const POLL_EVERY_MS = 10;
const CHECKOUT_TIMEOUT_MS = 30_000;

interface Outcome {
  paymentNo?: string;
  /** POST sent → GET first answered `succeeded`. */
  latencyMs?: number;
  failure?: string;
  polls: number;
}

interface PhaseResult {
  name: string;
  outcomes: Outcome[];
  wallMs: number;
  dynamo: DynamoCounts;
}

/** Per execution (named after its payment_no): the states it entered, in order, and its retries. */
interface ExecutionTrace {
  entered: string[];
  retries: number;
  ended?: string;
}

const traces = new Map<string, ExecutionTrace>();
const onExecutionEvent = (executionArn: string, event: ExecutionEvent): void => {
  const name = executionArn.slice(executionArn.lastIndexOf(':') + 1);
  let trace = traces.get(name);
  if (trace === undefined) traces.set(name, (trace = { entered: [], retries: 0 }));
  if (event.type === 'StateEntered') trace.entered.push(event.state.name);
  else if (event.type === 'StateRetried') trace.retries += 1;
  else if (event.type.startsWith('Execution') && event.type !== 'ExecutionStarted') trace.ended = event.type;
};

const dataDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-bench-'));
let counter: DynamoCounter | undefined;
const started = performance.now();
console.log(`starting the local stack (in memory) in ${dataDir}...`);
const stack = await startLocalStack({
  dataDir,
  port: 0,
  inMemory: true,
  // Far beyond the run: the reconciler must not add reads, writes or executions of its own.
  reconcileEveryMs: 24 * 3600_000,
  dynamoEndpointFor: async (endpoint) => {
    counter = await startDynamoCounter(endpoint);
    return counter.endpoint;
  },
  onExecutionEvent,
}).catch(async (error: unknown) => {
  // The stack stopped what it started; the proxy is ours to close.
  await counter?.close();
  rmSync(dataDir, { recursive: true, force: true });
  throw error;
});
const dynamo = counter!;
console.log(`started in ${ms(performance.now() - started)}; API ${stack.apiUrl}`);

const phases: PhaseResult[] = [];
let bundles: BundleSize[] = [];
try {
  await runPhase('warm-up', WARM_UP, 1); // first calls build clients and open connections
  phases.push(await runPhase('sequential', N, 1));
  phases.push(await runPhase(`concurrent (${CONCURRENCY})`, N, CONCURRENCY));
  phases.push(await quietPhase(QUIET_N));
} finally {
  await stack.stop();
  await dynamo.close();
}
const bundleDir = path.join(dataDir, 'bundles');
bundles = await measureBundles(bundleDir);
rmSync(dataDir, { recursive: true, force: true });

report(phases, bundles);
if (overlappingDimensionWarnings.count > 0) {
  console.log(
    `\n(${overlappingDimensionWarnings.count} Powertools warnings 'Dimension "..." has already been added' were muted: the local` +
      ' stack runs every function in one process, so concurrent invocations share one Metrics instance.)',
  );
}
console.log(`\ntotal ${ms(performance.now() - started)}`);

// ---------------------------------------------------------------------------------------------

/** `total` checkouts, `concurrency` at a time, each POSTed then polled until it ends. */
async function runPhase(name: string, total: number, concurrency: number): Promise<PhaseResult> {
  await stack.idle();
  dynamo.reset();
  const outcomes: Outcome[] = [];
  let next = 0;
  const begun = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) {
        next += 1;
        outcomes.push(await checkout(`bench-${name.split(' ')[0]}-${next}`));
      }
    }),
  );
  const wallMs = performance.now() - begun;
  await stack.idle();
  const result = { name, outcomes, wallMs, dynamo: dynamo.counts() };
  await settleTraces(outcomes);
  return result;
}

/**
 * `total` checkouts, one at a time, waited for with `idle()` instead of GET polls, so that the
 * DynamoDB counts are exactly what one checkout (POST, authorizer, saga) costs.
 */
async function quietPhase(total: number): Promise<PhaseResult> {
  await stack.idle();
  dynamo.reset();
  const outcomes: Outcome[] = [];
  const begun = performance.now();
  for (let i = 1; i <= total; i++) {
    const { status, body } = await call('POST', '/v1/payments', paymentBody(`bench-quiet-${i}`));
    outcomes.push(status === 201 ? { paymentNo: body.payment_no, polls: 0 } : { failure: `POST ${status}`, polls: 0 });
    await stack.idle();
  }
  const wallMs = performance.now() - begun;
  const counts = dynamo.counts();
  // Checked after counting: these GETs are not part of the checkout's cost.
  for (const outcome of outcomes) {
    if (outcome.paymentNo === undefined) continue;
    const { body } = await call('GET', `/v1/payments/${outcome.paymentNo}`);
    if (body?.status !== 'succeeded') outcome.failure = `ended ${body?.status}`;
  }
  await settleTraces(outcomes);
  return { name: 'no polling', outcomes, wallMs, dynamo: counts };
}

async function checkout(orderPrefix: string): Promise<Outcome> {
  const begun = performance.now();
  const created = await call('POST', '/v1/payments', paymentBody(orderPrefix));
  if (created.status !== 201) return { failure: `POST ${created.status} ${created.body?.error?.code ?? ''}`.trim(), polls: 0 };
  const paymentNo: string = created.body.payment_no;
  let polls = 0;
  while (performance.now() - begun < CHECKOUT_TIMEOUT_MS) {
    await sleep(POLL_EVERY_MS);
    polls += 1;
    const { status, body } = await call('GET', `/v1/payments/${paymentNo}`);
    if (status !== 200) return { paymentNo, failure: `GET ${status}`, polls };
    if (body.status === 'succeeded') return { paymentNo, latencyMs: performance.now() - begun, polls };
    if (body.status === 'failed' || body.status === 'canceled') {
      return { paymentNo, failure: `ended ${body.status} ${body.decline_code ?? ''}`.trim(), polls };
    }
  }
  return { paymentNo, failure: `not succeeded after ${CHECKOUT_TIMEOUT_MS} ms`, polls };
}

function paymentBody(orderPrefix: string) {
  return {
    order_no: `${orderPrefix}-${process.pid}-${Date.now().toString(36)}`,
    amount: 1999,
    currency: 'USD',
    payment_method: 'pm_card_visa',
  };
}

async function call(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  try {
    const response = await fetch(`${stack.apiUrl}${route}`, {
      method,
      headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  } catch (error) {
    return { status: 0, body: { error: { code: error instanceof Error ? error.message : String(error) } } };
  }
}

/** Events arrive asynchronously: wait (briefly) until every execution of the phase has ended. */
async function settleTraces(outcomes: Outcome[]): Promise<void> {
  const deadline = performance.now() + 2000;
  const names = outcomes.flatMap((o) => (o.paymentNo ? [o.paymentNo] : []));
  while (performance.now() < deadline && names.some((name) => traces.get(name)?.ended === undefined)) await sleep(5);
}

// ---------------------------------------------------------------------------------------------

function report(results: PhaseResult[], sizes: BundleSize[]): void {
  const pollPhases = results.filter((phase) => phase.name !== 'no polling');
  const quiet = results.find((phase) => phase.name === 'no polling')!;
  const perPayment = (phase: PhaseResult, value: number) => fixed(value / Math.max(1, phase.outcomes.length), 2);

  console.log(
    `\nCheckout: POST /v1/payments (pm_card_visa), then GET every ${POLL_EVERY_MS} ms until succeeded` +
      ` (${WARM_UP} warm-up checkouts not counted)\n`,
  );
  printTable(
    ['', ...pollPhases.map((p) => p.name), `${quiet.name} (idle())`],
    [
      ['checkouts', ...results.map((p) => String(p.outcomes.length))],
      ['failures', ...results.map((p) => String(p.outcomes.filter((o) => o.failure).length))],
      ...(['p50', 'p99', 'max'] as const).map((label) => [
        `latency ${label}`,
        ...pollPhases.map((p) => latency(p, label)),
        '-',
      ]),
      ['throughput', ...results.map((p) => `${fixed((p.outcomes.length / p.wallMs) * 1000, 1)}/s`)],
      ['GET polls / payment', ...results.map((p) => perPayment(p, sum(p.outcomes.map((o) => o.polls))))],
      ['DynamoDB write requests / payment', ...results.map((p) => perPayment(p, p.dynamo.writeRequests))],
      ['DynamoDB item writes / payment', ...results.map((p) => perPayment(p, p.dynamo.writeItems))],
      ['DynamoDB read requests / payment', ...results.map((p) => perPayment(p, p.dynamo.readRequests))],
    ],
  );

  const failures = results.flatMap((p) => p.outcomes.flatMap((o) => (o.failure ? [`${p.name}: ${o.failure}`] : [])));
  if (failures.length > 0) {
    console.log('\nFailures:');
    for (const [failure, times] of tally(failures)) console.log(`  ${times} x ${failure}`);
  }

  console.log(`\nDynamoDB requests per checkout without polling (${quiet.outcomes.length} payments), by operation:`);
  printTable(
    ['operation', 'requests / payment'],
    Object.entries(quiet.dynamo.byOperation)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([operation, requests]) => [operation, perPayment(quiet, requests)]),
  );
  const refused = Object.entries(quiet.dynamo.refused);
  if (refused.length > 0) {
    console.log('  refused by DynamoDB (still billed):');
    for (const [what, times] of refused) console.log(`    ${what}: ${perPayment(quiet, times)} / payment`);
  }

  const succeeded = results.flatMap((p) => p.outcomes.filter((o) => !o.failure && o.paymentNo)).map((o) => o.paymentNo!);
  const succeededTraces = succeeded.flatMap((name) => {
    const trace = traces.get(name);
    return trace ? [trace] : [];
  });
  console.log(`\nStep Functions state transitions per succeeded payment (${succeededTraces.length} executions):`);
  const entered = succeededTraces.map((t) => t.entered.length);
  const retries = succeededTraces.map((t) => t.retries);
  printTable(
    ['', 'average', 'min', 'max'],
    [
      ['states entered', fixed(avg(entered), 2), String(Math.min(...entered)), String(Math.max(...entered))],
      ['retries', fixed(avg(retries), 2), String(Math.min(...retries)), String(Math.max(...retries))],
    ],
  );
  for (const [pathTaken, times] of tally(succeededTraces.map((t) => t.entered.join(' -> ')))) {
    console.log(`  ${times} x ${pathTaken}`);
  }

  console.log('\nLambda bundles (esbuild, the options of lib/lambda-functions.ts):');
  printTable(
    ['function', 'entry', 'index.mjs KB', 'gzip KB', '.map KB', 'largest parts (KB)'],
    sizes.map((size) => [
      size.name,
      size.entry,
      kb(size.bytes),
      kb(size.gzipBytes),
      kb(size.sourceMapBytes),
      size.contributors
        .slice(0, 4)
        .map((c) => `${c.source} ${kb(c.bytes)}`)
        .join(', '),
    ]),
    [1, 5],
  );
}

function latency(phase: PhaseResult, which: 'p50' | 'p99' | 'max'): string {
  const sorted = phase.outcomes.flatMap((o) => (o.latencyMs === undefined ? [] : [o.latencyMs])).sort((a, b) => a - b);
  if (sorted.length === 0) return '-';
  const rank = which === 'max' ? sorted.length : Math.ceil((which === 'p50' ? 0.5 : 0.99) * sorted.length);
  return ms(sorted[rank - 1]!);
}

/** Column 0 and the columns named in `left` are left-aligned; the others (figures) right-aligned. */
function printTable(header: string[], rows: string[][], left: number[] = []): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === 0 || left.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`.trimEnd();
  console.log(line(header));
  console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(line(row));
}

function tally(values: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

/**
 * The local stack runs all handlers in this process, where overlapping invocations add their
 * `route`/`step` dimension to the one shared Metrics instance and Powertools warns on stderr
 * for each. On Lambda an instance serves one invocation at a time. Counted, not printed.
 */
function muteOverlappingDimensionWarnings(): { count: number } {
  const muted = { count: 0 };
  const warning = /^Dimension "[^"]+" has already been added\. The previous value will be overwritten\.\n?$/;
  const write = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && warning.test(chunk)) {
      muted.count += 1;
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  return muted;
}

function positiveInt(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${variable} must be a positive integer, got ${raw}`);
    process.exit(1);
  }
  return value;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
function avg(values: number[]): number {
  return values.length === 0 ? 0 : sum(values) / values.length;
}
function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}
function kb(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}
function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(1)} ms`;
}
