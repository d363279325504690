import { afterEach, describe, expect, it } from 'vitest';
import { createStripeClient } from '../../functions/adapters/stripe/client.ts';
import { StripePaymentProvider } from '../../functions/adapters/stripe/stripe-provider.ts';
import { parseCurrency } from '../../functions/domain/money.ts';
import { RESERVED_METADATA_KEYS } from '../../functions/domain/payment.ts';
import { DEPLOYMENT_METADATA_KEY } from '../../functions/domain/provider.ts';
import { armFaults, clearFaults, intentsOf } from '../../local/fake-provider/client.ts';
import { expectChargedExactlyAsRecorded } from '../support/invariants/provider-books.ts';
import { api, newOrderNo, paymentBody, target, waitForTerminal } from '../support/target.ts';

/** Every payment a test created, with its merchant's key, checked against the provider's ledger after the test. */
const touched: { paymentNo: string; key: string }[] = [];

async function pay(overrides: Record<string, unknown> = {}, key = target().apiKey) {
  const response = await api('POST', '/v1/payments', paymentBody(overrides), { key });
  if (response.body?.payment_no) touched.push({ paymentNo: response.body.payment_no, key });
  return response;
}

afterEach(async () => {
  const { providerUrl } = target();
  const payments = touched.splice(0);
  if (providerUrl) await clearFaults(providerUrl);
  for (const { paymentNo, key } of payments) {
    const payment = await waitForTerminal(paymentNo, { key });
    if (providerUrl) expect(await expectChargedExactlyAsRecorded(providerUrl, payment), paymentNo).toBeUndefined();
  }
});

describe('POST /v1/payments', () => {
  it('answers 201 with the pending payment and the fields the API promises', async () => {
    const body = paymentBody({ amount: 1250, currency: 'usd', customer_email: 'ada@example.com' });

    const response = await pay(body);

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      payment_no: expect.stringMatching(/^pay_[0-9a-f]{24}$/),
      order_no: body.order_no,
      amount: 1250,
      currency: 'USD',
      status: 'pending',
      amount_captured: 0,
      amount_refunded: 0,
      created_at: expect.any(String),
    });
  });

  it('charges a card exactly once: succeeded, one capture of the full amount', async () => {
    const { body: created } = await pay({ amount: 4200 });

    const payment = await waitForTerminal(created.payment_no);

    expect(payment).toMatchObject({ status: 'succeeded', amount_captured: 4200 });
  });

  it('answers the same order_no posted twice with one payment: 201, then 200', async () => {
    const body = paymentBody();

    const first = await pay(body);
    const second = await pay(body);

    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body.payment_no).toBe(first.body.payment_no);
  });

  it('gives one payment to ten concurrent posts of the same order', async () => {
    const body = paymentBody();

    const responses = await Promise.all(Array.from({ length: 10 }, () => pay(body)));

    expect(new Set(responses.map((r) => r.body.payment_no)).size).toBe(1);
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(9);
  });

  it('refuses the same order_no with another amount, naming the field, and changes nothing', async () => {
    const body = paymentBody({ amount: 1000 });
    const first = await pay(body);

    const mismatch = await pay({ ...body, amount: 2000 });

    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error).toMatchObject({ code: 'idempotency_key_mismatch', field: 'amount' });
    // No Idempotency-Key was sent: the refusal names the order_no the key came from.
    expect(mismatch.body.error.message).toBe(`order_no ${body.order_no} was already used with another amount`);
    const stored = await waitForTerminal(first.body.payment_no);
    expect(stored.amount).toBe(1000);
  });
});

