import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../../../../local/fake-provider/server.ts';
import { authorizeParams, stripeRequest } from './http.ts';

let fake: FakeProvider;

beforeAll(async () => {
  fake = await startFakeProvider({});
});
afterEach(() => fake.faults.clear());
afterAll(() => fake.close());

describe('fake provider idempotency', () => {
  it('replays the first response byte for byte for the same key and params', async () => {
    // Prepare
    const params = authorizeParams('pm_card_visa');
    const first = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'replay-1' });

    // Act
    const second = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'replay-1' });

    // Assess
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(fake.ledger().paymentIntents.filter((pi) => pi.id === first.json.id)).toHaveLength(1);
  });

  it('replays a decline with its 402 status instead of trying the card again', async () => {
    // Prepare
    const params = authorizeParams('pm_card_chargeDeclined', 'P-declined-replay');
    const first = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'replay-decline' });

    // Act
    const second = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'replay-decline' });

    // Assess
    expect(first.status).toBe(402);
    expect(second.status).toBe(402);
    expect(second.text).toBe(first.text);
    expect(fake.ledger().paymentIntents.filter((pi) => pi.metadata['payment_no'] === 'P-declined-replay')).toHaveLength(1);
  });

  it('answers idempotency_error when the key comes back with other params', async () => {
    // Prepare
    await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa'), idempotencyKey: 'mismatch-1' });

    // Act
    const reused = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', {
      params: { ...authorizeParams('pm_card_visa'), amount: '999' },
      idempotencyKey: 'mismatch-1',
    });

    // Assess
    expect(reused.status).toBe(400);
    expect(reused.json.error.type).toBe('idempotency_error');
  });

  it('answers idempotency_error when the key comes back on another endpoint', async () => {
    // Prepare
    const created = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa'), idempotencyKey: 'endpoint-1' });

    // Act
    const reused = await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${created.json.id}/capture`, { idempotencyKey: 'endpoint-1' });

    // Assess
    expect(reused.status).toBe(400);
    expect(reused.json.error.type).toBe('idempotency_error');
  });

  it('keeps keys apart per API key', async () => {
    // Prepare
    const params = authorizeParams('pm_card_visa');
    const mine = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'shared-key', apiKey: 'sk_test_one' });

    // Act
    const theirs = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'shared-key', apiKey: 'sk_test_two' });

    // Assess
    expect(theirs.json.id).not.toBe(mine.json.id);
  });

  it('answers 409 idempotency_key_in_use while the first request with the key is still running', async () => {
    // Prepare
    fake.faults.setLatency(300);
    const params = authorizeParams('pm_card_visa');
    const slow = stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'in-use-1' });
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Act
    const concurrent = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'in-use-1' });

    // Assess
    expect(concurrent.status).toBe(409);
    expect(concurrent.json.error.code).toBe('idempotency_key_in_use');
    expect((await slow).status).toBe(200);
  });

  it('keeps nothing for a request whose parameters failed validation: the corrected request runs under the same key', async () => {
    // Prepare: Stripe keeps an answer only once the endpoint began to run.
    const refused = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', {
      params: { ...authorizeParams('pm_card_visa', 'P-too-small'), amount: '10' },
      idempotencyKey: 'corrected-1',
    });

    // Act
    const corrected = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', {
      params: authorizeParams('pm_card_visa', 'P-too-small'),
      idempotencyKey: 'corrected-1',
    });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('amount_too_small');
    expect(corrected.status).toBe(200);
    expect(corrected.headers.get('idempotent-replayed')).toBeNull();
  });

  it('keeps a 400 the endpoint gave once it ran, and replays it after the state that caused it changed', async () => {
    // Prepare: a refund of an authorization not yet captured is refused by the endpoint itself.
    const pi = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa'), idempotencyKey: 'kept-400-pi' });
    const early = await stripeRequest(fake.url, 'POST', '/v1/refunds', { params: { payment_intent: pi.json.id }, idempotencyKey: 'kept-400' });
    await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.json.id}/capture`, { idempotencyKey: 'kept-400-capture' });

    // Act
    const again = await stripeRequest(fake.url, 'POST', '/v1/refunds', { params: { payment_intent: pi.json.id }, idempotencyKey: 'kept-400' });

    // Assess
    expect(early.status).toBe(400);
    expect(again.status).toBe(400);
    expect(again.text).toBe(early.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(fake.ledger().refunds.filter((refund) => refund.paymentIntent === pi.json.id)).toEqual([]);
  });

  it('keeps a 500 from inside the endpoint for the key and replays it, as Stripe does', async () => {
    // Prepare
    fake.faults.failInsideNext(1, 'POST /v1/payment_intents');
    const params = authorizeParams('pm_card_visa', 'P-inside-500');
    const failed = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'inside-500' });

    // Act
    const retried = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'inside-500' });

    // Assess
    expect(failed.status).toBe(500);
    expect(retried.status).toBe(500);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(fake.ledger().paymentIntents.filter((pi) => pi.metadata['payment_no'] === 'P-inside-500')).toEqual([]);
  });

  it('runs the request again after a 5xx answered in front of the API instead of replaying the fault', async () => {
    // Prepare
    fake.faults.failNext(1, 500);
    const params = authorizeParams('pm_card_visa');
    const failed = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'after-500' });

    // Act
    const retried = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'after-500' });

    // Assess
    expect(failed.status).toBe(500);
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('the keys the fake records', () => {
  it('records each POST it executes with the key it carried, once however often it is replayed', async () => {
    // Prepare
    const params = authorizeParams('pm_card_visa', 'P-recorded');
    const created = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'P-recorded:authorize' });
    await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'P-recorded:authorize' });

    // Act
    await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${created.json.id}/capture`, { idempotencyKey: 'P-recorded:capture' });
    const refunded = await stripeRequest(fake.url, 'POST', '/v1/refunds', { params: { payment_intent: created.json.id } });

    // Assess
    const calls = fake.ledger().calls.filter((call) => call.paymentIntent === created.json.id);
    const pi = created.json.id;
    expect(calls.map(({ at: _, ...call }) => call)).toEqual([
      { request: 'POST /v1/payment_intents', idempotencyKey: 'P-recorded:authorize', status: 200, paymentIntent: pi, objectId: pi },
      { request: `POST /v1/payment_intents/${pi}/capture`, idempotencyKey: 'P-recorded:capture', status: 200, paymentIntent: pi, objectId: pi },
      { request: 'POST /v1/refunds', idempotencyKey: null, status: 200, paymentIntent: pi, objectId: refunded.json.id },
    ]);
  });

  it('records a declined authorization under the PaymentIntent its error names', async () => {
    // Act
    const declined = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', {
      params: authorizeParams('pm_card_chargeDeclined', 'P-declined-key'),
      idempotencyKey: 'P-declined-key:authorize',
    });

    // Assess
    const [call] = fake.ledger().calls.filter((candidate) => candidate.paymentIntent === declined.json.error.payment_intent.id);
    expect(call).toMatchObject({ idempotencyKey: 'P-declined-key:authorize', status: 402, objectId: null });
  });
});

describe('a fake that requires idempotency keys, as the local stack runs it', () => {
  let strict: FakeProvider;

  beforeAll(async () => {
    strict = await startFakeProvider({ requireIdempotencyKey: true });
  });
  afterEach(() => strict.faults.clear());
  afterAll(() => strict.close());

  it.each([
    ['no Idempotency-Key', undefined],
    ['the key stripe-node makes up when its caller gives none', 'stripe-node-retry-0b5a8f6e-6a43-4a7c-9d4e-3c1f1b2a7e11'],
  ])('refuses a POST with %s, in Stripe’s error shape, and does nothing', async (_, idempotencyKey) => {
    // Act
    const refused = await stripeRequest(strict.url, 'POST', '/v1/payment_intents', {
      params: authorizeParams('pm_card_visa', 'P-keyless'),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({
      error: { type: 'invalid_request_error', code: 'idempotency_key_required', message: expect.stringContaining('stricter than Stripe') },
    });
    expect(strict.ledger().paymentIntents.filter((pi) => pi.metadata['payment_no'] === 'P-keyless')).toEqual([]);
    expect(strict.ledger().calls).toEqual([]);
  });

  it('refuses a keyless POST even when a fault is armed for it', async () => {
    // Prepare
    strict.faults.failNext(1, 503);

    // Act
    const refused = await stripeRequest(strict.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa') });

    // Assess
    expect(refused.json.error.code).toBe('idempotency_key_required');
  });

  it('serves a POST with a key of the caller’s own, and a GET with none', async () => {
    // Act
    const created = await stripeRequest(strict.url, 'POST', '/v1/payment_intents', {
      params: authorizeParams('pm_card_visa', 'P-keyed'),
      idempotencyKey: 'P-keyed:authorize',
    });
    const read = await stripeRequest(strict.url, 'GET', `/v1/payment_intents/${created.json.id}`);

    // Assess
    expect(created.status).toBe(200);
    expect(read.status).toBe(200);
  });
});

describe('a fake started as plain Stripe-compat', () => {
  it('serves a POST without a key, as Stripe does', async () => {
    // Act
    const created = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa', 'P-plain') });

    // Assess
    expect(created.status).toBe(200);
  });
});
