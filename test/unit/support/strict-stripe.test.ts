import { beforeEach, describe, expect, it } from 'vitest';
import {
  AuthorizationExpiredError,
  CardDeclinedError,
  ProviderIdempotencyKeyInUseError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../../functions/domain/errors.ts';
import type { AuthorizeChargeInput, PaymentProvider } from '../../../functions/domain/provider.ts';
import { USD } from '../../support/currencies.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { STRIPE_REQUEST_LANDS_WITHIN_MS, STRIPE_SEARCH_LAG_MS, StrictStripe, strictProvider } from '../../support/strict/stripe.ts';

/**
 * The simulation's Stripe: it must refuse what Stripe refuses, or the simulation's checks pass
 * for nothing. Each case is a rule Stripe keeps, run through the real adapter.
 */
let clock: ManualClock;
let stripe: StrictStripe;
let provider: PaymentProvider;

beforeEach(() => {
  clock = new ManualClock(Date.parse('2026-01-05T00:00:00Z'));
  stripe = new StrictStripe({ clock: clock.clock, searchLagMs: STRIPE_SEARCH_LAG_MS });
  provider = strictProvider(stripe);
});

const authorization = (overrides: Partial<AuthorizeChargeInput> = {}): AuthorizeChargeInput => ({
  paymentNo: 'pay_1',
  amount: 1000,
  currency: USD,
  paymentMethod: 'pm_card_visa',
  idempotencyKey: 'pay_1:authorize',
  metadata: { payment_no: 'pay_1', chargeonce_deployment: 'sim' },
  ...overrides,
});

async function captured() {
  const charge = await provider.authorizeCharge(authorization());
  await provider.captureCharge({ chargeId: charge.id, idempotencyKey: 'pay_1:capture' });
  return charge;
}

describe('StrictStripe', () => {
  it('answers a repeated key with the first answer, and refuses it with other parameters', async () => {
    // Act
    const first = await provider.authorizeCharge(authorization());
    const again = await provider.authorizeCharge(authorization());
    const other = await provider.authorizeCharge(authorization({ amount: 2000 })).catch((e: unknown) => e);

    // Assess
    expect(again.id).toBe(first.id);
    expect(other).toBeInstanceOf(ProviderRejectedError);
    expect(stripe.ledger.paymentIntents).toHaveLength(1);
  });

  it('forgets a key 24 hours after its first use: the same request then makes a second charge', async () => {
    // Prepare
    const first = await provider.authorizeCharge(authorization());
    clock.advance(24 * 3600 * 1000);

    // Act
    const second = await provider.authorizeCharge(authorization());

    // Assess
    expect(second.id).not.toBe(first.id);
  });

  it('keeps a decline for its key, and nothing for a request refused before it ran', async () => {
    // Prepare
    const declined = authorization({ paymentMethod: 'pm_card_chargeDeclined', idempotencyKey: 'declined' });
    stripe.arm('refused');
    const refused = await provider.authorizeCharge(authorization()).catch((e: unknown) => e);

    // Act
    const afterRefusal = await provider.authorizeCharge(authorization());
    const firstDecline = await provider.authorizeCharge(declined).catch((e: unknown) => e);
    const repeatedDecline = await provider.authorizeCharge(declined).catch((e: unknown) => e);

    // Assess
    expect(refused).toBeInstanceOf(ProviderRejectedError);
    expect(afterRefusal.status).toBe('requires_capture');
    expect(firstDecline).toBeInstanceOf(CardDeclinedError);
    expect(repeatedDecline).toMatchObject({ name: 'CardDeclined', chargeId: (firstDecline as CardDeclinedError).chargeId });
    expect(stripe.ledger.paymentIntents).toHaveLength(2);
  });

  it('keeps nothing for a request its parameter checks refused: the corrected request runs under the same key', async () => {
    // Prepare
    const invalid = await provider
      .authorizeCharge(authorization({ metadata: { payment_no: 'pay_1', 'bad[key]': 'x' } }))
      .catch((e: unknown) => e);

    // Act
    const corrected = await provider.authorizeCharge(authorization());

    // Assess
    expect(invalid).toBeInstanceOf(ProviderRejectedError);
    expect(corrected.amount).toBe(1000);
  });

  it('lets a request that lost its answer run once: the retry gets the kept answer', async () => {
    // Prepare
    stripe.arm('lostResponse');
    const lost = await provider.authorizeCharge(authorization()).catch((e: unknown) => e);

    // Act
    const retried = await provider.authorizeCharge(authorization());

    // Assess
    expect(lost).toBeInstanceOf(ProviderUnavailableError);
    expect(stripe.ledger.paymentIntents.map((pi) => pi.id)).toEqual([retried.id]);
  });

  it('holds the key of a request still running: a retry meets key-in-use until it lands, within a minute', async () => {
    // Prepare
    stripe.arm('timeout');
    await provider.authorizeCharge(authorization()).catch(() => undefined);

    // Act
    const meanwhile = await provider.authorizeCharge(authorization()).catch((e: unknown) => e);
    clock.advance(STRIPE_REQUEST_LANDS_WITHIN_MS);
    const landed = await provider.authorizeCharge(authorization());

    // Assess
    expect(meanwhile).toBeInstanceOf(ProviderIdempotencyKeyInUseError);
    expect(stripe.ledger.paymentIntents.map((pi) => pi.id)).toEqual([landed.id]);
  });

  it('replays a 500 kept for the key until the key is forgotten', async () => {
    // Prepare
    stripe.arm('error500');
    await provider.authorizeCharge(authorization()).catch(() => undefined);

    // Act
    const replayed = await provider.authorizeCharge(authorization()).catch((e: unknown) => e);
    clock.advance(24 * 3600 * 1000);
    const fresh = await provider.authorizeCharge(authorization());

    // Assess
    expect(replayed).toBeInstanceOf(ProviderUnavailableError);
    expect(fresh.status).toBe('requires_capture');
  });

  it('refuses to void a captured charge, and to capture one voided or lapsed', async () => {
    // Prepare
    const capturedCharge = await captured();
    const voided = await provider.authorizeCharge(authorization({ paymentNo: 'pay_2', idempotencyKey: 'pay_2:authorize' }));
    await provider.voidCharge({ chargeId: voided.id, idempotencyKey: 'pay_2:void' });
    const lapsing = await provider.authorizeCharge(authorization({ paymentNo: 'pay_3', idempotencyKey: 'pay_3:authorize' }));
    clock.advance(7 * 24 * 3600 * 1000);

    // Act
    const voidCaptured = await provider.voidCharge({ chargeId: capturedCharge.id, idempotencyKey: 'v' }).catch((e: unknown) => e);
    const captureVoided = await provider.captureCharge({ chargeId: voided.id, idempotencyKey: 'c2' }).catch((e: unknown) => e);
    const captureLapsed = await provider.captureCharge({ chargeId: lapsing.id, idempotencyKey: 'c3' }).catch((e: unknown) => e);

    // Assess
    expect(voidCaptured).toBeInstanceOf(ProviderRejectedError);
    expect(captureVoided).toBeInstanceOf(AuthorizationExpiredError);
    expect(captureLapsed).toBeInstanceOf(AuthorizationExpiredError);
  });

  it('caps refunds at what was captured, each refund keyed', async () => {
    // Prepare
    const charge = await captured();
    const refund = (key: string, amount: number) =>
      provider.refundCharge({ chargeId: charge.id, amount, idempotencyKey: key, metadata: { refund_no: key } });

    // Act
    await refund('r1', 600);
    const over = await refund('r2', 600).catch((e: unknown) => e);
    await refund('r3', 400);

    // Assess
    expect(over).toBeInstanceOf(ProviderRejectedError);
    expect((await provider.findRefundsOfCharge(charge.id)).map((r) => [r.refundNo, r.amount])).toEqual([
      ['r3', 400],
      ['r1', 600],
    ]);
  });

  it('finds a new charge by its payment_no only once the search index caught up', async () => {
    // Prepare
    await provider.findChargesByPaymentNo('pay_1');
    await provider.authorizeCharge(authorization());

    // Act
    const atOnce = await provider.findChargesByPaymentNo('pay_1');
    clock.advance(STRIPE_SEARCH_LAG_MS + 1);
    const later = await provider.findChargesByPaymentNo('pay_1');

    // Assess
    expect(atOnce).toEqual([]);
    expect(later).toHaveLength(1);
  });

  it('holds a refund pending, which then settles by itself as told, the amount back on the charge when it fails', async () => {
    // Prepare
    const charge = await captured();
    stripe.holdNextRefunds(1, { settle: { status: 'failed', afterSeconds: 120, failureReason: 'lost_or_stolen_card' } });
    const refund = await provider.refundCharge({ chargeId: charge.id, amount: 400, idempotencyKey: 'r1', metadata: { refund_no: 'r1' } });

    // Act
    const before = await provider.retrieveRefund(refund.id);
    clock.advance(120 * 1000);
    const after = await provider.retrieveRefund(refund.id);
    const replayed = await provider.refundCharge({ chargeId: charge.id, amount: 400, idempotencyKey: 'r1', metadata: { refund_no: 'r1' } });

    // Assess
    expect([refund.status, before.status]).toEqual(['pending', 'pending']);
    expect(after).toMatchObject({ status: 'failed', failureReason: 'lost_or_stolen_card' });
    expect(replayed.status).toBe('pending');
    expect((await provider.retrieveCharge(charge.id)).amountRefunded).toBe(0);
  });

  it('settles a pending refund when the history says, and only a pending one', async () => {
    // Prepare
    const charge = await captured();
    stripe.holdNextRefunds(1);
    const refund = await provider.refundCharge({ chargeId: charge.id, amount: 400, idempotencyKey: 'r1', metadata: { refund_no: 'r1' } });

    // Act
    stripe.settleRefund(refund.id, 'succeeded');
    const settledTwice = (() => {
      try {
        stripe.settleRefund(refund.id, 'canceled');
        return undefined;
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(await provider.retrieveRefund(refund.id)).toMatchObject({ status: 'succeeded' });
    expect(settledTwice).toBeInstanceOf(Error);
    expect((await provider.retrieveCharge(charge.id)).amountRefunded).toBe(400);
  });

  it('refuses a charge under the currency\'s minimum or in a currency it does not support, keeping nothing for the key', async () => {
    // Act
    const tooSmall = await provider.authorizeCharge(authorization({ amount: 49 })).catch((e: unknown) => e);
    const unsupported = await provider
      .authorizeCharge(authorization({ currency: 'BOV' as typeof USD, idempotencyKey: 'pay_2:authorize' }))
      .catch((e: unknown) => e);
    const corrected = await provider.authorizeCharge(authorization());

    // Assess
    expect(tooSmall).toMatchObject({ name: 'CardDeclined', declineCode: 'amount_too_small' });
    expect(unsupported).toMatchObject({ name: 'CardDeclined' });
    expect(corrected.status).toBe('requires_capture');
  });
});
