/**
 * What the benchmarks share: the local stack in memory (behind the DynamoDB counter where one counts), an HTTP
 * client for its API, and the printing of figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../local/local-stack.ts';
import { startDynamoCounter, type DynamoCounter } from './dynamo-counter.ts';

export interface BenchStack {
  readonly stack: LocalStack;
  /** DynamoDB Local itself, for set-up and checks that must not be counted. */
  readonly dynamoDbLocal: string;
  /** A fresh temporary folder; the caller removes it. */
  readonly dataDir: string;
  /** Stops the stack (and the counter, when there is one). */
  stop(): Promise<void>;
}

export interface CountedBenchStack extends BenchStack {
  /** Counts every request the handlers send to DynamoDB. */
  readonly dynamo: DynamoCounter;
}

type BenchStackOptions = Pick<LocalStackOptions, 'onExecutionEvent' | 'replaceCode' | 'cdkOut' | 'isolation' | 'reconcileAfterSeconds'>;

/**
 * Starts the local stack in memory on a free port, its functions' DynamoDB requests counted, the
 * reconciler's schedule pushed out of the way.
 */
export async function startCountedBenchStack(options: BenchStackOptions = {}): Promise<CountedBenchStack> {
  let counter: DynamoCounter | undefined;
  const bench = await startStack(options, async (endpoint) => {
    counter = await startDynamoCounter(endpoint);
    return counter.endpoint;
  }).catch(async (error: unknown) => {
    // The stack stopped what it started; the proxy is ours to close.
    await counter?.close();
    throw error;
  });
  const dynamo = counter!;
  return {
    ...bench,
    dynamo,
    stop: async () => {
      await bench.stop();
      await dynamo.close();
    },
  };
}

/**
 * The same stack with its functions calling DynamoDB Local directly: the counter is one more HTTP
 * hop on the stack's main thread for every request, which a run that counts nothing (the load)
 * should not pay.
 */
export function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  return startStack(options);
}

async function startStack(options: BenchStackOptions, dynamoEndpointFor?: (endpoint: string) => Promise<string>): Promise<BenchStack> {
  // The functions' log level: errors only.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-bench-'));
  let dynamoDbLocal = '';
  const begun = performance.now();
  console.log(`starting the local stack (in memory) in ${dataDir}...`);
  const stack = await startLocalStack({
    ...options,
    dataDir,
    port: 0,
    inMemory: true,
    // Far beyond the run: the reconciler must not add reads, writes or executions of its own.
    reconcileEveryMs: 24 * 3600_000,
    // The Lambda host's instances per function, to weigh parallelism against cold starts.
    ...(process.env.BENCH_MAX_INSTANCES !== undefined && { maxInstancesPerFunction: envInt('BENCH_MAX_INSTANCES', 0) }),
    dynamoEndpointFor: async (endpoint) => {
      dynamoDbLocal = endpoint;
      return dynamoEndpointFor === undefined ? endpoint : dynamoEndpointFor(endpoint);
    },
  }).catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  console.log(`started in ${ms(performance.now() - begun)}; API ${stack.apiUrl}`);
  return { stack, dynamoDbLocal, dataDir, stop: () => stack.stop() };
}

export interface ApiAnswer {
  /** 0 when no HTTP answer came (the error is in `body.error.code`). */
  status: number;
  body: any;
}

/** Calls the stack's API as its demo merchant. */
export function apiClient(stack: Pick<LocalStack, 'apiUrl' | 'apiKey'>) {
  return async (method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> => {
    try {
      const response = await fetch(`${stack.apiUrl}${route}`, {
        method,
        headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json', ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    } catch (error) {
      return { status: 0, body: { error: { code: error instanceof Error ? error.message : String(error) } } };
    }
  };
}

/** A `POST /v1/payments` body for a new order: the prefix, this process and the time make it unique. */
export function paymentBody(orderPrefix: string) {
  return {
    order_no: `${orderPrefix}-${process.pid}-${Date.now().toString(36)}`,
    amount: 1999,
    currency: 'USD',
    payment_method: 'pm_card_visa',
  };
}

/** Column 0 and the columns named in `left` are left-aligned; the others (figures) right-aligned. */
export function printTable(header: string[], rows: string[][], left: number[] = []): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === 0 || left.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`.trimEnd();
  console.log(line(header));
  console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(line(row));
}

export function tally(values: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

/** The nearest-rank percentile (`q` in 0..1) of ascending values; `q` 1 is the max. */
export function percentile(ascending: readonly number[], q: number): number | undefined {
  if (ascending.length === 0) return undefined;
  return ascending[Math.max(1, Math.ceil(q * ascending.length)) - 1];
}

/** An integer from the environment, at least `min`; anything else ends the process with a message. */
export function envInt(variable: string, fallback: number, min = 1): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(`${variable} must be an integer of at least ${min}, got ${raw}`);
    process.exit(1);
  }
  return value;
}

export function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}
export function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(1)} ms`;
}
