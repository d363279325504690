import { describe, expect, it } from 'vitest';
import { ConcurrentModificationError, LedgerSourceNotPostedError, UnbalancedJournalError } from '../../../functions/domain/errors.ts';
import { balanceTransactionId, parseBalanceTransactionId } from '../../../functions/domain/ledger/balance-transaction.ts';
import { DEFAULT_LEDGER_SETTINGS, type LedgerSettings, availableOn, feeFor, feeReturnedBy, ledgerSettingsProblems } from '../../../functions/domain/ledger/fees.ts';
import { imbalanceOf, journalTransaction } from '../../../functions/domain/ledger/journal.ts';
import { type LedgerDeps, balanceView, ledgerEventOf, postChange, releaseDueFunds } from '../../../functions/domain/ledger/ledger.ts';
import type { Currency } from '../../../functions/domain/money.ts';
import type { Payment } from '../../../functions/domain/payment.ts';
import type { Refund } from '../../../functions/domain/refund.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { succeededPayment as paymentFixture } from '../../support/payments.ts';
import { StrictLedgerStore } from '../../support/strict/ledger.ts';

const USD = 'USD' as Currency;
const CAPTURED_AT = '2026-12-01T10:00:00.000Z';
const DAY_MS = 86_400_000;

function succeededPayment(overrides: Partial<Payment> = {}): Payment {
  return paymentFixture({ merchantId: 'merchant_a', createdAt: CAPTURED_AT, updatedAt: CAPTURED_AT, ...overrides });
}

function succeededRefund(refundNo: string, amount: number, at: string, overrides: Partial<Refund> = {}): Refund {
  return {
    refundNo,
    paymentNo: 'pay_1',
    merchantId: 'merchant_a',
    amount,
    operatorId: 'op',
    currency: USD,
    chargeId: 'pi_1',
    status: 'succeeded',
    version: 2,
    createdAt: at,
    updatedAt: at,
    resumeCount: 0,
    ...overrides,
  };
}

function world(settings: Partial<LedgerSettings> = {}) {
  const clock = new ManualClock(Date.parse(CAPTURED_AT));
  const ledger = new StrictLedgerStore();
  const deps: LedgerDeps = { ledger, settingsOf: async () => ({ ...DEFAULT_LEDGER_SETTINGS, ...settings }), clock: clock.clock };
  const capture = (payment = succeededPayment()) =>
    postChange(deps, { kind: 'payment', before: { ...payment, status: 'authorized', version: payment.version - 1 }, after: payment });
  const refund = (refundNo: string, amount: number, atMs = clock.ms) =>
    postChange(deps, { kind: 'refund', after: succeededRefund(refundNo, amount, new Date(atMs).toISOString()) });
  const balances = async () => (await ledger.balances('merchant_a'))[0]?.balances;
  return { clock, ledger, deps, capture, refund, balances };
}

describe('the fee rule', () => {
  it('takes the percentage rounded half up to the minor unit, plus the fixed part', () => {
    // Prepare / Act / Assess in one line each: 2.9% of 1000 is 29; of 50 it is 1.45, so 1; 0.5 rounds up.
    expect(feeFor(1000, { feeBps: 290, feeFixed: 30 })).toBe(59);
    expect(feeFor(50, { feeBps: 290, feeFixed: 30 })).toBe(31);
    expect(feeFor(5000, { feeBps: 1, feeFixed: 0 })).toBe(1);
    expect(feeFor(4999, { feeBps: 1, feeFixed: 0 })).toBe(0);
  });

  it('never takes more than the amount captured', () => {
    expect(feeFor(20, { feeBps: 290, feeFixed: 30 })).toBe(20);
  });

  it('stays exact at the largest amount and rate', () => {
    expect(feeFor(99_999_999, { feeBps: 10_000, feeFixed: 0 })).toBe(99_999_999);
    expect(feeFor(99_999_999, { feeBps: 290, feeFixed: 30 })).toBe(2_900_030);
  });

  it('gives back no fee on a refund unless the merchant returns fees, then exactly the whole fee over partial refunds', () => {
    const charge = { amount: 1000, fee: 59 };
    expect(feeReturnedBy({ amount: 1000, refundedBefore: 0, feeReturnedBefore: 0 }, charge, { refundsReturnFees: false })).toBe(0);

    const parts = [333, 333, 334];
    let refundedBefore = 0;
    let feeReturnedBefore = 0;
    for (const amount of parts) {
      feeReturnedBefore += feeReturnedBy({ amount, refundedBefore, feeReturnedBefore }, charge, { refundsReturnFees: true });
      refundedBefore += amount;
    }

    expect(feeReturnedBefore).toBe(59);
  });

  it('makes funds available the merchant’s delay in whole days after capture', () => {
    expect(availableOn(CAPTURED_AT, { payoutDelayDays: 2 })).toBe('2026-12-03T10:00:00.000Z');
  });
});

