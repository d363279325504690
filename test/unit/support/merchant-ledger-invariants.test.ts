import { describe, expect, it } from 'vitest';
import { DEFAULT_LEDGER_SETTINGS } from '../../../functions/domain/ledger/fees.ts';
import type { JournalTransaction } from '../../../functions/domain/ledger/journal.ts';
import { capturePosting, payoutPaidPosting, payoutPosting, payoutReversalPosting, refundPosting, releasePosting } from '../../../functions/domain/ledger/postings.ts';
import type { Currency } from '../../../functions/domain/money.ts';
import type { Payment } from '../../../functions/domain/payment.ts';
import type { Payout } from '../../../functions/domain/payout.ts';
import type { Refund } from '../../../functions/domain/refund.ts';
import { type ProviderTotals, merchantLedgerViolations } from '../../support/invariants/merchant-ledger.ts';
import { StrictLedgerStore } from '../../support/strict/ledger.ts';

const USD = 'USD' as Currency;
const AT = '2026-12-01T10:00:00.000Z';
const payment: Payment & { chargeId: string } = {
  paymentNo: 'pay_1', merchantId: 'm', orderNo: 'o', amount: 1000, currency: USD, paymentMethod: 'pm_card_visa', status: 'succeeded',
  version: 4, chargeId: 'pi_1', amountCaptured: 1000, amountRefunded: 0, createdAt: AT, updatedAt: AT, resumeCount: 0,
};
const refund = (refundNo: string, amount: number): Refund => ({
  refundNo, paymentNo: 'pay_1', merchantId: 'm', amount, operatorId: 'op', currency: USD, chargeId: 'pi_1', status: 'succeeded',
  version: 2, createdAt: AT, updatedAt: AT, resumeCount: 0,
});

const payout = (payoutNo: string, amount: number): Payout => ({
  payoutNo, merchantId: 'm', amount, currency: USD, status: 'pending', version: 1, balanceTransactionId: 'txn_1',
  createdAt: AT, updatedAt: AT, resumeCount: 0,
});

/**
 * The ledger of merchant `m` once `post` ran on a fresh store, checked against a provider that
 * captured 1000 and refunded `refunded` (and paid out as `payouts` say).
 */
async function violationsAfter(
  post: (store: StrictLedgerStore) => Promise<void>,
  refunded = 0,
  journal?: (real: JournalTransaction[]) => JournalTransaction[],
  payouts: { paidOut?: number; inPayout?: number } = {},
) {
  const store = new StrictLedgerStore();
  await post(store);
  const real = await store.journal('m');
  const provider: ProviderTotals = { USD: { captured: 1000, refunded, captures: [1000], ...payouts } };
  return merchantLedgerViolations({ merchantId: 'm', balances: await store.balances('m'), journal: journal?.(real) ?? real }, provider, DEFAULT_LEDGER_SETTINGS);
}

/** A capture of 1000 made available (941 after its fee), then payouts of 300 (paid) and 200 (failed, given back). */
async function paidAndGivenBack(store: StrictLedgerStore, { reverse = true } = {}) {
  await store.post(capturePosting(payment, DEFAULT_LEDGER_SETTINGS));
  await store.post(releasePosting((await store.chargeOf('m', 'pi_1'))!, new Date(AT)));
  await store.post(payoutPosting(payout('po_1', 300)));
  await store.post(payoutPaidPosting(payout('po_1', 300), AT));
  await store.post(payoutPosting(payout('po_2', 200)));
  if (reverse) await store.post(payoutReversalPosting(payout('po_2', 200), AT, 'failed'));
}

describe('the ledger invariants', () => {
  it('hold for a capture and a refund posted as the poster posts them', async () => {
    const found = await violationsAfter(async (store) => {
      await store.post(capturePosting(payment, DEFAULT_LEDGER_SETTINGS));
      await store.post(refundPosting(refund('re_1', 1000), (await store.chargeOf('m', 'pi_1'))!, DEFAULT_LEDGER_SETTINGS));
    }, 1000);

    expect(found).toEqual([]);
  });

  it('catch a poster that skips the fee entry', async () => {
    const found = await violationsAfter(async (store) => {
      const posting = capturePosting(payment, DEFAULT_LEDGER_SETTINGS);
      await store.post({ ...posting, transactions: posting.transactions.filter((t) => !t.key.startsWith('fee:')) });
    });

    expect(found).toEqual(["m USD: platform_fees holds 0, the fee rule on the provider's captures makes 59"]);
  });

  it('catch a refund posted twice under two keys, and a capture the provider never made', async () => {
    const twice = await violationsAfter(async (store) => {
      await store.post(capturePosting(payment, DEFAULT_LEDGER_SETTINGS));
      for (const refundNo of ['re_1', 're_2']) await store.post(refundPosting(refund(refundNo, 1000), (await store.chargeOf('m', 'pi_1'))!, DEFAULT_LEDGER_SETTINGS));
    }, 1000);
    const invented = await violationsAfter(async (store) => {
      await store.post(capturePosting(payment, DEFAULT_LEDGER_SETTINGS));
      await store.post(capturePosting({ ...payment, chargeId: 'pi_2' }, DEFAULT_LEDGER_SETTINGS));
    });

    expect(twice.join('\n')).toMatch(/provider_clearing holds -1000/);
    expect(twice.join('\n')).toMatch(/available is -1059, below minus the fees charged/);
    expect(invented.join('\n')).toMatch(/provider_clearing holds 2000, the provider captured 1000/);
  });

  it('catch a journal transaction that does not sum to zero, and balances the journal does not add up to', async () => {
    const found = await violationsAfter(
      (store) => store.post(capturePosting(payment, DEFAULT_LEDGER_SETTINGS)).then(() => undefined),
      0,
      (real) => real.map((t) => (t.key.startsWith('fee:') ? { ...t, entries: [t.entries[0]!] } : t)),
    );

    expect(found.join('\n')).toMatch(/journal transaction fee:pi_1 sums to 59, not 0/);
    expect(found.join('\n')).toMatch(/platform_fees holds 59, its journal adds up to 0/);
  });

  it('hold for a payout paid and one given back, with the provider’s payouts', async () => {
    const found = await violationsAfter(paidAndGivenBack, 0, undefined, { paidOut: 300, inPayout: 0 });

    expect(found).toEqual([]);
  });

  it('catch a failed payout whose reversal was skipped, and a payout recorded paid that the provider never paid', async () => {
    const unreversed = await violationsAfter((store) => paidAndGivenBack(store, { reverse: false }), 0, undefined, { paidOut: 300, inPayout: 0 });
    const notPaid = await violationsAfter(paidAndGivenBack, 0, undefined, { paidOut: 0, inPayout: 300 });

    expect(unreversed).toEqual(['m USD: in_payout holds 200, the provider has 0 on the way']);
    expect(notPaid).toEqual(['m USD: paid_out holds 300, the provider paid out 0', 'm USD: in_payout holds 0, the provider has 300 on the way']);
  });
});