describe('bad input', () => {
  it.each([
    ['a fractional amount', { amount: 10.5 }, 'amount'],
    ['a negative amount', { amount: -1 }, 'amount'],
    ['an unknown currency', { currency: 'ABC' }, 'currency'],
    ['a card number instead of a payment method', { payment_method: '4242424242424242' }, 'payment_method'],
    ['a merchant in the body', { merchant_id: 'merchant_other' }, 'merchant_id'],
  ])('answers 400 validation_failed for %s and writes nothing', async (_, overrides, field) => {
    const body = paymentBody(overrides);

    const response = await pay(body);

    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', field });
    // Nothing was written: the order is still free for a valid request.
    const valid = await pay({ order_no: body.order_no });
    expect(valid.status).toBe(201);
  });

  it.each(RESERVED_METADATA_KEYS)('answers 400 validation_failed naming metadata.%s, a key Chargeonce reserves, and writes nothing', async (key) => {
    // Prepare: a cart_id would have the saga settle that cart; the others would mislabel the charge.
    const body = paymentBody({ metadata: { note: 'mine', [key]: 'someone-elses' } });

    // Act
    const response = await pay(body);

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', field: `metadata.${key}` });
    const valid = await pay({ order_no: body.order_no, metadata: { note: 'mine' } });
    expect(valid.status).toBe(201);
  });

  it('answers 400 invalid_json for a body that is not JSON', async () => {
    const response = await api('POST', '/v1/payments', undefined, { rawBody: '{"order_no": ' });

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_json');
  });
});

describe('merchant keys', () => {
  it('answers 401 without a key', async () => {
    const response = await api('POST', '/v1/payments', paymentBody(), { key: null });

    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('unauthorized');
  });

  it('answers 401 for an unknown key', async () => {
    const response = await api('GET', '/v1/payments/pay_000000000000000000000000', undefined, { key: 'co_test_nope_nope_nope' });

    expect(response.status).toBe(401);
  });

  it("answers 404 for another merchant's payment, as for a missing one", async () => {
    const { body: created } = await pay();

    const foreign = await api('GET', `/v1/payments/${created.payment_no}`, undefined, { key: target().otherApiKey });
    const missing = await api('GET', '/v1/payments/pay_000000000000000000000000');

    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.body.error.code).toBe('not_found');
  });

  it("keeps two merchants' identical order numbers apart", async () => {
    const body = paymentBody();

    const mine = await pay(body);
    const theirs = await pay(body, target().otherApiKey);

    expect(theirs.status).toBe(201);
    expect(theirs.body.payment_no).not.toBe(mine.body.payment_no);
  });
});

