/**
 * `npm run bench:bundles` (part of `npm run bench`): every Lambda function's bundle, built as
 * the CDK app builds it, with its size and what fills it, its cold start and its warm
 * overhead, each in processes of its own with the environment the template gives the
 * function. Prints figures against the targets; asserts nothing. See bench/README.md.
 *
 *   BENCH_COLD_N=20 BENCH_BUNDLES=Authorize,GetPayment npm run bench:bundles
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import {
  apiRoutes,
  authorizerEntry,
  catalogFunctions,
  eventPublisherEntry,
  ledgerPosterEntry,
  reconcilerEntry,
  settleDayEntry,
  type CatalogFunction,
} from '../functions/catalog.ts';
import { EnvVar } from '../functions/config/env.ts';
import type { CfnTemplate } from '../local/assembly/intrinsics.ts';
import { synthesizeTemplate } from '../local/assembly/synthesize.ts';
import { bundleFileOf, measureBundles, type BundleSize } from './bundle-sizes.ts';
import { sampleStart } from './cold-start.ts';
import { envInt, percentile, printTable } from './support.ts';

/** Targets of issue 11, reported, not asserted. */
const TARGET_KB = { withoutProvider: 250, withProvider: 400 };
const TARGET_COLD_START_MS = 100;

const COLD_N = envInt('BENCH_COLD_N', 10);
const WARM_N = envInt('BENCH_WARM_N', 50);
const only = process.env.BENCH_BUNDLES?.split(',').filter((name) => name !== '');

interface Measured extends BundleSize {
  readonly callsProvider: boolean;
  /** Import to ready, ms, one per process. */
  readonly coldMs: number[];
  /** Warm invocations refused before any I/O, ms, from every process. */
  readonly warmMs: number[];
}

// Outside the project, so that nothing but the bundle itself (not the project's node_modules) can be imported.
const outDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-bundles-'));
try {
  const environments = environmentsFrom(synthesizeTemplate());
  const sizes = await measureBundles(outDir, catalogFunctions().filter(({ name }) => only === undefined || only.includes(name)));
  const measured: Measured[] = sizes.map((size) => ({
    ...size,
    callsProvider: EnvVar.StripeSecretArn in environments.get(size.name)!,
    coldMs: [],
    warmMs: [],
  }));
  const loadBefore = loadavg()[0]!;
  // One process at a time, two starting at once would time each other; round after round
  // over every function, so a change in the machine's load falls on all of them alike.
  for (let round = 0; round < COLD_N; round++) {
    for (const m of measured) {
      const sample = await sampleStart(bundleFileOf(outDir, m), environments.get(m.name)!, refusedEvent(m), WARM_N);
      m.coldMs.push(sample.importMs);
      m.warmMs.push(...sample.warmMs);
    }
  }
  report(measured);
  const authorizer = sizes.find((size) => size.entry === authorizerEntry);
  if (authorizer !== undefined) await reportOneRead(bundleFileOf(outDir, authorizer), environments.get(authorizer.name)!);
  console.log(`\nLoad average (1 min) on ${cpus().length} cores: ${loadBefore.toFixed(1)} before the samples, ${loadavg()[0]!.toFixed(1)} after.`);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}

/**
 * Each function's environment: its `Environment.Variables` in the template (references as
 * placeholders: nothing is called), and what Lambda sets itself.
 */
function environmentsFrom(template: CfnTemplate): Map<string, Record<string, string>> {
  const functions = Object.entries(template.Resources).filter(([, resource]) => resource.Type === 'AWS::Lambda::Function');
  const environments = new Map<string, Record<string, string>>();
  for (const { name } of catalogFunctions()) {
    // `Functions<name><hash>`: the logical id CDK gives the function `name` under `Functions`.
    const found = functions.filter(([id]) => new RegExp(`^Functions${name}[0-9A-F]{8}$`).test(id));
    if (found.length !== 1) throw new Error(`expected one function ${name} in the template, found ${found.length}`);
    const properties = found[0]![1].Properties as {
      MemorySize: number;
      Environment: { Variables: Record<string, unknown> };
    };
    const variables = Object.entries(properties.Environment.Variables).map(([key, value]) => [
      key,
      typeof value === 'string' ? value : JSON.stringify(value),
    ]);
    environments.set(name, {
      ...Object.fromEntries(variables),
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(properties.MemorySize),
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_ACCESS_KEY_ID: 'ASIABENCHBENCHBENCH',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_SESSION_TOKEN: 'bench',
      TZ: ':UTC',
    });
  }
  return environments;
}