describe('a merchant’s ledger settings', () => {
  it('accepts the defaults and the edges of each range', () => {
    expect(ledgerSettingsProblems(DEFAULT_LEDGER_SETTINGS)).toEqual({});
    expect(ledgerSettingsProblems({ feeBps: 0, feeFixed: 0, payoutDelayDays: 0, timeZone: 'UTC' })).toEqual({});
    expect(ledgerSettingsProblems({ feeBps: 10_000, payoutDelayDays: 365, timeZone: 'America/New_York' })).toEqual({});
  });

  it('names each setting out of its range, and only those', () => {
    // Act
    const problems = ledgerSettingsProblems({ feeBps: 10_001, feeFixed: 1.5, payoutDelayDays: -1, timeZone: 'Europe/Atlantis' });

    // Assess
    expect(Object.keys(problems).sort()).toEqual(['feeBps', 'feeFixed', 'payoutDelayDays', 'timeZone']);
    expect(ledgerSettingsProblems({ feeBps: Number.NaN, feeFixed: 30 })).toEqual({ feeBps: expect.stringMatching(/whole number/) });
  });
});

describe('journal transactions', () => {
  it('refuses a transaction whose debits do not equal its credits, before anything is written', () => {
    const where = { merchantId: 'm', currency: USD, createdAt: CAPTURED_AT };

    const unbalanced = () =>
      journalTransaction('fee:pi_1', where, [
        { account: 'pending', amount: 59 },
        { account: 'platform_fees', amount: -58 },
      ]);
    const fractional = () =>
      journalTransaction('fee:pi_1', where, [
        { account: 'pending', amount: 0.5 },
        { account: 'platform_fees', amount: -0.5 },
      ]);

    expect(unbalanced).toThrow(UnbalancedJournalError);
    expect(fractional).toThrow(UnbalancedJournalError);
  });
});

describe('which change the ledger records', () => {
  it('records a payment once, when it becomes succeeded, and a refund once, when it becomes succeeded', () => {
    const payment = succeededPayment();
    const refund = succeededRefund('re_1', 100, CAPTURED_AT);

    expect(ledgerEventOf({ kind: 'payment', before: { ...payment, status: 'authorized' }, after: payment })?.type).toBe('capture');
    expect(ledgerEventOf({ kind: 'payment', before: payment, after: { ...payment, amountRefunded: 100 } })).toBeUndefined();
    expect(ledgerEventOf({ kind: 'payment', before: { ...payment, status: 'pending' }, after: { ...payment, status: 'authorized' } })).toBeUndefined();
    expect(ledgerEventOf({ kind: 'refund', before: { ...refund, status: 'pending' }, after: refund })?.type).toBe('refund');
    expect(ledgerEventOf({ kind: 'refund', before: { ...refund, status: 'failed' }, after: refund })?.type).toBe('refund');
    expect(ledgerEventOf({ kind: 'refund', before: { ...refund, status: 'pending' }, after: { ...refund, status: 'failed' } })).toBeUndefined();
  });
});

describe('postings', () => {
  it('puts a captured payment in pending less its fee, every transaction summing to zero', async () => {
    const { capture, ledger, balances } = world();

    expect(await capture()).toBe('posted');

    expect(await balances()).toMatchObject({ provider_clearing: 1000, pending: 941, available: 0, platform_fees: 59 });
    const journal = await ledger.journal('merchant_a');
    expect(journal.map((t) => t.key).sort()).toEqual(['capture:pi_1', 'fee:pi_1']);
    expect(journal.map(imbalanceOf)).toEqual([0, 0]);
    const [charge] = (await ledger.listBalanceTransactions('merchant_a', { limit: 10 })).data;
    expect(charge).toMatchObject({ type: 'charge', source: 'pi_1', amount: 1000, fee: 59, net: 941, status: 'pending', availableOn: '2026-12-03T10:00:00.000Z' });
  });

  it('posts a capture delivered twice once', async () => {
    const { capture, balances, ledger } = world();
    await capture();

    expect(await capture()).toBe('already_posted');

    expect(await balances()).toMatchObject({ pending: 941, provider_clearing: 1000 });
    expect(await ledger.journal('merchant_a')).toHaveLength(2);
  });

  it('takes a partial refund made before the funds are available from pending, and keeps the fee', async () => {
    const { capture, refund, balances } = world();
    await capture();

    await refund('re_1', 400);

    expect(await balances()).toMatchObject({ provider_clearing: 600, pending: 541, available: 0, platform_fees: 59 });
  });

  it('takes a full refund beyond what is pending from available, which goes below zero by the fee kept', async () => {
    const { capture, refund, balances } = world();
    await capture();

    await refund('re_1', 1000);

    expect(await balances()).toMatchObject({ provider_clearing: 0, pending: 0, available: -59, platform_fees: 59 });
  });

  it('gives the fee back on a full refund when the merchant returns fees', async () => {
    const { capture, refund, balances } = world({ refundsReturnFees: true });
    await capture();

    await refund('re_1', 500);
    await refund('re_2', 500);

    expect(await balances()).toMatchObject({ provider_clearing: 0, pending: 0, available: 0, platform_fees: 0 });
  });

  it('refuses a refund whose charge is not posted yet, for the stream to deliver again', async () => {
    const { refund, balances } = world();

    await expect(refund('re_1', 100)).rejects.toThrow(LedgerSourceNotPostedError);

    expect(await balances()).toBeUndefined();
  });
});

