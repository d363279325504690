/**
 * `npm run bench`: the payment checkout on the local stack, measured from outside. Prints
 * figures; asserts nothing about timings. See bench/README.md for what each figure means.
 *
 *   BENCH_N=200 BENCH_CONCURRENCY=50 npm run bench
 */
import { rmSync } from 'node:fs';
import { cpuMsOfProcessTree } from './cpu-meter.ts';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { costPerThousandPayments, usagePerPayment } from './cost.ts';
import type { DynamoCounts } from './dynamo-counter.ts';
import type { LocalStack } from '../local/local-stack.ts';
import {
  type CountedBenchStack,
  apiClient,
  envInt,
  fixed,
  ms,
  paymentBody,
  percentile,
  printTable,
  startCountedBenchStack,
  tally,
} from './support.ts';
import type { ExecutionEvent } from '../local/services/stepfunctions-local.ts';

const N = envInt('BENCH_N', 50);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 25);
/** Payments run without polling, to count what one checkout costs in DynamoDB by itself. */
const QUIET_N = Math.min(N, 20);
const WARM_UP = 3;
/** `BENCH_BASELINE=0` skips the stack without isolation. */
const BASELINE = process.env.BENCH_BASELINE !== '0';
/** Rounds each phase is split into, alternating which stack runs first. */
const ROUNDS = envInt('BENCH_ROUNDS', 4);
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
  /** CPU of the benchmark's process tree (the stacks, their JVMs and providers, the client) during the phase. */
  cpuMs: number;
  dynamo: DynamoCounts;
  /** What each function was invoked for during the phase (the no polling phase only). */
  functions?: FunctionUse[];
}

type FunctionUse = Pick<ReturnType<LocalStack['lambdaStats']>[number], 'constructId' | 'invocations' | 'handlerMs' | 'memoryMb'>;

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

/** A stack the phases run on: as deployed, or the baseline without isolation. */
interface Run {
  readonly label: string;
  readonly bench: CountedBenchStack;
  readonly call: ReturnType<typeof apiClient>;
}

const started = performance.now();
const runs: Run[] = [];
const phases: PhaseResult[] = [];
let functions: ReturnType<LocalStack['lambdaStats']> = [];
try {
  const configurations: [string, 'worker-threads' | 'none'][] = [['', 'worker-threads'], ...(BASELINE ? [[', no isolation', 'none'] as [string, 'none']] : [])];
  for (const [label, isolation] of configurations) {
    const bench = await startCountedBenchStack({ onExecutionEvent, isolation });
    runs.push({ label, bench, call: apiClient(bench.stack) });
  }
  // Each phase runs on both stacks, one after the other, so that both meet the same machine.
  for (const run of runs) await runPhase(run, 'warm-up', WARM_UP, 1); // first calls start instances and open connections
  phases.push(...(await interleaved('sequential', 1)));
  phases.push(...(await interleaved(`concurrent (${CONCURRENCY})`, CONCURRENCY)));
  phases.push(await quietPhase(runs[0]!, QUIET_N));
  functions = runs[0]!.bench.stack.lambdaStats();
} finally {
  for (const run of runs) {
    await run.bench.stop();
    rmSync(run.bench.dataDir, { recursive: true, force: true });
  }
}

report(phases, functions);
if (BASELINE) reportIsolationCost(phases);
reportInstances(functions);
console.log(`\ntotal ${ms(performance.now() - started)}`);

// ---------------------------------------------------------------------------------------------

/**
 * The phase on every stack, `N` checkouts each, in {@link ROUNDS} rounds that alternate which
 * stack goes first (ABBA...): the load other work puts on the machine changes over seconds,
 * and this spreads it over both alike.
 */
