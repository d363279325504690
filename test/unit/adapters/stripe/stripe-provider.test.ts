import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient } from '../../../../functions/adapters/stripe/client.ts';
import { StripePaymentProvider } from '../../../../functions/adapters/stripe/stripe-provider.ts';
import {
  AuthorizationExpiredError,
  CardDeclinedError,
  ProviderIdempotencyKeyInUseError,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../../../functions/domain/errors.ts';
import { parseCurrency } from '../../../../functions/domain/money.ts';
import { type AuthorizeChargeInput, CAPTURE_METHOD_METADATA_KEY } from '../../../../functions/domain/provider.ts';
import { startFakeProvider, type FakeProvider } from '../../../../local/fake-provider/server.ts';

let fake: FakeProvider;
let provider: StripePaymentProvider;

beforeAll(async () => {
  // As the local stack runs it: a call sent without the caller's own key is refused.
  fake = await startFakeProvider({ requireIdempotencyKey: true });
  provider = new StripePaymentProvider(
    createStripeClient({ apiKey: 'sk_test_adapter', apiBase: fake.url, timeoutMs: 1000 }),
  );
});

afterEach(() => fake.faults.clear());
afterAll(() => fake.close());

function authorizeInput(overrides: Partial<AuthorizeChargeInput> = {}): AuthorizeChargeInput {
  const paymentNo = `P-${randomUUID()}`;
  return {
    paymentNo,
    amount: 2500,
    currency: parseCurrency('EUR')!,
    paymentMethod: 'pm_card_visa',
    idempotencyKey: `authorize-${paymentNo}`,
    metadata: { payment_no: paymentNo, order_no: 'O-1' },
    description: 'Order O-1',
    customerEmail: 'buyer@example.com',
    ...overrides,
  };
}

function ledgerEntry(chargeId: string) {
  return fake.ledger().paymentIntents.find((pi) => pi.id === chargeId);
}

async function authorized() {
  return provider.authorizeCharge(authorizeInput());
}

describe('StripePaymentProvider against the fake provider', () => {
  describe('authorizeCharge', () => {
    it('returns an uncaptured charge with the payment_no and the capture deadline', async () => {
      // Prepare
      const input = authorizeInput();

      // Act
      const charge = await provider.authorizeCharge(input);

      // Assess
      expect(charge).toMatchObject({
        status: 'requires_capture',
        amount: 2500,
        currency: 'EUR',
        amountCaptured: 0,
        amountRefunded: 0,
        paymentNo: input.paymentNo,
      });
      expect(charge.captureBefore).toBe(charge.createdAt + 7 * 24 * 60 * 60);
      expect(ledgerEntry(charge.id)).toMatchObject({
        currency: 'eur',
        captureMethod: 'manual',
        metadata: { payment_no: input.paymentNo, order_no: 'O-1' },
        receiptEmail: 'buyer@example.com',
        description: 'Order O-1',
      });
    });

    it('creates one PaymentIntent when the same authorization is sent twice with one key', async () => {
      // Prepare
      const input = authorizeInput();

      // Act
      const first = await provider.authorizeCharge(input);
      const second = await provider.authorizeCharge(input);

      // Assess
      expect(second.id).toBe(first.id);
      expect(fake.ledger().paymentIntents.filter((pi) => pi.metadata['payment_no'] === input.paymentNo)).toHaveLength(1);
    });

    it.each([
      ['pm_card_chargeDeclined', 'generic_decline'],
      ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
      ['pm_card_chargeDeclinedLostCard', 'lost_card'],
      ['pm_card_chargeDeclinedStolenCard', 'stolen_card'],
      ['pm_card_chargeDeclinedFraudulent', 'fraudulent'],
      ['pm_card_chargeDeclinedExpiredCard', 'expired_card'],
      ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc'],
      ['pm_card_chargeDeclinedProcessingError', 'processing_error'],
    ])('throws CardDeclined with code %s → %s and the declined PaymentIntent id', async (paymentMethod, declineCode) => {
      // Prepare
      const input = authorizeInput({ paymentMethod });

      // Act
      const error = await provider.authorizeCharge(input).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(CardDeclinedError);
      const declined = error as CardDeclinedError;
      expect(declined.declineCode).toBe(declineCode);
      expect(declined.chargeId).toMatch(/^pi_/);
      expect(ledgerEntry(declined.chargeId!)?.status).toBe('requires_payment_method');
      const retrieved = await provider.retrieveCharge(declined.chargeId!);
      expect(retrieved.declineCode).toBe(declineCode);
    });

    it('throws CardDeclined authentication_required when the card asks for 3-D Secure', async () => {
      // Prepare
      const input = authorizeInput({ paymentMethod: 'pm_card_authenticationRequired' });

      // Act
      const error = await provider.authorizeCharge(input).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(CardDeclinedError);
      expect((error as CardDeclinedError).declineCode).toBe('authentication_required');
      expect(ledgerEntry((error as CardDeclinedError).chargeId!)?.status).toBe('requires_action');
    });

    it.each([
      ['under the minimum of its currency', { amount: 49, currency: parseCurrency('USD')! }, 'amount_too_small'],
      ['in a currency the provider does not charge in', { currency: parseCurrency('XDR')! }, 'invalid_currency'],
    ])('declines a charge %s: final, so the payment fails instead of staying pending', async (_, change, declineCode) => {
      // Prepare
      const input = authorizeInput(change);

      // Act
      const error = await provider.authorizeCharge(input).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(CardDeclinedError);
      expect((error as CardDeclinedError).declineCode).toBe(declineCode);
    });

    it('declines an unknown payment method with invalid_payment_method: final, not retried', async () => {
      // Prepare
      const input = authorizeInput({ paymentMethod: 'pm_card_doesNotExist' });

      // Act
      const error = await provider.authorizeCharge(input).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(CardDeclinedError);
      expect((error as CardDeclinedError).declineCode).toBe('invalid_payment_method');
    });
  });

  describe('captureCharge', () => {
    it('captures the full amount once when two captures share a key', async () => {
      // Prepare
      const charge = await authorized();

      // Act
      const first = await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` });
      const second = await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` });

      // Assess
      expect(first).toMatchObject({ status: 'succeeded', amountCaptured: 2500 });
      expect(second).toEqual(first);
      expect(ledgerEntry(charge.id)?.captures).toHaveLength(1);
    });

    it('returns the captured charge when capturing again under another key', async () => {
      // Prepare
      const charge = await authorized();
      await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` });

      // Act
      const again = await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `capture-again-${charge.id}` });

      // Assess
      expect(again).toMatchObject({ status: 'succeeded', amountCaptured: 2500 });
      expect(ledgerEntry(charge.id)?.captures).toHaveLength(1);
    });

    it('throws AuthorizationExpired when the authorization lapsed before capture', async () => {
      // Prepare
      const charge = await authorized();
      await fake.expireAuthorization(charge.id);

      // Act
      const error = await provider
        .captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` })
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(AuthorizationExpiredError);
      expect(ledgerEntry(charge.id)).toMatchObject({ status: 'canceled', cancellation: { reason: 'automatic' }, captures: [] });
    });

    it('throws AuthorizationExpired when the authorization was voided before capture', async () => {
      // Prepare
      const charge = await authorized();
      await provider.voidCharge({ chargeId: charge.id, idempotencyKey: `void-${charge.id}` });

      // Act
      const error = await provider
        .captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` })
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(AuthorizationExpiredError);
    });
  });

  describe('voidCharge', () => {
    it('cancels an authorization and returns the voided charge on a second void', async () => {
      // Prepare
      const charge = await authorized();

      // Act
      const voided = await provider.voidCharge({ chargeId: charge.id, idempotencyKey: `void-${charge.id}` });
      const again = await provider.voidCharge({ chargeId: charge.id, idempotencyKey: `void-again-${charge.id}` });

      // Assess
      expect(voided.status).toBe('canceled');
      expect(again.status).toBe('canceled');
      expect(ledgerEntry(charge.id)?.cancellation).not.toBeNull();
    });

    it('rejects voiding a captured charge', async () => {
      // Prepare
      const charge = await authorized();
      await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` });

      // Act
      const error = await provider
        .voidCharge({ chargeId: charge.id, idempotencyKey: `void-${charge.id}` })
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(ProviderRejectedError);
      expect(ledgerEntry(charge.id)?.status).toBe('succeeded');
    });
  });

  describe('findChargesByPaymentNo', () => {
    it('finds every charge carrying the payment_no, newest first, and nothing else', async () => {
      // Prepare
      const input = authorizeInput();
      const declined = await provider
        .authorizeCharge({ ...input, paymentMethod: 'pm_card_chargeDeclined', idempotencyKey: `${input.idempotencyKey}-1` })
        .catch((e: CardDeclinedError) => e.chargeId);
      const charge = await provider.authorizeCharge({ ...input, idempotencyKey: `${input.idempotencyKey}-2` });
      await authorized();

      // Act
      const found = await provider.findChargesByPaymentNo(input.paymentNo);

      // Assess
      expect(found.map((c) => c.id).sort()).toEqual([declined, charge.id].sort());
      expect(found.every((c) => c.paymentNo === input.paymentNo)).toBe(true);
      expect(found[0]!.createdAt).toBeGreaterThanOrEqual(found[1]!.createdAt);
    });

    it('finds a payment_no that contains quotes and backslashes', async () => {
      // Prepare
      const paymentNo = `P-'quoted'\\-${randomUUID()}`;
      const charge = await provider.authorizeCharge(authorizeInput({ paymentNo, idempotencyKey: `authorize-${paymentNo}` }));

      // Act
      const found = await provider.findChargesByPaymentNo(paymentNo);

      // Assess
      expect(found.map((c) => c.id)).toEqual([charge.id]);
    });

    it('finds nothing for a payment_no no charge carries', async () => {
      // Act
      const found = await provider.findChargesByPaymentNo(`P-${randomUUID()}`);

      // Assess
      expect(found).toEqual([]);
    });
  });

  describe('listOpenAuthorizations', () => {
    it("lists the open authorizations of one deployment and one capture method created before a time, and nothing else", async () => {
      // Prepare
      const deployment = `dep-${randomUUID()}`;
      const tagged = (overrides: Partial<AuthorizeChargeInput> = {}, extra: Record<string, string> = {}) => {
        const input = authorizeInput(overrides);
        return { ...input, metadata: { ...input.metadata, chargeonce_deployment: deployment, ...extra } };
      };
      const open = await provider.authorizeCharge(tagged());
      const manual = await provider.authorizeCharge(tagged({}, { [CAPTURE_METHOD_METADATA_KEY]: 'manual' }));
      const captured = await provider.authorizeCharge(tagged());
      await provider.captureCharge({ chargeId: captured.id, idempotencyKey: `c-${captured.id}` });
      const voided = await provider.authorizeCharge(tagged());
      await provider.voidCharge({ chargeId: voided.id, idempotencyKey: `v-${voided.id}` });
      await provider.authorizeCharge(authorizeInput());
      const before = (ms: number) => ({ deployment, createdBefore: new Date(Date.now() + ms), limit: 10 });

      // Act
      const listed = await provider.listOpenAuthorizations({ ...before(2000), captureMethod: 'automatic' });
      const listedManual = await provider.listOpenAuthorizations({ ...before(2000), captureMethod: 'manual' });
      const older = await provider.listOpenAuthorizations({ ...before(-60_000), captureMethod: 'automatic' });

      // Assess
      expect(listed.map((charge) => charge.id)).toEqual([open.id]);
      expect(listed[0]).toMatchObject({ status: 'requires_capture', paymentNo: open.paymentNo, deployment });
      expect(listedManual.map((charge) => charge.id)).toEqual([manual.id]);
      expect(older).toEqual([]);
    });

    it('captures part of an authorization when given an amount, releasing the rest', async () => {
      // Prepare
      const charge = await provider.authorizeCharge(authorizeInput());

      // Act
      const captured = await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `c-${charge.id}`, amount: charge.amount - 100 });

      // Assess
      expect(captured).toMatchObject({ status: 'succeeded', amountCaptured: charge.amount - 100 });
    });

    it('reports the capture deadline the provider sets, however short', async () => {
      fake.faults.setAuthorizationWindow(3600);

      const charge = await provider.authorizeCharge(authorizeInput());

      expect(charge.captureBefore).toBe(charge.createdAt + 3600);
    });
  });

  describe('idempotency keys', () => {
    it('sends every call that moves money under the key its caller gave, and nothing else', async () => {
      // Prepare
      const input = authorizeInput();
      const voided = await authorized();

      // Act
      const charge = await provider.authorizeCharge(input);
      await provider.captureCharge({ chargeId: charge.id, idempotencyKey: 'the-capture-key' });
      await provider.refundCharge({ chargeId: charge.id, amount: 100, idempotencyKey: 'the-refund-key', metadata: {} });
      await provider.voidCharge({ chargeId: voided.id, idempotencyKey: 'the-void-key' });

      // Assess
      const keysOn = (id: string) => fake.ledger().calls.filter((call) => call.paymentIntent === id).map((call) => call.idempotencyKey);
      expect(keysOn(charge.id)).toEqual([input.idempotencyKey, 'the-capture-key', 'the-refund-key']);
      expect(keysOn(voided.id).slice(1)).toEqual(['the-void-key']);
    });
  });

  describe('refundCharge', () => {
    it('refunds part of a captured charge and shows it on the charge', async () => {
      // Prepare
      const charge = await authorized();
      await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` });

      // Act
      const refund = await provider.refundCharge({
        chargeId: charge.id,
        amount: 1000,
        idempotencyKey: `refund-${charge.id}`,
        metadata: { refund_no: 'R-1' },
      });

      // Assess
      expect(refund).toMatchObject({ chargeId: charge.id, amount: 1000, status: 'succeeded' });
      expect((await provider.retrieveCharge(charge.id)).amountRefunded).toBe(1000);
      expect(fake.ledger().refunds.filter((r) => r.paymentIntent === charge.id)).toEqual([
        expect.objectContaining({ id: refund.id, amount: 1000, metadata: { refund_no: 'R-1' } }),
      ]);
    });

    it('refunds once when the refund is retried with the same key', async () => {
      // Prepare
      const charge = await authorized();
      await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` });
      const input = { chargeId: charge.id, amount: 2500, idempotencyKey: `refund-${charge.id}`, metadata: {} };

      // Act
      const first = await provider.refundCharge(input);
      const second = await provider.refundCharge(input);

      // Assess
      expect(second.id).toBe(first.id);
      expect(fake.ledger().refunds.filter((r) => r.paymentIntent === charge.id)).toHaveLength(1);
    });
  });

  describe('findRefundsOfCharge', () => {
    it("finds every refund of the charge with its refund_no, newest first, and no other charge's", async () => {
      // Prepare
      const charge = await authorized();
      const other = await authorized();
      for (const c of [charge, other]) await provider.captureCharge({ chargeId: c.id, idempotencyKey: `capture-${c.id}` });
      const refund = (refundNo: string, chargeId = charge.id) =>
        provider.refundCharge({ chargeId, amount: 100, idempotencyKey: `refund-${refundNo}`, metadata: { refund_no: refundNo } });
      const first = await refund('R-1');
      const second = await refund('R-2');
      await refund('R-3', other.id);

      // Act
      const found = await provider.findRefundsOfCharge(charge.id);

      // Assess
      expect(found).toEqual([
        { id: second.id, chargeId: charge.id, amount: 100, status: 'succeeded', refundNo: 'R-2' },
        { id: first.id, chargeId: charge.id, amount: 100, status: 'succeeded', refundNo: 'R-1' },
      ]);
    });
  });

  describe('retrieveRefund', () => {
    /** A refund of 1000 the provider holds pending. */
    async function pendingRefund() {
      const charge = await authorized();
      await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` });
      fake.faults.holdNextRefunds(1, { paymentIntent: charge.id });
      const refund = await provider.refundCharge({ chargeId: charge.id, amount: 1000, idempotencyKey: `refund-${charge.id}`, metadata: {} });
      return { charge, refund };
    }

    it('follows a pending refund to succeeded', async () => {
      // Prepare
      const { charge, refund } = await pendingRefund();
      const before = await provider.retrieveRefund(refund.id);
      await fake.settleRefund(refund.id, 'succeeded');

      // Act
      const after = await provider.retrieveRefund(refund.id);

      // Assess
      expect(refund.status).toBe('pending');
      expect(before).toEqual(refund);
      expect(after).toEqual({ id: refund.id, chargeId: charge.id, amount: 1000, status: 'succeeded' });
    });

    it.each([
      ['failed', 'expired_or_canceled_card'],
      ['canceled', undefined],
    ] as const)('follows a pending refund to %s, with the provider\'s failure reason, and the amount back on the charge', async (status, reason) => {
      // Prepare
      const { charge, refund } = await pendingRefund();
      await fake.settleRefund(refund.id, status, reason);

      // Act
      const after = await provider.retrieveRefund(refund.id);

      // Assess
      expect(after).toEqual({ id: refund.id, chargeId: charge.id, amount: 1000, status, ...(reason && { failureReason: reason }) });
      expect((await provider.retrieveCharge(charge.id)).amountRefunded).toBe(0);
    });

    it('rejects a refund id the provider does not know', async () => {
      // Act
      const error = await provider.retrieveRefund('re_unknown').catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(ProviderRejectedError);
    });

    it('reads a status it does not know as pending: looked at again, never taken as final', async () => {
      // Prepare: Stripe adds statuses now and then; the fake has none to show.
      const stripe = { refunds: { retrieve: async () => ({ id: 're_new', amount: 5, payment_intent: 'pi_1', status: 'in_transit' }) } };
      const onNewStatus = new StripePaymentProvider(stripe as unknown as ConstructorParameters<typeof StripePaymentProvider>[0]);

      // Act
      const refund = await onNewStatus.retrieveRefund('re_new');

      // Assess
      expect(refund).toEqual({ id: 're_new', chargeId: 'pi_1', amount: 5, status: 'pending' });
    });
  });

  describe('faults', () => {
    it.each([
      [500, 'ProviderUnavailable', ProviderUnavailableError],
      [503, 'ProviderUnavailable', ProviderUnavailableError],
      [429, 'ProviderRateLimited', ProviderRateLimitedError],
      [409, 'ProviderIdempotencyKeyInUse', ProviderIdempotencyKeyInUseError],
    ] as const)('maps a %s answer to %s', async (status, _name, errorClass) => {
      // Prepare
      const charge = await authorized();
      fake.faults.failNext(1, status, 'POST /v1/payment_intents/*/capture');

      // Act
      const error = await provider
        .captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` })
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(errorClass);
      expect((error as Error).cause).toBeDefined();
      expect(ledgerEntry(charge.id)?.captures).toHaveLength(0);
    });

    it('maps a request that outlives the timeout to ProviderUnavailable', async () => {
      // Prepare
      const charge = await authorized();
      fake.faults.hangNext(1, 'GET /v1/payment_intents/*');

      // Act
      const error = await provider.retrieveCharge(charge.id).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(ProviderUnavailableError);
    });

    it('maps an unreachable provider to ProviderUnavailable', async () => {
      // Prepare
      const unreachable = new StripePaymentProvider(
        createStripeClient({ apiKey: 'sk_test_adapter', apiBase: 'http://127.0.0.1:1', timeoutMs: 1000 }),
      );

      // Act
      const error = await unreachable.retrieveCharge('pi_missing').catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(ProviderUnavailableError);
    });

    it('recovers the answer of a capture whose first response was lost, without capturing twice', async () => {
      // Prepare
      const charge = await authorized();
      fake.faults.dropResponseAfterCommit(1, 'POST /v1/payment_intents/*/capture');

      // Act: the SDK retries a closed connection once, with the same idempotency key.
      const captured = await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` });

      // Assess
      expect(captured.status).toBe('succeeded');
      expect(ledgerEntry(charge.id)?.captures).toHaveLength(1);
    });

    it('rejects an idempotency key reused with other parameters', async () => {
      // Prepare
      const input = authorizeInput();
      await provider.authorizeCharge(input);

      // Act
      const error = await provider.authorizeCharge({ ...input, amount: 9900 }).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(ProviderRejectedError);
    });

    it('rejects a charge id the provider does not know', async () => {
      // Act
      const error = await provider.retrieveCharge('pi_unknown').catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(ProviderRejectedError);
    });
  });
});

describe('listBalanceTransactions', () => {
  async function captured(merchantId: string, amount = 2500) {
    const charge = await provider.authorizeCharge(authorizeInput({ amount, metadata: { merchant_id: merchantId, chargeonce_deployment: 'stack-a' } }));
    await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `capture-${charge.id}` });
    return charge.id;
  }

  it('names each charge by its PaymentIntent and each refund by its refund_no, with the merchant and deployment of their metadata', async () => {
    // Prepare
    const from = new Date(Math.floor(Date.now() / 1000) * 1000);
    const chargeId = await captured('merchant_bt');
    await provider.refundCharge({ chargeId, amount: 400, idempotencyKey: `refund-${chargeId}`, metadata: { refund_no: 're_ours_1', merchant_id: 'merchant_bt', chargeonce_deployment: 'stack-a' } });

    // Act
    const listed = await provider.listBalanceTransactions({ createdFrom: from, createdBefore: new Date(Date.now() + 2000) });

    // Assess
    const ours = listed.filter((t) => t.merchantId === 'merchant_bt');
    expect(ours.map(({ type, source, amount, currency, deployment }) => ({ type, source, amount, currency, deployment })).sort((a, b) => a.type.localeCompare(b.type))).toEqual([
      { type: 'charge', source: chargeId, amount: 2500, currency: 'EUR', deployment: 'stack-a' },
      { type: 'refund', source: 're_ours_1', amount: -400, currency: 'EUR', deployment: 'stack-a' },
    ]);
    expect(ours.every((t) => t.id.startsWith('txn_') && t.net === t.amount - t.fee)).toBe(true);
  });

  it('reads every page, and nothing created at or after its end', async () => {
    // Prepare: more than a page of captures, in a window of their own.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const from = new Date(Math.ceil(Date.now() / 1000) * 1000);
    await new Promise((resolve) => setTimeout(resolve, from.getTime() - Date.now()));
    const made = [];
    for (let i = 0; i < 101; i += 1) made.push(await captured('merchant_pages', 100 + i));
    const before = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
    await new Promise((resolve) => setTimeout(resolve, before.getTime() - Date.now()));
    await captured('merchant_pages', 5000);

    // Act
    const listed = await provider.listBalanceTransactions({ createdFrom: from, createdBefore: before });

    // Assess
    expect(listed.map((t) => t.source).sort()).toEqual([...made].sort());
  });
});