describe('availability', () => {
  it('moves what is pending to available once the merchant’s delay has passed, not before', async () => {
    const { capture, clock, deps, balances } = world();
    await capture();

    clock.advance(2 * DAY_MS - 1);
    const early = await releaseDueFunds(deps, 10);
    clock.advance(1);
    const due = await releaseDueFunds(deps, 10);
    const again = await releaseDueFunds(deps, 10);

    expect(early).toEqual([]);
    expect(due.map((o) => o.outcome)).toEqual(['released']);
    expect(again).toEqual([]);
    expect(await balances()).toMatchObject({ pending: 0, available: 941 });
  });

  it('releases only what refunds left pending, and takes later refunds from available', async () => {
    const { capture, refund, clock, deps, balances, ledger } = world();
    await capture();
    await refund('re_1', 300);

    clock.advance(2 * DAY_MS);
    await releaseDueFunds(deps, 10);
    await refund('re_2', 200);

    expect(await balances()).toMatchObject({ pending: 0, available: 441, provider_clearing: 500 });
    const list = (await ledger.listBalanceTransactions('merchant_a', { limit: 10 })).data;
    expect(list.map((t) => [t.type, t.net, t.status])).toEqual([
      ['refund', -200, 'available'],
      ['refund', -300, 'available'],
      ['charge', 941, 'available'],
    ]);
  });

  it('reads the charge again when a refund moved it after the index listed it', async () => {
    const { capture, refund, clock, deps, ledger, balances } = world();
    await capture();
    clock.advance(2 * DAY_MS);
    const listed = await ledger.listDueCharges(clock.clock(), 10);
    const stale = { ...ledger, listDueCharges: async () => listed, chargeOf: ledger.chargeOf.bind(ledger), post: ledger.post.bind(ledger) };
    await refund('re_1', 100);

    const outcomes = await releaseDueFunds({ ...deps, ledger: stale as unknown as StrictLedgerStore }, 10);

    expect(outcomes.map((o) => o.outcome)).toEqual(['released']);
    expect(await balances()).toMatchObject({ pending: 0, available: 841 });
  });

  it('gives up on a charge that keeps changing after five reads, leaving it for the next run', async () => {
    const { capture, clock, deps, ledger } = world();
    await capture();
    clock.advance(2 * DAY_MS);
    const busy = Object.assign(Object.create(ledger) as StrictLedgerStore, {
      post: async () => {
        throw new ConcurrentModificationError('moved');
      },
    });

    const outcomes = await releaseDueFunds({ ...deps, ledger: busy }, 10);

    expect(outcomes.map((o) => o.outcome)).toEqual(['errored']);
  });
});

describe('the balance and its transactions', () => {
  it('shows available, pending and in_payout per currency', async () => {
    const { capture, ledger } = world();
    await capture();

    expect(balanceView(await ledger.balances('merchant_a'))).toEqual({
      object: 'balance',
      available: [{ amount: 0, currency: 'USD' }],
      pending: [{ amount: 941, currency: 'USD' }],
      in_payout: [{ amount: 0, currency: 'USD' }],
    });
  });

  it('names each balance transaction by an id that reads back, and refuses ids it did not make', () => {
    const id = balanceTransactionId(CAPTURED_AT, 'capture:pi_1');

    expect(parseBalanceTransactionId(id)).toEqual({ createdAt: CAPTURED_AT, journalKey: 'capture:pi_1' });
    expect(parseBalanceTransactionId('txn_nope')).toBeUndefined();
    expect(parseBalanceTransactionId(`txn_${Buffer.from('yesterday|capture:pi_1').toString('base64url')}`)).toBeUndefined();
    expect(parseBalanceTransactionId('re_123')).toBeUndefined();
  });
});
