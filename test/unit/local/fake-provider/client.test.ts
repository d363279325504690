import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChargedExactlyAsRecorded, expectRefundedExactlyAsRecorded } from '../../../support/invariants/provider-books.ts';
import { startFakeProvider, type FakeProvider } from '../../../../local/fake-provider/server.ts';
import { authorizeParams, stripeRequest } from './http.ts';

/**
 * The ledger checks the integration suite and the crash matrix run after every payment: they
 * must notice a call that went out under another key than the one the product promises, or
 * under none (a plain fake, as Stripe, accepts both).
 */
let fake: FakeProvider;

beforeAll(async () => {
  fake = await startFakeProvider({});
});
afterAll(() => fake.close());

interface Keys {
  authorize?: string;
  capture?: string;
}

/** An authorization and a capture of one payment, each under the key given (none when undefined). */
async function chargedUnder(paymentNo: string, keys: Keys) {
  const post = (path: string, params: Record<string, string>, key: string | undefined) =>
    stripeRequest(fake.url, 'POST', path, { params, ...(key === undefined ? {} : { idempotencyKey: key }) });
  const pi = await post('/v1/payment_intents', authorizeParams('pm_card_visa', paymentNo), keys.authorize);
  await post(`/v1/payment_intents/${pi.json.id}/capture`, {}, keys.capture);
  return { payment_no: paymentNo, status: 'succeeded', amount: 1500, amount_captured: 1500, chargeId: pi.json.id as string };
}

describe('expectChargedExactlyAsRecorded', () => {
  it('passes a payment whose calls carried the keys derived from its payment_no', async () => {
    const paymentNo = `pay_${randomUUID()}`;
    const payment = await chargedUnder(paymentNo, { authorize: `${paymentNo}:authorize`, capture: `${paymentNo}:capture` });

    expect(await expectChargedExactlyAsRecorded(fake.url, payment)).toBeUndefined();
  });

  it.each([
    ['a capture without its key', (no: string) => ({ authorize: `${no}:authorize` }), '/capture carried the idempotency key null'],
    ['a capture under a changed key', (no: string) => ({ authorize: `${no}:authorize`, capture: `${no}:capt` }), `:capt", not `],
    ['an authorization under a changed key', (no: string) => ({ authorize: `auth-${no}`, capture: `${no}:capture` }), '/v1/payment_intents carried'],
  ])('reports %s', async (_, keysOf, reported) => {
    const paymentNo = `pay_${randomUUID()}`;
    const payment = await chargedUnder(paymentNo, keysOf(paymentNo));

    expect(await expectChargedExactlyAsRecorded(fake.url, payment)).toContain(reported);
  });

  it.each([
    ['passes a void under its payment and charge', (no: string, pi: string) => `${no}:void:${pi}`, undefined],
    ['reports a void under a key that forgot the charge', (no: string) => `${no}:void`, ':void", not '],
  ])('%s', async (_, keyOf, reported) => {
    const paymentNo = `pay_${randomUUID()}`;
    const pi = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', {
      params: authorizeParams('pm_card_visa', paymentNo),
      idempotencyKey: `${paymentNo}:authorize`,
    });
    await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.json.id}/cancel`, { idempotencyKey: keyOf(paymentNo, pi.json.id) });

    const voided = { payment_no: paymentNo, status: 'failed', amount: 1500, amount_captured: 0 };
    const outcome = await expectChargedExactlyAsRecorded(fake.url, voided);

    expect(outcome).toEqual(reported === undefined ? undefined : expect.stringContaining(reported));
  });
});

describe('expectRefundedExactlyAsRecorded', () => {
  it.each([
    ['passes a refund made under its refund_no', (refundNo: string) => refundNo, undefined],
    ['reports a refund made under another key', (refundNo: string) => `${refundNo}-retry`, 'was made by a call keyed'],
    ['reports a refund made without a key', () => undefined, 'was made by a call keyed null'],
  ])('%s', async (_, keyOf, reported) => {
    const paymentNo = `pay_${randomUUID()}`;
    const refundNo = `re_${randomUUID()}`;
    const { chargeId } = await chargedUnder(paymentNo, { authorize: `${paymentNo}:authorize`, capture: `${paymentNo}:capture` });
    const key = keyOf(refundNo);
    await stripeRequest(fake.url, 'POST', '/v1/refunds', {
      params: { payment_intent: chargeId, amount: '500', 'metadata[refund_no]': refundNo },
      ...(key === undefined ? {} : { idempotencyKey: key }),
    });

    const outcome = await expectRefundedExactlyAsRecorded(fake.url, {
      payment_no: paymentNo,
      status: 'succeeded',
      amount: 1500,
      amount_captured: 1500,
      amount_refunded: 500,
      refunds: [{ refund_no: refundNo, amount: 500, status: 'succeeded' }],
    });

    expect(outcome).toEqual(reported === undefined ? undefined : expect.stringContaining(reported));
  });
});
