/**
 * `npm run bench`, after the checkout: the duplicate storm. N identical `POST /v1/payments` (one
 * Idempotency-Key, one body), C at a time, answered by Chargeonce's own handler and by a
 * Powertools idempotency baseline around the same route logic, on the local stack. Prints
 * figures side by side; asserts nothing. See bench/README.md for what each figure means.
 *
 *   BENCH_STORM_N=2000 BENCH_STORM_CONCURRENCY=50 npx tsx bench/storm.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateTableCommand, DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { ledger } from '../local/fake-provider/client.ts';
import { localArn } from '../local/assembly/local-account.ts';
import { readCloudAssembly } from '../local/assembly/cloud-assembly.ts';
import { ensureAssembly } from '../local/assembly/synthesize.ts';
import type { LocalStackOptions } from '../local/local-stack.ts';
import { localClientConfig } from '../local/services/dynamodb-local.ts';
import { bundleFunction } from './bundle-sizes.ts';
import type { DynamoCounts } from './dynamo-counter.ts';
import { BaselineEnv } from './powertools-baseline-env.ts';
import { assemblyWith, roleOf, withGrant } from '../test/support/synthesized-template.ts';
import { type CountedBenchStack, apiClient, envInt, fixed, ms, paymentBody, percentile, printTable, startCountedBenchStack, tally } from './support.ts';

const N = envInt('BENCH_STORM_N', 10_000, 0);
const CONCURRENCY = envInt('BENCH_STORM_CONCURRENCY', 100);
/** 1: the baseline keeps finished records in memory too (Powertools' `useLocalCache`, off by default). */
const BASELINE_LOCAL_CACHE = envInt('BENCH_BASELINE_LOCAL_CACHE', 0, 0) === 1;
if (N === 0) {
  console.log('\nDuplicate storm skipped (BENCH_STORM_N=0).');
  process.exit(0);
}
/** Each handler's first storm, not counted: clients built, connections open, code paths warm. */
const WARM_UP = Math.min(N, 200);
const IDEMPOTENCY_TABLE = 'chargeonce-bench-idempotency';

interface Answer {
  status: number;
  latencyMs: number;
  paymentNo?: string;
  /** The error code of an error answer. */
  code?: string;
}

interface StormResult {
  name: string;
  answers: Answer[];
  wallMs: number;
  /** One request alone with a fresh key, its saga included: what the storm's creating request costs. */
  first: DynamoCounts;
  /** The storm, its saga included. */
  storm: DynamoCounts;
  /** Payment items stored for the storm's order_no. */
  stored: string[];
  /** Captures at the provider for those payments. */
  captures: number;
  /** First request and storm, each waited for until its saga ended. */
  elapsedMs: number;
}

const started = performance.now();

