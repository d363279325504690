import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../functions/adapters/dynamodb/client.ts';
import { createStripeClient } from '../functions/adapters/stripe/client.ts';
import { StripePaymentProvider } from '../functions/adapters/stripe/stripe-provider.ts';
import { EnvVar } from '../functions/config/env.ts';
import type { CrashPoint } from '../functions/crash/crash-points.ts';
import type { Currency } from '../functions/domain/money.ts';
import { intentsOf } from '../local/fake-provider/client.ts';
import { startLocalStack } from '../local/local-stack.ts';
import { localClientConfig } from '../local/services/dynamodb-local.ts';
import {
  type NaiveDeps,
  type NaiveOrder,
  ProcessDied,
  chargeThenMark,
  isPaid,
  markThenCharge,
  naiveCrashPoints,
} from './naive-strategies.ts';

/**
 * The three ways to charge, side by side on the local stack and the fake provider, each with
 * a crash injected at every boundary in turn, then a restart and recovery, and what the
 * provider's ledger says happened.
 */
export interface Row {
  strategy: string;
  crash: string;
  captures: number;
  status: string;
}

/**
 * The product's crash points on the way to a capture, with the card that reaches them; the
 * payment's put is the route's only write (sent without an Idempotency-Key, the put is the claim).
 */
const productPoints: (CrashPoint | `${CrashPoint}@${number}`)[] = [
  'create-payment:after-write',
  'create-payment:after-start',
  'authorize:before-provider',
  'authorize:after-provider',
  'record-authorization:before-write',
  'record-authorization:after-write',
  'capture:before-provider',
  'capture:after-provider',
  'mark-succeeded:before-write',
  'mark-succeeded:after-write',
  'reconciler:after-write',
];

export const verdict = (captures: number) =>
  captures === 1 ? 'exactly once' : captures === 0 ? 'NEVER CHARGED' : `CHARGED ${captures} TIMES`;

export async function runDemo(): Promise<Row[]> {
  process.env.POWERTOOLS_LOG_LEVEL = 'CRITICAL';
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-demo-'));
  const stack = await startLocalStack({
    dataDir,
    port: 0,
    inMemory: true,
    reconcileEveryMs: 200,
    reconcileAfterSeconds: 0.5,
    functionSettings: {
      [EnvVar.StripeTimeoutMs]: '1000',
      // A request that died holds its Idempotency-Key this long; the client's retry then takes it over.
      [EnvVar.IdempotencyLeaseSeconds]: '1',
    },
    retryIntervalScale: 0.05,
  });
  const rows: Row[] = [];
  try {
    const naive: NaiveDeps = {
      db: createDocumentClient(new DynamoDBClient({ ...localClientConfig, endpoint: stack.dynamoDbEndpoint })),
      tableName: stack.tableName,
      provider: new StripePaymentProvider(
        createStripeClient({ apiKey: stack.providerApiKey, apiBase: stack.providerUrl }),
      ),
    };
    let seq = 0;
    for (const [strategy, run] of [
      ['1. charge, then mark paid', chargeThenMark],
      ['2. mark paid, then charge', markThenCharge],
    ] as const) {
      for (const crash of naiveCrashPoints) {
        const order: NaiveOrder = { orderNo: `demo-${++seq}-${Date.now()}`, amount: 2500, currency: 'USD' as Currency, paymentMethod: 'pm_card_visa' };
        try {
          await run(naive, order, crash);
        } catch (error) {
          if (!(error instanceof ProcessDied)) throw error;
        }
        // The restart: the job runs again for the order, as a naive system's recovery would.
        await run(naive, order);
        const captures = (await intentsOf(stack.providerUrl, `demo-${order.orderNo}`)).flatMap((pi) => pi.captures).length;
        rows.push({ strategy, crash, captures, status: (await isPaid(naive, order.orderNo)) ? 'paid' : 'unpaid' });
      }
    }

    for (const point of productPoints) {
      const armed = point.startsWith('reconciler:') ? `authorize:after-provider,${point}` : point;
      stack.setCrashAt(`${armed}#demo-${++seq}`);
      const order = { order_no: `demo-${seq}-${Date.now()}`, amount: 2500, currency: 'USD', payment_method: 'pm_card_visa' };
      const post = () =>
        fetch(`${stack.apiUrl}/v1/payments`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(order),
        });
      let response = await post();
      if (response.status === 502) response = await post(); // the client retries a request that died
      const { payment_no: paymentNo } = (await response.json()) as { payment_no: string };
      let status = 'pending';
      const deadline = Date.now() + 30_000;
      while (!['succeeded', 'failed', 'canceled'].includes(status) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const got = await fetch(`${stack.apiUrl}/v1/payments/${paymentNo}`, { headers: { Authorization: `Bearer ${stack.apiKey}` } });
        status = ((await got.json()) as { status: string }).status;
      }
      const [name, crossing = '1'] = point.split('@') as [CrashPoint, string?];
      if (!stack.crashFired(name, Number(crossing))) throw new Error(`the crash at ${point} did not fire`);
      const captures = (await intentsOf(stack.providerUrl, paymentNo)).flatMap((pi) => pi.captures).length;
      rows.push({ strategy: '3. authorize, store id, capture, mark', crash: point, captures, status });
    }
    stack.setCrashAt(undefined);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}
