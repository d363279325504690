import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectRefundedExactlyAsRecorded } from '../support/invariants/provider-books.ts';
import { type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import { localClientConfig } from '../../local/services/dynamodb-local.ts';
import { expectSettledAsRecorded } from '../support/ledger-check.ts';
import { expectPointsAddUp, expectSeatsAddUp, settleCart } from '../support/school-invariants.ts';
import { useTarget, waitForRefunds } from '../support/target.ts';
import { anyCase } from './cases.ts';
import { checkEveryRouteSpecified } from './routes.ts';
import { type FuzzTarget, FuzzRunner, type Touched, emptyTouched, summary } from './runner.ts';
import { fuzzSettings } from './settings.ts';
import type { World } from './template.ts';
import { buildWorld, reopenEndedCarts } from './world.ts';

/**
 * The HTTP API under generated requests (README.md, Tests): every route of the
 * catalog, mostly valid requests with a part of them wrong, answered by the local stack in
 * this process. `npm run fuzz -- --seed S --path P` replays a failure; `--runs N` runs long.
 */
const settings = fuzzSettings();
let stack: LocalStack;
let dataDir: string;
let target: FuzzTarget;
let world: World;
let tableClient: DynamoDBClient | undefined;
const touched: Touched = emptyTouched();

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-fuzz-'));
  stack = await startLocalStack({
    dataDir,
    port: 0,
    inMemory: true,
    // The fuzzer runs the reconciler itself while it waits, so nothing writes behind a request's back.
    reconcileEveryMs: 24 * 60 * 60 * 1000,
    reconcileAfterSeconds: 1,
    reconcileLeaseSeconds: 2,
    retryIntervalScale: 0.05,
  });
  const otherKey = await stack.addMerchant({ merchantId: 'merchant_fuzz_other', name: 'Another merchant' });
  useTarget({ apiUrl: stack.apiUrl, apiKey: stack.apiKey, otherApiKey: otherKey, providerUrl: stack.providerUrl });
  const keys = { merchant: stack.apiKey, other: otherKey };
  target = { apiUrl: stack.apiUrl, apiKeys: keys, idle: () => stack.idle(), reconcile: () => stack.reconcile(), scan: scanTable };
  world = await buildWorld(keys);
});

afterAll(async () => {
  tableClient?.destroy();
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Every item of the table, as text by key: two scans that differ show what a request wrote. */
async function scanTable(): Promise<Map<string, string>> {
  const items = new Map<string, string>();
  tableClient ??= new DynamoDBClient({ ...localClientConfig, endpoint: stack.dynamoDbEndpoint });
  for await (const page of paginateScan({ client: tableClient }, { TableName: stack.tableName, ConsistentRead: true })) {
    for (const item of page.Items ?? []) items.set(`${item['pk']?.S}|${item['sk']?.S}`, JSON.stringify(item));
  }
  return items;
}

it('answers every generated request by the rules', async () => {
  checkEveryRouteSpecified();
  const runner = new FuzzRunner(target, world, touched, {
    answerTimeoutMs: 20_000,
    settleTimeoutMs: 15_000,
    prepare: () => reopenEndedCarts(world, target.apiKeys.merchant),
    ...(settings.verbose && { log: (line: string) => console.log(line) }),
  });
  console.log(`fuzz: seed ${settings.seed}${settings.path ? `, path ${settings.path}` : ''}, up to ${settings.runs} requests`);
  const details = await fc.check(fc.asyncProperty(anyCase(settings.routes), (fuzzCase) => runner.run(fuzzCase)), {
    seed: settings.seed,
    numRuns: settings.runs,
    ...(settings.path !== undefined && { path: settings.path }),
    ...(settings.timeLimitMs !== undefined && { interruptAfterTimeLimit: settings.timeLimitMs }),
  });
  console.log(`fuzz: ${details.numRuns} requests; answers by route\n${summary(runner.answers)}`);
  if (details.failed) {
    const routes = settings.routes === undefined ? '' : ` --routes ${settings.routes.join(',')}`;
    throw new Error(`${fc.defaultReportMessage(details)}\n\nReplay: npm run fuzz -- --seed ${details.seed} --path ${details.counterexamplePath}${routes}`);
  }
});

it('leaves every payment charged as recorded, and every seat and point accounted for', async () => {
  for (const [cartId, key] of touched.carts) {
    const paymentNo = await settleCart(cartId, key);
    if (paymentNo !== undefined) touched.payments.set(paymentNo, key);
  }
  for (const [paymentNo, key] of touched.payments) await expectSettledAsRecorded(paymentNo, key);
  for (const [paymentNo, key] of touched.refundedPayments) {
    expect(await expectRefundedExactlyAsRecorded(stack.providerUrl, await waitForRefunds(paymentNo, { key })), paymentNo).toBeUndefined();
  }
  for (const owner of ['merchant', 'other'] as const) {
    const key = target.apiKeys[owner];
    for (const classId of new Set(world[owner].classes)) await expectSeatsAddUp(classId, key);
    for (const accountId of new Set(world[owner].accounts)) await expectPointsAddUp(accountId, key);
  }
});
