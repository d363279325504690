import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { intentsOf } from '../../local/fake-provider/client.ts';
import { checkPaymentsAfterEach } from '../support/ledger-check.ts';
import { api, paymentBody, target, waitForTerminal } from '../support/target.ts';

const REPLAYED = 'Idempotent-Replayed';

const track = checkPaymentsAfterEach();

/** POST /v1/payments, with an Idempotency-Key when one is given; every payment answered is checked after the test. */
async function post(body: Record<string, unknown>, idempotencyKey?: string, key = target().apiKey) {
  const headers: Record<string, string> = idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey };
  return track(await api('POST', '/v1/payments', body, { key, headers }), key);
}

const newKey = () => `it-key-${randomUUID()}`;

/** The payment's intents at the provider, once it is terminal; undefined when the target has no fake provider. */
async function settledIntents(paymentNo: string) {
  await waitForTerminal(paymentNo);
  const { providerUrl } = target();
  return providerUrl === undefined ? undefined : intentsOf(providerUrl, paymentNo);
}

describe('POST /v1/payments with an Idempotency-Key', () => {
  it('replays the first answer with 200 and Idempotent-Replayed: true to a repeat with the same key', async () => {
    const body = paymentBody();
    const key = newKey();

    const first = await post(body, key);
    const repeat = await post(body, key);

    expect(first.status).toBe(201);
    expect(first.headers.get(REPLAYED)).toBeNull();
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get(REPLAYED)).toBe('true');
    expect(repeat.body).toEqual(first.body);
  });

  it('refuses the same key with another amount, naming the field, and changes nothing', async () => {
    // Prepare
    const body = paymentBody({ amount: 1000 });
    const key = newKey();
    const first = await post(body, key);

    // Act
    const mismatch = await post({ ...body, amount: 2000 }, key);

    // Assess
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error).toMatchObject({ code: 'idempotency_key_mismatch', field: 'amount' });
    expect(mismatch.body.error.message).toBe('this Idempotency-Key was already used with another amount');
    const stored = await waitForTerminal(first.body.payment_no);
    expect(stored).toMatchObject({
      payment_no: first.body.payment_no,
      order_no: body.order_no,
      amount: 1000,
      created_at: first.body.created_at,
      status: 'succeeded',
      amount_captured: 1000,
    });
    const intents = await settledIntents(first.body.payment_no);
    if (intents) expect(intents.map((pi) => pi.amount)).toEqual([1000]);
  });

  it('refuses the same key for another order, and does not create that order', async () => {
    // Prepare
    const key = newKey();
    const first = await post(paymentBody(), key);
    const other = paymentBody();

    // Act
    const mismatch = await post(other, key);

    // Assess: the other order is still free.
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error).toMatchObject({ code: 'idempotency_key_mismatch', field: 'order_no' });
    const later = await post(other, newKey());
    expect(later.status).toBe(201);
    expect(later.body.payment_no).not.toBe(first.body.payment_no);
  });

  it.each([
    ['an empty key', ''],
    ['a key of 256 characters', 'k'.repeat(256)],
    ['a key with a control character', 'key\twith-a-tab'],
  ])('answers 400 validation_failed naming Idempotency-Key for %s, and writes nothing', async (_, badKey) => {
    const body = paymentBody();

    const response = await post(body, badKey);

    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', field: 'Idempotency-Key' });
    // Nothing was written: the order is still free for a valid request.
    const valid = await post(body, newKey());
    expect(valid.status).toBe(201);
  });

  it('accepts a key of 255 printable characters', async () => {
    const key = `${newKey()}-`.padEnd(255, '~');

    const response = await post(paymentBody(), key);

    expect(response.status).toBe(201);
  });

  it('keeps a key refused by the order itself free: retried with the order’s amount, it replays the order’s payment', async () => {
    // Prepare
    const body = paymentBody({ amount: 1000 });
    const original = await post(body, newKey());
    const key = newKey();
    const refused = await post({ ...body, amount: 2000 }, key);

    // Act
    const retry = await post(body, key);

    // Assess
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'idempotency_key_mismatch', field: 'amount' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get(REPLAYED)).toBe('true');
    expect(retry.body.payment_no).toBe(original.body.payment_no);
  });

  it('keeps a key refused by the order itself free: retried for a new order, it creates it', async () => {
    // Prepare
    const body = paymentBody({ amount: 1000 });
    const original = await post(body, newKey());
    const key = newKey();
    const refused = await post({ ...body, amount: 2000 }, key);

    // Act
    const retry = await post(paymentBody(), key);

    // Assess
    expect(refused.status).toBe(409);
    expect(retry.status).toBe(201);
    expect(retry.body.payment_no).not.toBe(original.body.payment_no);
  });

  it('gives one payment to ten concurrent identical posts with one key, and one authorization at the provider', async () => {
    // Prepare
    const body = paymentBody();
    const key = newKey();

    // Act
    const responses = await Promise.all(Array.from({ length: 10 }, () => post(body, key)));

    // Assess
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const paymentNos = new Set(responses.map((r) => r.body.payment_no));
    expect(paymentNos.size).toBe(1);
    expect(responses.filter((r) => r.status === 200).every((r) => r.headers.get(REPLAYED) === 'true')).toBe(true);
    const intents = await settledIntents([...paymentNos][0]);
    if (intents) expect(intents).toHaveLength(1);
  });

  it('gives the same order posted under two keys one payment', async () => {
    const body = paymentBody();

    const first = await post(body, newKey());
    const second = await post(body, newKey());

    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.payment_no).toBe(first.body.payment_no);
  });

  it("keeps two merchants' identical keys apart", async () => {
    const key = newKey();
    const body = paymentBody();

    const mine = await post(body, key);
    const theirs = await post(body, key, target().otherApiKey);

    expect(theirs.status).toBe(201);
    expect(theirs.body.payment_no).not.toBe(mine.body.payment_no);
  });
});

