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

  it('runs the request again after a 5xx instead of replaying the fault', async () => {
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