describe.runIf(target().providerUrl)('against the Stripe-compatible fake', () => {
  const providerUrl = () => target().providerUrl!;

  it.each([
    ['pm_card_chargeDeclined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
    ['pm_card_chargeDeclinedLostCard', 'lost_card'],
    ['pm_card_chargeDeclinedStolenCard', 'stolen_card'],
    ['pm_card_chargeDeclinedFraudulent', 'fraudulent'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card'],
    ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc'],
    ['pm_card_chargeDeclinedProcessingError', 'processing_error'],
    ['pm_card_authenticationRequired', 'authentication_required'],
  ])('ends %s failed with decline code %s, no capture and the intent voided', async (paymentMethod, declineCode) => {
    const { body: created } = await pay({ payment_method: paymentMethod });

    const payment = await waitForTerminal(created.payment_no);

    expect(payment).toMatchObject({ status: 'failed', decline_code: declineCode, amount_captured: 0 });
    const intents = await intentsOf(providerUrl(), created.payment_no);
    expect(intents.map((pi) => pi.status)).toEqual(['canceled']);
  });

  it('fails a payment whose payment method the provider does not know, instead of retrying it', async () => {
    const { body: created } = await pay({ payment_method: 'pm_card_thatDoesNotExist' });

    const payment = await waitForTerminal(created.payment_no);

    expect(payment).toMatchObject({ status: 'failed', decline_code: 'invalid_payment_method' });
    expect(await intentsOf(providerUrl(), created.payment_no)).toEqual([]);
  });

  it('retries a provider outage on authorize to success', async () => {
    await armFaults(providerUrl(), { fail: { count: 2, status: 503, match: 'POST /v1/payment_intents' } });

    const { body: created } = await pay();
    const payment = await waitForTerminal(created.payment_no);

    expect(payment.status).toBe('succeeded');
  });

  it('retries rate limiting on capture to success, capturing once', async () => {
    await armFaults(providerUrl(), { fail: { count: 2, status: 429, match: 'POST /v1/payment_intents/*/capture' } });

    const { body: created } = await pay();
    const payment = await waitForTerminal(created.payment_no);

    expect(payment.status).toBe('succeeded');
    expect((await intentsOf(providerUrl(), created.payment_no)).flatMap((pi) => pi.captures)).toHaveLength(1);
  });

  // Count 2: the stripe SDK itself retries a dropped connection once, with the same key.
  it('recovers a capture whose response was lost after the provider committed it, without a second capture', async () => {
    await armFaults(providerUrl(), { dropResponseAfterCommit: { count: 2, match: 'POST /v1/payment_intents/*/capture' } });

    const { body: created } = await pay({ order_no: newOrderNo() });
    const payment = await waitForTerminal(created.payment_no);

    expect(payment.status).toBe('succeeded');
    expect((await intentsOf(providerUrl(), created.payment_no)).flatMap((pi) => pi.captures)).toHaveLength(1);
  });

  it('recovers an authorization whose response was lost, with one intent at the provider', async () => {
    await armFaults(providerUrl(), { dropResponseAfterCommit: { count: 2, match: 'POST /v1/payment_intents' } });

    const { body: created } = await pay();
    const payment = await waitForTerminal(created.payment_no);

    expect(payment.status).toBe('succeeded');
    expect(await intentsOf(providerUrl(), created.payment_no)).toHaveLength(1);
  });

  it('fails a payment whose authorization lapsed before capture, with decline code authorization_expired', async () => {
    // Prepare: hold the capture until the authorization has lapsed at the provider.
    await armFaults(providerUrl(), { hang: { count: 1, match: 'POST /v1/payment_intents/*/capture' } });
    const { body: created } = await pay();
    const [intent] = await waitFor(async () => {
      const intents = await intentsOf(providerUrl(), created.payment_no);
      return intents[0]?.status === 'requires_capture' ? intents : undefined;
    });

    // Act
    await fetch(`${providerUrl()}/_fake/payment_intents/${intent!.id}/expire_authorization`, { method: 'POST' });
    const payment = await waitForTerminal(created.payment_no);

    // Assess
    expect(payment).toMatchObject({ status: 'failed', decline_code: 'authorization_expired', amount_captured: 0 });
  });
});

describe('the reconciler, on the provider side', () => {
  const providerUrl = () => target().providerUrl!;
  const stray = (deployment: string) => {
    const provider = new StripePaymentProvider(createStripeClient({ apiKey: 'sk_test_it', apiBase: providerUrl() }));
    const paymentNo = `pay_nobody_${newOrderNo()}`;
    return provider.authorizeCharge({
      paymentNo,
      amount: 4200,
      currency: parseCurrency('USD')!,
      paymentMethod: 'pm_card_visa',
      idempotencyKey: `stray-${paymentNo}`,
      metadata: { payment_no: paymentNo, [DEPLOYMENT_METADATA_KEY]: deployment },
    });
  };

  it("voids an authorization that carries the stack's tag but no payment owns, and no one else's", async () => {
    // Prepare: as a payment record lost (restored from an old backup) would leave behind.
    const { deploymentId } = target();
    if (deploymentId === undefined) throw new Error('set DEPLOYMENT_ID to run this test against an external stack');
    const orphan = await stray(deploymentId);
    const foreign = await stray(`${deploymentId}-another-stack`);

    // Act: the schedule runs.
    const voided = await waitFor(async () => {
      const [intent] = await intentsOf(providerUrl(), orphan.paymentNo!);
      return intent?.status === 'canceled' ? intent : undefined;
    }, 30_000);

    // Assess
    expect(voided.captures).toEqual([]);
    const [untouched] = await intentsOf(providerUrl(), foreign.paymentNo!);
    expect(untouched?.status).toBe('requires_capture');
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