// Each handler answers on a stack of its own: Chargeonce's bundle from cdk.out, or the baseline's
// bundle serving the route in its place.
const baselineDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-baseline-'));
await bundleFunction('bench/powertools-baseline.ts', baselineDir);
const noOpDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-no-op-'));
await bundleFunction('bench/no-op-route.ts', noOpDir);
// The baseline keeps its records in a table of its own: a copy of the template grants its function that table too.
const synthesized = await ensureAssembly();
const { template } = readCloudAssembly(synthesized);
const baselineGrant = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'].map((action) => `dynamodb:${action}`);
const baselineAssembly = assemblyWith(
  synthesized,
  withGrant(template, roleOf(template, 'CreatePayment'), baselineGrant, [localArn('dynamodb', `table/${IDEMPOTENCY_TABLE}`)]),
  baselineDir,
);
const contenders: { name: string; tag: string; options?: Pick<LocalStackOptions, 'cdkOut' | 'replaceCode'> }[] = [
  { name: 'chargeonce', tag: 'chargeonce' },
  {
    name: BASELINE_LOCAL_CACHE ? 'powertools (local cache)' : 'powertools baseline',
    tag: 'powertools',
    options: {
      cdkOut: baselineAssembly,
      replaceCode: {
        CreatePayment: {
          codeDir: baselineDir,
          environment: { [BaselineEnv.Table]: IDEMPOTENCY_TABLE, [BaselineEnv.LocalCache]: BASELINE_LOCAL_CACHE ? '1' : '0' },
        },
      },
    },
  },
];
const results: StormResult[] = [];
let warmUpMs = 0;
let ceiling: Ceiling | undefined;
try {
  for (const { name, tag, options } of contenders) {
    const bench = await startCountedBenchStack(options);
    try {
      if (options !== undefined) await createIdempotencyTable(bench.dynamoDbLocal, IDEMPOTENCY_TABLE);
      // Its instances start and warm before it is measured.
      const warmUpBegun = performance.now();
      await storm(bench, WARM_UP, `storm-warm-up-${tag}`);
      await bench.stack.idle();
      warmUpMs += performance.now() - warmUpBegun;
      results.push(await measure(bench, name, `storm-${tag}`));
    } finally {
      await bench.stop();
      rmSync(bench.dataDir, { recursive: true, force: true });
    }
  }
  ceiling = await measureCeiling();
} finally {
  rmSync(baselineDir, { recursive: true, force: true });
  rmSync(noOpDir, { recursive: true, force: true });
}

report(results);
reportCeiling(ceiling, results);
console.log(`\ntotal ${ms(performance.now() - started)}`);

// ---------------------------------------------------------------------------------------------

interface Ceiling {
  readonly answers: Answer[];
  readonly wallMs: number;
}

/** The same storm answered by the no-op route (bench/no-op-route.ts) on a stack of its own, after the same warm-up. */
async function measureCeiling(): Promise<Ceiling> {
  const bench = await startCountedBenchStack({ replaceCode: { CreatePayment: { codeDir: noOpDir } } });
  try {
    await storm(bench, WARM_UP, 'storm-warm-up-no-op');
    const begun = performance.now();
    const { answers } = await storm(bench, N, 'storm-no-op');
    return { answers, wallMs: performance.now() - begun };
  } finally {
    await bench.stop();
    rmSync(bench.dataDir, { recursive: true, force: true });
  }
}

/** The ceiling's figures, and each handler's throughput as a share of it. */
function reportCeiling(noOp: Ceiling, phases: StormResult[]): void {
  const throughput = (phase: { answers: Answer[]; wallMs: number }) => (phase.answers.length / phase.wallMs) * 1000;
  const sorted = noOp.answers.map((a) => a.latencyMs).sort((a, b) => a - b);
  const failed = noOp.answers.filter((a) => a.status !== 200).length;
  console.log(
    `\nThe ceiling: the same storm answered by a no-op route (bench/no-op-route.ts) behind the same gateway and authorizer: ` +
      `${fixed(throughput(noOp), 0)}/s, latency p50 ${ms(percentile(sorted, 0.5)!)}, p99 ${ms(percentile(sorted, 0.99)!)}` +
      `${failed > 0 ? `, ${failed} answers other than 200` : ''}.`,
  );
  for (const phase of phases) console.log(`  ${phase.name}: ${fixed((100 * throughput(phase)) / throughput(noOp), 0)}% of it`);
}

async function measure(bench: CountedBenchStack, name: string, orderPrefix: string): Promise<StormResult> {
  const { stack, dynamo } = bench;
  const begun = performance.now();
  await stack.idle();
  dynamo.reset();
  await storm(bench, 1, `${orderPrefix}-first`);
  await stack.idle();
  const first = dynamo.counts();

  dynamo.reset();
  const stormBegun = performance.now();
  const { answers, orderNo } = await storm(bench, N, orderPrefix);
  const wallMs = performance.now() - stormBegun;
  // The saga of the storm's payment runs during the storm: its requests count in both `first`
  // and `storm`, and so cancel out per duplicate.
  await stack.idle();
  const counts = dynamo.counts();

  const stored = await storedPayments(bench, orderNo);
  const intents = (await ledger(stack.providerUrl)).paymentIntents.filter((pi) => stored.includes(pi.metadata.payment_no ?? ''));
  const captures = intents.reduce((total, pi) => total + pi.captures.length, 0);
  return { name, answers, wallMs, first, storm: counts, stored, captures, elapsedMs: performance.now() - begun };
}