async function interleaved(phase: string, concurrency: number): Promise<PhaseResult[]> {
  const results = new Map<Run, PhaseResult[]>(runs.map((run) => [run, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const total = Math.floor(N / ROUNDS) + (round < N % ROUNDS ? 1 : 0);
    for (const run of round % 2 === 0 ? runs : [...runs].reverse()) {
      results.get(run)!.push(await runPhase(run, phase, total, concurrency, `r${round}`));
    }
  }
  return runs.map((run) => merged(results.get(run)!));
}

function merged(parts: PhaseResult[]): PhaseResult {
  const add = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].map((key) => [key, (a[key] ?? 0) + (b[key] ?? 0)]));
  return parts.reduce((sum, part) => ({
    name: sum.name,
    outcomes: [...sum.outcomes, ...part.outcomes],
    wallMs: sum.wallMs + part.wallMs,
    cpuMs: sum.cpuMs + part.cpuMs,
    dynamo: {
      writeRequests: sum.dynamo.writeRequests + part.dynamo.writeRequests,
      writeItems: sum.dynamo.writeItems + part.dynamo.writeItems,
      transactionalWriteItems: sum.dynamo.transactionalWriteItems + part.dynamo.transactionalWriteItems,
      readRequests: sum.dynamo.readRequests + part.dynamo.readRequests,
      readItems: sum.dynamo.readItems + part.dynamo.readItems,
      transactionalReadItems: sum.dynamo.transactionalReadItems + part.dynamo.transactionalReadItems,
      consistentReadItems: sum.dynamo.consistentReadItems + part.dynamo.consistentReadItems,
      byOperation: add(sum.dynamo.byOperation, part.dynamo.byOperation),
      refused: add(sum.dynamo.refused, part.dynamo.refused),
      byCaller: Object.fromEntries(
        [...new Set([...Object.keys(sum.dynamo.byCaller), ...Object.keys(part.dynamo.byCaller)])].map((caller) => {
          const [a, b] = [sum.dynamo.byCaller[caller], part.dynamo.byCaller[caller]];
          return [caller, { writeRequests: (a?.writeRequests ?? 0) + (b?.writeRequests ?? 0), writeItems: (a?.writeItems ?? 0) + (b?.writeItems ?? 0), readRequests: (a?.readRequests ?? 0) + (b?.readRequests ?? 0) }];
        }),
      ),
    },
  }));
}

/** `total` checkouts, `concurrency` at a time, each POSTed then polled until it ends. */
async function runPhase({ label, bench: { stack, dynamo }, call }: Run, phase: string, total: number, concurrency: number, round = ''): Promise<PhaseResult> {
  const name = `${phase}${label}`;
  await stack.idle();
  dynamo.reset();
  const outcomes: Outcome[] = [];
  let next = 0;
  const cpuBefore = cpuMsOfProcessTree();
  const begun = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) {
        next += 1;
        outcomes.push(await checkout(call, `bench-${phase.split(' ')[0]}${round}-${next}`));
      }
    }),
  );
  const wallMs = performance.now() - begun;
  await stack.idle();
  const result = { name, outcomes, wallMs, cpuMs: cpuMsOfProcessTree() - cpuBefore, dynamo: dynamo.counts() };
  await settleTraces(outcomes);
  return result;
}

/**
 * `total` checkouts, one at a time, waited for with `idle()` instead of GET polls, so that the
 * DynamoDB counts are exactly what one checkout (POST, authorizer, saga) costs.
 */
async function quietPhase({ bench: { stack, dynamo }, call }: Run, total: number): Promise<PhaseResult> {
  await stack.idle();
  dynamo.reset();
  const functionsBefore = stack.lambdaStats();
  const outcomes: Outcome[] = [];
  const cpuBefore = cpuMsOfProcessTree();
  const begun = performance.now();
  for (let i = 1; i <= total; i++) {
    const { status, body } = await call('POST', '/v1/payments', paymentBody(`bench-quiet-${i}`));
    outcomes.push(status === 201 ? { paymentNo: body.payment_no, polls: 0 } : { failure: `POST ${status}`, polls: 0 });
    await stack.idle();
  }
  const wallMs = performance.now() - begun;
  const cpuMs = cpuMsOfProcessTree() - cpuBefore;
  const counts = dynamo.counts();
  const functions = stack.lambdaStats().map(({ constructId, invocations, handlerMs, memoryMb }) => {
    const before = functionsBefore.find((fn) => fn.constructId === constructId);
    return { constructId, memoryMb, invocations: invocations - (before?.invocations ?? 0), handlerMs: handlerMs - (before?.handlerMs ?? 0) };
  });
  // Checked after counting: these GETs are not part of the checkout's cost.
  for (const outcome of outcomes) {
    if (outcome.paymentNo === undefined) continue;
    const { body } = await call('GET', `/v1/payments/${outcome.paymentNo}`);
    if (body?.status !== 'succeeded') outcome.failure = `ended ${body?.status}`;
  }
  await settleTraces(outcomes);
  return { name: 'no polling', outcomes, wallMs, cpuMs, dynamo: counts, functions: functions.filter((fn) => fn.invocations > 0) };
}

