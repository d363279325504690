import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../../../../local/fake-provider/server.ts';
import { authorizeParams, stripeRequest } from './http.ts';

let fake: FakeProvider;

beforeAll(async () => {
  fake = await startFakeProvider({});
});
afterEach(() => fake.faults.clear());
afterAll(() => fake.close());

/** A PaymentIntent of 1500 captured in full. */
async function captured() {
  const { json: pi } = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa', 'P-refunds') });
  await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.id}/capture`);
  return pi as { id: string };
}

const refund = (paymentIntent: string, amount: number, idempotencyKey?: string) =>
  stripeRequest(fake.url, 'POST', '/v1/refunds', {
    params: { payment_intent: paymentIntent, amount: String(amount) },
    ...(idempotencyKey !== undefined && { idempotencyKey }),
  });

const retrieve = async (id: string) => (await stripeRequest(fake.url, 'GET', `/v1/refunds/${id}`)).json;

/** The charge's `amount_refunded`, as Stripe shows it on the PaymentIntent's latest charge. */
async function amountRefunded(paymentIntent: string): Promise<number> {
  const { json } = await stripeRequest(fake.url, 'GET', `/v1/payment_intents/${paymentIntent}`, { params: { 'expand[0]': 'latest_charge' } });
  return json.latest_charge.amount_refunded;
}

async function settle(id: string, body: unknown) {
  const response = await fetch(`${fake.url}/_fake/refunds/${id}/settle`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

describe('fake provider refunds that start pending', () => {
  it('holds the next refunds pending while the switch lasts, counting them against the charge', async () => {
    // Prepare
    const pi = await captured();
    fake.faults.holdNextRefunds(1);

    // Act
    const held = await refund(pi.id, 500);
    const next = await refund(pi.id, 500);

    // Assess
    expect(held.json).toMatchObject({ object: 'refund', status: 'pending', amount: 500 });
    expect(held.json).not.toHaveProperty('failure_reason');
    expect(next.json.status).toBe('succeeded');
    expect(await amountRefunded(pi.id)).toBe(1000);
    expect(fake.faults.state().pendingRefunds).toEqual([]);
  });

  it('holds only the refunds of the PaymentIntent the switch names', async () => {
    // Prepare
    const [mine, other] = [await captured(), await captured()];
    fake.faults.holdNextRefunds(1, { paymentIntent: mine.id });

    // Act
    const otherRefund = await refund(other.id, 100);
    const myRefund = await refund(mine.id, 100);

    // Assess
    expect(otherRefund.json.status).toBe('succeeded');
    expect(myRefund.json.status).toBe('pending');
  });

  it('fails a pending refund on command with its failure_reason, giving the amount back to the charge for another refund', async () => {
    // Prepare
    const pi = await captured();
    fake.faults.holdNextRefunds(1);
    const { json: held } = await refund(pi.id, 1500);

    // Act
    const settled = await settle(held.id, { status: 'failed', failure_reason: 'expired_or_canceled_card' });
    const again = await refund(pi.id, 1500);

    // Assess
    expect(settled.status).toBe(200);
    expect(await retrieve(held.id)).toMatchObject({ status: 'failed', failure_reason: 'expired_or_canceled_card' });
    expect(again.json).toMatchObject({ status: 'succeeded', amount: 1500 });
    expect(await amountRefunded(pi.id)).toBe(1500);
  });

  it.each([
    ['failed', undefined, 'unknown', 0],
    ['canceled', undefined, undefined, 0],
    ['canceled', 'merchant_request', 'merchant_request', 0],
    ['succeeded', 'declined', undefined, 400],
  ] as const)('settles a pending refund %s (reason %s): failure_reason %s', async (status, reason, shown, refunded) => {
    // Prepare
    const pi = await captured();
    fake.faults.holdNextRefunds(1);
    const { json: held } = await refund(pi.id, 400);

    // Act
    await settle(held.id, { status, ...(reason && { failure_reason: reason }) });

    // Assess
    const now = await retrieve(held.id);
    expect(now.status).toBe(status);
    expect(now.failure_reason).toBe(shown);
    expect(await amountRefunded(pi.id)).toBe(refunded);
  });

  it('refuses to settle a refund that is not pending, one it does not know, and a status it does not know', async () => {
    // Prepare
    const pi = await captured();
    const { json: done } = await refund(pi.id, 100);

    // Act
    const notPending = await settle(done.id, { status: 'failed' });
    const unknown = await settle('re_nope', { status: 'failed' });
    const badStatus = await settle(done.id, { status: 'reversed' });

    // Assess
    expect(notPending.status).toBe(400);
    expect(unknown.status).toBe(404);
    expect(badStatus.status).toBe(400);
    expect((await retrieve(done.id)).status).toBe('succeeded');
  });

  it('settles a refund by itself once its time came, and keeps one whose time has not', async () => {
    // Prepare
    const pi = await captured();
    fake.faults.apply({
      pendingRefunds: [
        { count: 1, settle: { status: 'failed', afterSeconds: 0, failureReason: 'lost_or_stolen_card' } },
        { count: 1, settle: { status: 'succeeded', afterSeconds: 3600 } },
      ],
    });

    // Act
    const soon = await refund(pi.id, 300);
    const later = await refund(pi.id, 300);

    // Assess
    expect(soon.json.status).toBe('pending');
    expect(await retrieve(soon.json.id)).toMatchObject({ status: 'failed', failure_reason: 'lost_or_stolen_card' });
    expect((await retrieve(later.json.id)).status).toBe('pending');
    expect(await amountRefunded(pi.id)).toBe(300);
  });

  it('replays the first answer to a repeated key, pending as it was, and holds no second refund', async () => {
    // Prepare
    const pi = await captured();
    fake.faults.holdNextRefunds(2);
    const first = await refund(pi.id, 200, `refund-${pi.id}`);
    await settle(first.json.id, { status: 'succeeded' });

    // Act
    const repeat = await refund(pi.id, 200, `refund-${pi.id}`);

    // Assess
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.json).toEqual(first.json);
    expect((await retrieve(first.json.id)).status).toBe('succeeded');
    expect(fake.faults.state().pendingRefunds).toEqual([{ remaining: 1 }]);
  });

  it('takes the switch over HTTP and refuses a failure_reason Stripe does not have', async () => {
    // Act
    const armed = await fetch(`${fake.url}/_fake/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ pendingRefunds: { count: 2, settle: { status: 'failed', afterSeconds: 5, failureReason: 'declined' } } }),
    });
    const refused = await fetch(`${fake.url}/_fake/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ pendingRefunds: { count: 1, settle: { status: 'failed', afterSeconds: 5, failureReason: 'bad_luck' } } }),
    });

    // Assess
    expect(armed.status).toBe(200);
    expect(refused.status).toBe(400);
    expect(fake.faults.state().pendingRefunds).toEqual([
      { remaining: 2, settle: { status: 'failed', afterSeconds: 5, failureReason: 'declined' } },
    ]);
  });
});