/** `total` identical requests, CONCURRENCY at a time: one new order, one new Idempotency-Key. */
async function storm(bench: CountedBenchStack, total: number, orderPrefix: string): Promise<{ answers: Answer[]; orderNo: string }> {
  const call = apiClient(bench.stack);
  const body = paymentBody(orderPrefix);
  const headers = { 'Idempotency-Key': `key-${body.order_no}` };
  const answers: Answer[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, total) }, async () => {
      while (sent < total) {
        sent += 1;
        const begun = performance.now();
        const { status, body: answer } = await call('POST', '/v1/payments', body, headers);
        answers.push({
          status,
          latencyMs: performance.now() - begun,
          ...(typeof answer?.payment_no === 'string' && { paymentNo: answer.payment_no }),
          ...(typeof answer?.error?.code === 'string' && { code: answer.error.code }),
        });
      }
    }),
  );
  return { answers, orderNo: body.order_no };
}

/** The payment_no of every payment item stored for `orderNo`, read from DynamoDB Local itself (not counted). */
async function storedPayments(bench: CountedBenchStack, orderNo: string): Promise<string[]> {
  const client = new DynamoDBClient({ ...localClientConfig, endpoint: bench.dynamoDbLocal });
  const paymentNos: string[] = [];
  try {
    for await (const page of paginateScan(
      { client },
      {
        TableName: bench.stack.tableName,
        FilterExpression: 'sk = :payment AND order_no = :order',
        ExpressionAttributeValues: { ':payment': { S: 'PAYMENT' }, ':order': { S: orderNo } },
        ProjectionExpression: 'payment_no',
      },
    )) {
      for (const item of page.Items ?? []) paymentNos.push(item['payment_no']?.S ?? '?');
    }
  } finally {
    client.destroy();
  }
  return paymentNos;
}

// ---------------------------------------------------------------------------------------------