/** An event the function answers without any I/O, or none when every event makes it call out (the scheduled ones). */
function refusedEvent({ name, entry }: CatalogFunction): unknown {
  // A route invoked without its authorizer's merchant: 401 before anything is read.
  if (apiRoutes.some((route) => route.id === name)) return { requestContext: { requestId: 'bench' }, headers: {}, body: null };
  // No key: refused before the key store is asked.
  if (entry === authorizerEntry) return { type: 'TOKEN', authorizationToken: '', methodArn: 'arn:aws:execute-api:eu-west-1:1:a/api/GET/x' };
  if (entry === reconcilerEntry || entry === settleDayEntry) return undefined;
  // A stream's batch with no records.
  if (entry === ledgerPosterEntry || entry === eventPublisherEntry) return { Records: [] };
  // A saga step's state without its id: refused by the step's schema.
  return {};
}

function report(measured: readonly Measured[]): void {
  console.log(
    `\nLambda bundles (lib/bundling/build.ts, as the CDK app builds them); cold start: import to ready in a fresh process,` +
      ` p50 of ${COLD_N}; warm: an invocation refused before any I/O, p50 of ${WARM_N} x ${COLD_N}\n`,
  );
  printTable(
    ['function', 'provider', 'index.mjs KB', 'gzip KB', '.map KB', 'cold p50 ms', 'warm p50 ms', 'largest parts (KB)'],
    measured.map((m) => [
      m.name,
      m.callsProvider ? 'yes' : '',
      kb(m.bytes),
      kb(m.gzipBytes),
      kb(m.sourceMapBytes),
      p50(m.coldMs),
      p50(m.warmMs, 3),
      m.contributors
        .slice(0, 4)
        .map((c) => `${c.source} ${kb(c.bytes)}`)
        .join(', '),
    ]),
    [1, 7],
  );
  console.log('\nAgainst the targets:');
  for (const [label, group, target] of [
    ['without the provider', measured.filter((m) => !m.callsProvider), TARGET_KB.withoutProvider],
    ['with the provider', measured.filter((m) => m.callsProvider), TARGET_KB.withProvider],
  ] as const) {
    if (group.length === 0) continue;
    const bytes = group.map((m) => m.bytes);
    const over = group.filter((m) => m.bytes > target * 1024).map((m) => m.name);
    console.log(
      `  ${label}: ${kb(Math.min(...bytes))} to ${kb(Math.max(...bytes))} KB (target <= ${target} KB)` +
        overList(over),
    );
  }
  const colds = measured.map((m) => median(m.coldMs));
  const slow = measured.filter((m) => median(m.coldMs) > TARGET_COLD_START_MS).map((m) => m.name);
  console.log(
    `  cold start p50: ${Math.min(...colds).toFixed(1)} to ${Math.max(...colds).toFixed(1)} ms (target <= ${TARGET_COLD_START_MS} ms)` +
      overList(slow),
  );
}

function overList(names: readonly string[]): string {
  if (names.length === 0) return '; all within';
  return names.length <= 8 ? `; over: ${names.join(', ')}` : `; ${names.length} over`;
}

function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5) ?? Number.NaN;
}

function p50(values: readonly number[], digits = 1): string {
  return values.length === 0 ? '-' : median(values).toFixed(digits);
}

function kb(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

/**
 * A warm invocation that makes one AWS call, timed through the bundled SDK (serialize, sign,
 * send, parse): the authorizer with a key no merchant has, its table a stub that answers
 * every request at once as DynamoDB answers for a missing item.
 */
async function reportOneRead(bundleFile: string, env: Readonly<Record<string, string>>): Promise<void> {
  let requests = 0;
  const stub = createServer((request, response) => {
    requests += 1;
    request.resume().on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'bench' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  try {
    const endpoint = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    const event = { type: 'TOKEN', authorizationToken: 'Bearer co_test_no-such-key', methodArn: 'arn:aws:execute-api:eu-west-1:1:a/api/GET/x' };
    const sample = await sampleStart(bundleFile, { ...env, AWS_ENDPOINT_URL_DYNAMODB: endpoint }, event, WARM_N);
    console.log(
      `\nA warm invocation with one DynamoDB GetItem (the authorizer, an unknown key, a stub table that answers at once):` +
        ` p50 ${p50(sample.warmMs, 2)} ms of ${sample.warmMs.length} (${requests} requests reached the stub)`,
    );
  } finally {
    stub.close();
  }
}
