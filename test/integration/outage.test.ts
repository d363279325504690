import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { armFaults, clearFaults, intentsOf } from '../../local/fake-provider/client.ts';
import { expectChargedExactlyAsRecorded } from '../support/invariants/provider-books.ts';
import { type LocalStack, startLocalStack } from '../../local/local-stack.ts';

/**
 * Outages the suite's shared stack must not see: this file's DynamoDB is frozen and its
 * provider armed to refuse, so it runs a stack of its own (its own DynamoDB Local and fake
 * provider), which the other files, running meanwhile, never touch. Its reconciler looks at
 * a payment 2 s after its last change and resumes it once before settling it itself.
 */
let stack: LocalStack;
let dataDir: string;
const environmentBefore = { ...process.env };

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = process.env.DEBUG_LOCAL_STACK ? 'INFO' : 'CRITICAL';
  dataDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-outage-'));
  stack = await startLocalStack({
    dataDir,
    port: 0,
    inMemory: true,
    reconcileEveryMs: 1000,
    reconcileAfterSeconds: 2,
    maxResumes: 1,
    retryIntervalScale: 0.05,
    log: (line) => process.env.DEBUG_LOCAL_STACK && console.log(line),
  });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  for (const name of Object.keys(process.env)) if (!(name in environmentBefore)) delete process.env[name];
  Object.assign(process.env, environmentBefore);
});

afterEach(async () => {
  stack.resumeDatabase();
  await clearFaults(stack.providerUrl);
});

interface Answer {
  status: number;
  body: any;
  headers: Headers;
  /** How long the answer took, for the report: never asserted on. */
  ms: number;
}

/** One call to this file's stack. The client gives up after 10 s: a hang fails the test. */
async function call(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const startedAt = performance.now();
  const response = await fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${stack.apiKey}`, ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers, ms: performance.now() - startedAt };
}

const order = (overrides: Record<string, unknown> = {}) => ({
  order_no: `outage-${randomUUID()}`,
  amount: 1000,
  currency: 'USD',
  payment_method: 'pm_card_visa',
  ...overrides,
});

/** Polls the payment until it is terminal, and checks it against the provider's ledger. */
async function settled(paymentNo: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await call('GET', `/v1/payments/${paymentNo}`);
    if (['succeeded', 'failed', 'canceled'].includes(body?.status)) {
      expect(await expectChargedExactlyAsRecorded(stack.providerUrl, body), paymentNo).toBeUndefined();
      return body;
    }
    if (Date.now() > deadline) throw new Error(`payment ${paymentNo} still ${body?.status ?? JSON.stringify(body)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function expectFailedClosed(answer: Answer) {
  expect(answer.status).toBe(503);
  expect(answer.body.error.code).toBe('database_unavailable');
  expect(Number(answer.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
}

describe('DynamoDB hangs', () => {
  it('answers 503 with Retry-After, writes nothing, and takes the retry and the corrected request once it is back', async () => {
    // Prepare: API Gateway caches the authorizer's answer per key; ask once while the table answers.
    expect((await call('GET', '/v1/payments/pay_000000000000000000000000')).status).toBe(404);
    const retried = order();
    const corrected = order();
    const key = `outage-key-${randomUUID()}`;

    // Act
    await stack.pauseDatabase();
    const createWithKey = await call('POST', '/v1/payments', retried, { 'Idempotency-Key': key });
    const createWithoutKey = await call('POST', '/v1/payments', corrected);
    const read = await call('GET', '/v1/payments/pay_000000000000000000000001');
    const uncachedKey = await call('GET', '/v1/payments/pay_000000000000000000000001', undefined, { Authorization: 'Bearer ck_never_seen' });
    stack.resumeDatabase();
    console.log(
      `fail-closed while DynamoDB hangs: POST ${createWithKey.ms.toFixed(0)} ms and ${createWithoutKey.ms.toFixed(0)} ms, ` +
        `GET ${read.ms.toFixed(0)} ms, a key the authorizer had not cached ${uncachedKey.ms.toFixed(0)} ms`,
    );

    // Assess: refused, and nothing written: the same request is new (201), the corrected one too.
    expectFailedClosed(createWithKey);
    expectFailedClosed(createWithoutKey);
    expectFailedClosed(read);
    // The authorizer cannot check a key it has not cached: API Gateway's gateway response, not a bare 500.
    expect(uncachedKey.status).toBe(503);
    expect(uncachedKey.body.error.code).toBe('authorizer_unavailable');
    expect(uncachedKey.headers.get('Retry-After')).toBe('1');
    const retry = await call('POST', '/v1/payments', retried, { 'Idempotency-Key': key });
    const correction = await call('POST', '/v1/payments', { ...corrected, amount: 1250 });
    expect(retry.status).toBe(201);
    expect(correction.status).toBe(201);
    expect(correction.body).toMatchObject({ order_no: corrected.order_no, amount: 1250 });
    expect(await settled(retry.body.payment_no)).toMatchObject({ status: 'succeeded', amount_captured: 1000 });
    expect(await settled(correction.body.payment_no)).toMatchObject({ status: 'succeeded', amount_captured: 1250 });
  });
});

describe('the provider keeps refusing a payment', () => {
  it('ends it failed with processing_error once the reconciler stops resuming it, its authorization voided', async () => {
    // Prepare: every capture is refused as no retry can fix (400): each execution fails after authorizing.
    await armFaults(stack.providerUrl, { fail: { count: 1000, status: 400, match: 'POST /v1/payment_intents/*/capture' } });

    // Act
    const created = await call('POST', '/v1/payments', order());
    const payment = await settled(created.body.payment_no);

    // Assess: settled() found no capture and no authorization left open at the provider.
    expect(created.status).toBe(201);
    expect(payment).toMatchObject({ status: 'failed', decline_code: 'processing_error', amount_captured: 0 });
    expect(payment.needs_attention).toBeUndefined();
    expect((await intentsOf(stack.providerUrl, payment.payment_no)).map((intent) => intent.status)).toEqual(['canceled']);
  });

  it('shows a payment it cannot settle, the provider unreachable, as needing attention, and leaves it open', async () => {
    // Prepare: captures refused, and the provider cannot be asked what it holds.
    await armFaults(stack.providerUrl, {
      fail: [
        { count: 1000, status: 400, match: 'POST /v1/payment_intents/*/capture' },
        { count: 1000, status: 503, match: 'GET /v1/payment_intents/search' },
      ],
    });
    const created = await call('POST', '/v1/payments', order());

    // Act
    const flagged = await until(async () => {
      const { body } = await call('GET', `/v1/payments/${created.body.payment_no}`);
      return body.needs_attention === undefined ? undefined : body;
    });

    // Assess
    expect(flagged).toMatchObject({
      status: 'authorized',
      needs_attention: { reason: 'provider_unreachable', since: expect.any(String) },
    });
  });
});

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