function report(phases: StormResult[]): void {
  const [ours, baseline] = phases as [StormResult, StormResult];
  const duplicates = N - 1;
  const perDuplicate = (phase: StormResult, pick: (counts: DynamoCounts) => number) =>
    duplicates === 0 ? undefined : (pick(phase.storm) - pick(phase.first)) / duplicates;
  const latency = (phase: StormResult, q: number) =>
    percentile(
      phase.answers.map((a) => a.latencyMs).sort((a, b) => a - b),
      q,
    )!;
  const throughput = (phase: StormResult) => (phase.answers.length / phase.wallMs) * 1000;
  const distinct = (phase: StormResult, status?: number) =>
    new Set(phase.answers.flatMap((a) => (a.paymentNo && (status === undefined || a.status === status) ? [a.paymentNo] : []))).size;

  /** A figure of both phases, and chargeonce's divided by the baseline's. */
  const figure = (label: string, value: (phase: StormResult) => number | undefined, format: (value: number) => string) => {
    const [a, b] = [value(ours), value(baseline)];
    const ratio = a === undefined || b === undefined || b === 0 ? '-' : fixed(a / b, 2);
    return [label, a === undefined ? '-' : format(a), b === undefined ? '-' : format(b), ratio];
  };
  const count = (label: string, value: (phase: StormResult) => number) => [label, String(value(ours)), String(value(baseline)), '-'];
  const perRequest = (value: number) => fixed(value, 2);
  const statuses = [...new Set(phases.flatMap((p) => p.answers.map((a) => a.status)))].sort((a, b) => a - b);

  console.log(
    `\nDuplicate storm: ${N} identical POST /v1/payments (one Idempotency-Key, one body), ${CONCURRENCY} at a time` +
      ` (after a warm-up storm of ${WARM_UP} per handler, not counted)\n`,
  );
  printTable(
    ['', ours.name, baseline.name, `ratio (${ours.name} / baseline)`],
    [
      figure('requests', (p) => p.answers.length, String),
      figure('wall time', (p) => p.wallMs, ms),
      figure('throughput', throughput, (v) => `${fixed(v, 0)}/s`),
      figure('latency p50', (p) => latency(p, 0.5), ms),
      figure('latency p99', (p) => latency(p, 0.99), ms),
      figure('latency max', (p) => latency(p, 1), ms),
      ...statuses.map((status) => count(`HTTP ${status || 'no answer'}`, (p) => p.answers.filter((a) => a.status === status).length)),
      count('payments created (201, distinct payment_no)', (p) => distinct(p, 201)),
      count('distinct payment_no in all answers', (p) => distinct(p)),
      count('payment items stored for the order', (p) => p.stored.length),
      count('captures at the provider', (p) => p.captures),
      figure('DynamoDB write requests, first request + saga', (p) => p.first.writeRequests, String),
      figure('DynamoDB read requests, first request + saga', (p) => p.first.readRequests, String),
      figure('DynamoDB write requests / duplicate', (p) => perDuplicate(p, (c) => c.writeRequests), perRequest),
      figure('DynamoDB read requests / duplicate', (p) => perDuplicate(p, (c) => c.readRequests), perRequest),
    ],
  );

  const operations = [...new Set(phases.flatMap((p) => [...Object.keys(p.storm.byOperation), ...Object.keys(p.first.byOperation)]))].sort();
  const refusals = [...new Set(phases.flatMap((p) => [...Object.keys(p.storm.refused), ...Object.keys(p.first.refused)]))].sort();
  if (duplicates > 0) {
    console.log('\nDynamoDB requests per duplicate (storm minus first request, over N - 1), by operation:');
    printTable(
      ['operation', ours.name, baseline.name],
      [
        ...operations.map((op) => [op, ...phases.map((p) => perRequest(perDuplicate(p, (c) => c.byOperation[op] ?? 0)!))]),
        ...refusals.map((what) => [`refused: ${what}`, ...phases.map((p) => perRequest(perDuplicate(p, (c) => c.refused[what] ?? 0)!))]),
      ],
    );
  }

  const unexpected = phases.flatMap((p) =>
    p.answers.flatMap((a) =>
      a.status === 200 || a.status === 201 || (a.status === 409 && a.code === 'request_in_progress')
        ? []
        : [`${p.name}: HTTP ${a.status} ${a.code ?? ''}`.trim()],
    ),
  );
  if (unexpected.length > 0) {
    console.log('\nUnexpected answers (a 5xx is a failure):');
    for (const [answer, times] of tally(unexpected)) console.log(`  ${times} x ${answer}`);
  }
  const broken = phases.filter((p) => distinct(p, 201) !== 1 || distinct(p) !== 1 || p.stored.length !== 1 || p.captures !== 1);
  for (const phase of broken) console.log(`\n${phase.name}: NOT ONE PAYMENT (see the payment and capture rows above).`);

  console.log(
    `\nTime taken: warm-up ${ms(warmUpMs)}, ${phases.map((p) => `${p.name} ${ms(p.elapsedMs)}`).join(', ')}` +
      ' (first request and storm, each until its saga ended).',
  );
}

/** The table Powertools documents for its records: partition key `id` (S), on demand. */
async function createIdempotencyTable(dynamoDbEndpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ ...localClientConfig, endpoint: dynamoDbEndpoint });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } finally {
    client.destroy();
  }
}