describe('POST /v1/payments without an Idempotency-Key', () => {
  it('uses the order_no as the key: a repeat answers 200 with Idempotent-Replayed: true', async () => {
    const body = paymentBody();

    const first = await post(body);
    const repeat = await post(body);

    expect(first.status).toBe(201);
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get(REPLAYED)).toBe('true');
    expect(repeat.body).toEqual(first.body);
  });

  it('answers a repeat after the payment succeeded with the first answer again, as a keyed replay does', async () => {
    const body = paymentBody();
    const first = await post(body);
    await waitForTerminal(first.body.payment_no);

    const repeat = await post(body);
    const now = await api('GET', `/v1/payments/${first.body.payment_no}`);

    expect(first.body.status).toBe('pending');
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get(REPLAYED)).toBe('true');
    expect(repeat.body).toEqual(first.body);
    expect(now.body.status).toBe('succeeded');
  });

  it('refuses a repeat of the order with another amount, naming the field, and takes a corrected retry', async () => {
    const body = paymentBody({ amount: 1000 });
    const first = await post(body);

    const refused = await post({ ...body, amount: 2000 });
    const retry = await post(body);

    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'idempotency_key_mismatch', field: 'amount' });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
  });

  it('gives one payment to ten concurrent identical posts, one 201 and nine replays of it, and one authorization at the provider', async () => {
    const body = paymentBody();

    const responses = await Promise.all(Array.from({ length: 10 }, () => post(body)));

    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const created = responses.find((r) => r.status === 201)!;
    expect(responses.filter((r) => r.status === 200).every((r) => r.headers.get(REPLAYED) === 'true')).toBe(true);
    for (const response of responses) expect(response.body).toEqual(created.body);
    const intents = await settledIntents(created.body.payment_no);
    if (intents) expect(intents).toHaveLength(1);
  });
});