async function checkout(call: Run['call'], orderPrefix: string): Promise<Outcome> {
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

/** Events arrive asynchronously: wait (briefly) until every execution of the phase has ended. */
async function settleTraces(outcomes: Outcome[]): Promise<void> {
  const deadline = performance.now() + 2000;
  const names = outcomes.flatMap((o) => (o.paymentNo ? [o.paymentNo] : []));
  while (performance.now() < deadline && names.some((name) => traces.get(name)?.ended === undefined)) await sleep(5);
}

// ---------------------------------------------------------------------------------------------

function report(results: PhaseResult[], functions: ReturnType<LocalStack['lambdaStats']>): void {
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
      ['CPU / checkout', ...results.map((p) => ms(p.cpuMs / Math.max(1, p.outcomes.length)))],
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
  // Each function signs with its own role session's key: the counts by key are the counts by function.
  const functionOfKey = new Map(functions.map((fn) => [runs[0]!.bench.stack.environmentOf(fn.constructId)['AWS_ACCESS_KEY_ID'], fn.constructId]));
  const byFunction = Object.entries(quiet.dynamo.byCaller)
    .map(([key, counts]) => [functionOfKey.get(key) ?? key, counts] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  console.log(`\nThe same, by the function that sent them:`);
  printTable(
    ['function', 'write requests / payment', 'item writes / payment', 'read requests / payment'],
    byFunction.map(([fn, counts]) => [fn, perPayment(quiet, counts.writeRequests), perPayment(quiet, counts.writeItems), perPayment(quiet, counts.readRequests)]),
  );
  // Fed by the table's stream, after the checkout answered: counted apart from the checkout's own requests.
  const offPath = [
    { name: "the ledger (LedgerPoster, from the table's stream)", functions: ['LedgerPoster'] },
    { name: 'the events and their webhook deliveries (EventPublisher, DeliverWebhook, GiveUpWebhook)', functions: ['EventPublisher', 'DeliverWebhook', 'GiveUpWebhook'] },
  ];
  const checkout = { writeRequests: quiet.dynamo.writeRequests, writeItems: quiet.dynamo.writeItems, readRequests: quiet.dynamo.readRequests };
  for (const group of offPath) {
    const counts = byFunction.filter(([fn]) => group.functions.includes(fn)).map(([, c]) => c);
    const sum = (pick: (c: (typeof counts)[number]) => number) => counts.reduce((total, c) => total + pick(c), 0);
    const [writeRequests, writeItems, readRequests] = [sum((c) => c.writeRequests), sum((c) => c.writeItems), sum((c) => c.readRequests)];
    checkout.writeRequests -= writeRequests;
    checkout.writeItems -= writeItems;
    checkout.readRequests -= readRequests;
    console.log(
      `  ${group.name}, off the checkout's path: ${perPayment(quiet, writeRequests)} write requests, ` +
        `${perPayment(quiet, writeItems)} item writes, ${perPayment(quiet, readRequests)} read requests / payment`,
    );
  }
  console.log(
    `  the checkout itself (the POST, the authorizer, the saga): ${perPayment(quiet, checkout.writeRequests)} write requests, ` +
      `${perPayment(quiet, checkout.writeItems)} item writes, ${perPayment(quiet, checkout.readRequests)} read requests / payment`,
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
  reportCost(quiet);
}

/** What the no polling phase's payments would cost on AWS, from its own counts (bench/cost.ts, docs/capacity.md). */
function reportCost(quiet: PhaseResult): void {
  const paid = quiet.outcomes.filter((o) => !o.failure && o.paymentNo !== undefined);
  const executions = paid.flatMap((o) => traces.get(o.paymentNo!) ?? []);
  const usage = usagePerPayment({
    payments: quiet.outcomes.length,
    // One POST each: the no polling phase sends no GET while it counts.
    apiRequests: quiet.outcomes.length,
    functions: quiet.functions ?? [],
    dynamo: quiet.dynamo,
    stateTransitions: sum(executions.map((t) => t.entered.length + t.retries)),
  });
  const { lines, totalUsd } = costPerThousandPayments(usage);
  console.log(`\nInvocations and handler time per payment without polling (${quiet.outcomes.length} payments):`);
  printTable(
    ['function', 'invocations / payment', 'handler ms / payment'],
    (quiet.functions ?? []).map((fn) => [fn.constructId, fixed(fn.invocations / quiet.outcomes.length, 2), fixed(fn.handlerMs / quiet.outcomes.length, 1)]),
  );
  console.log(`\nCost per 1,000 payments on AWS (us-east-1 on-demand prices, no free tier; bench/cost.ts), from the same payments' counts:`);
  printTable(
    ['item', 'quantity / 1,000 payments', 'price', 'USD / 1,000 payments'],
    [
      ...lines.map((line) => [line.item, fixed(line.quantity, 1), `$${line.price.usd} / ${line.price.per.toLocaleString('en-US')}`, fixed(line.usd, 5)]),
      ['total', '', '', fixed(totalUsd, 5)],
    ],
  );
}

/** Each polling phase as deployed against the same phase without isolation, run just after it. */
function reportIsolationCost(results: PhaseResult[]): void {
  const throughput = (phase: PhaseResult) => (phase.outcomes.length / phase.wallMs) * 1000;
  const p50 = (phase: PhaseResult) =>
    percentile(phase.outcomes.flatMap((o) => (o.latencyMs === undefined ? [] : [o.latencyMs])).sort((a, b) => a - b), 0.5) ?? Number.NaN;
  const cpuPerCheckout = (phase: PhaseResult) => phase.cpuMs / phase.outcomes.length;
  console.log('\nWhat the isolation costs (as deployed ÷ no isolation, measured one after the other in this run):');
  printTable(
    ['phase', 'throughput ratio', 'latency p50 ratio', 'CPU / checkout ratio'],
    results.flatMap((deployed) => {
      const baseline = results.find((phase) => phase.name === `${deployed.name}, no isolation`);
      return baseline === undefined ? [] : [
            [
              deployed.name,
              fixed(throughput(deployed) / throughput(baseline), 2),
              fixed(p50(deployed) / p50(baseline), 2),
              fixed(cpuPerCheckout(deployed) / cpuPerCheckout(baseline), 2),
            ],
          ];
    }),
  );
}

/** What the Lambda host measured of each function the run invoked. */
function reportInstances(functions: ReturnType<LocalStack['lambdaStats']>): void {
  const p50 = (values: readonly number[]) => {
    const value = percentile([...values].sort((a, b) => a - b), 0.5);
    return value === undefined ? '-' : ms(value);
  };
  console.log('\nLambda host (each instance a worker thread running the bundle of cdk.out), every phase together:');
  printTable(
    ['function', 'invocations', 'cold starts', 'cold start p50', 'warm overhead p50'],
    functions
      .filter((fn) => fn.invocations > 0)
      .map((fn) => [fn.constructId, String(fn.invocations), String(fn.coldStartsMs.length), p50(fn.coldStartsMs), p50(fn.warmOverheadsMs)]),
  );
}

function latency(phase: PhaseResult, which: 'p50' | 'p99' | 'max'): string {
  const sorted = phase.outcomes.flatMap((o) => (o.latencyMs === undefined ? [] : [o.latencyMs])).sort((a, b) => a - b);
  const value = percentile(sorted, which === 'max' ? 1 : which === 'p50' ? 0.5 : 0.99);
  return value === undefined ? '-' : ms(value);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
function avg(values: number[]): number {
  return values.length === 0 ? 0 : sum(values) / values.length;
}
