import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../../../../local/fake-provider/server.ts';
import { authorizeParams, stripeRequest } from './http.ts';

let fake: FakeProvider;

beforeAll(async () => {
  fake = await startFakeProvider({});
});
afterEach(() => fake.faults.clear());
afterAll(() => fake.close());

async function authorize(paymentNo = 'P-faults') {
  return (await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa', paymentNo) })).json;
}

async function postJson(path: string, body: unknown) {
  const response = await fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

describe('fake provider faults', () => {
  it.each([
    [500, 'api_error', undefined],
    [503, 'api_error', undefined],
    [429, 'invalid_request_error', 'rate_limit'],
    [409, 'invalid_request_error', 'idempotency_key_in_use'],
  ] as const)('fails the next matching request with %s and processes nothing', async (status, type, code) => {
    // Prepare
    const pi = await authorize();
    fake.faults.failNext(1, status, 'POST /v1/payment_intents/*/capture');

    // Act
    const failed = await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.id}/capture`, { idempotencyKey: `cap-${pi.id}` });
    const next = await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.id}/capture`, { idempotencyKey: `cap-${pi.id}` });

    // Assess
    expect(failed.status).toBe(status);
    expect(failed.json.error).toMatchObject({ type, ...(code === undefined ? {} : { code }) });
    expect(next.status).toBe(200);
    expect(fake.ledger().paymentIntents.find((p) => p.id === pi.id)?.captures).toHaveLength(1);
  });

  it('leaves requests that do not match the pattern alone', async () => {
    // Prepare
    const pi = await authorize();
    fake.faults.failNext(1, 503, 'POST /v1/payment_intents/*/capture');

    // Act
    const retrieved = await stripeRequest(fake.url, 'GET', `/v1/payment_intents/${pi.id}`);
    const canceled = await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.id}/cancel`);

    // Assess
    expect(retrieved.status).toBe(200);
    expect(canceled.status).toBe(200);
    expect(fake.faults.state().fail).toEqual([{ remaining: 1, status: 503, match: 'POST /v1/payment_intents/*/capture' }]);
  });

  it('never answers a hung request, so the client gives up', async () => {
    // Prepare
    fake.faults.hangNext(1);

    // Act
    const outcome = await stripeRequest(fake.url, 'GET', '/v1/payment_intents', { signal: AbortSignal.timeout(200) }).catch(
      (e: unknown) => e,
    );

    // Assess
    expect((outcome as Error).name).toBe('TimeoutError');
    expect((await stripeRequest(fake.url, 'GET', '/v1/payment_intents')).status).toBe(200);
  });

  it('commits a dropped request and replays its answer to the retry', async () => {
    // Prepare
    const pi = await authorize();
    fake.faults.dropResponseAfterCommit(1, 'POST /v1/payment_intents/*/capture');

    // Act
    const dropped = await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.id}/capture`, { idempotencyKey: `drop-${pi.id}` }).catch(
      (e: unknown) => e,
    );
    const retried = await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.id}/capture`, { idempotencyKey: `drop-${pi.id}` });

    // Assess
    expect(dropped).toBeInstanceOf(Error);
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(fake.ledger().paymentIntents.find((p) => p.id === pi.id)?.captures).toHaveLength(1);
  });

  it('delays answers by the configured latency', async () => {
    // Prepare
    fake.faults.setLatency(50);

    // Act
    const listed = await stripeRequest(fake.url, 'GET', '/v1/payment_intents');

    // Assess
    expect(listed.status).toBe(200);
    expect(fake.faults.latencyMs).toBe(50);
  });

  it('arms, shows and clears faults over HTTP', async () => {
    // Prepare
    const faults = {
      latencyMs: 10,
      authorizationWindowSeconds: 3600,
      fail: [{ count: 2, status: 429, match: 'POST /v1/refunds' }],
      hang: { count: 1, match: 'GET /v1/refunds/*' },
      dropResponseAfterCommit: { count: 3 },
      pendingRefunds: { count: 1, paymentIntent: 'pi_held' },
    };

    // Act
    const armed = await postJson('/_fake/faults', faults);
    const cleared = await (await fetch(`${fake.url}/_fake/faults`, { method: 'DELETE' })).json();

    // Assess
    expect(armed.status).toBe(200);
    expect(armed.json).toEqual({
      latencyMs: 10,
      authorizationWindowSeconds: 3600,
      fail: [{ remaining: 2, status: 429, match: 'POST /v1/refunds' }],
      hang: [{ remaining: 1, match: 'GET /v1/refunds/*' }],
      failInside: [],
      dropResponseAfterCommit: [{ remaining: 3 }],
      pendingRefunds: [{ remaining: 1, paymentIntent: 'pi_held' }],
    });
    expect(cleared).toEqual({
      latencyMs: 0,
      authorizationWindowSeconds: null,
      fail: [],
      hang: [],
      failInside: [],
      dropResponseAfterCommit: [],
      pendingRefunds: [],
    });
  });

  it('refuses a fault it does not know over HTTP', async () => {
    // Act
    const refused = await postJson('/_fake/faults', { fail: { count: 1, status: 418 } });

    // Assess
    expect(refused.status).toBe(400);
    expect(fake.faults.state().fail).toEqual([]);
  });
});
