import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { ConcurrentModificationError } from '../../functions/domain/errors.ts';
import type { LedgerStore } from '../../functions/domain/ledger/ledger.ts';
import { capturePosting, payoutPosting, payoutReversalPosting, releasePosting } from '../../functions/domain/ledger/postings.ts';
import { DEFAULT_LEDGER_SETTINGS, feeFor } from '../../functions/domain/ledger/fees.ts';
import type { Currency } from '../../functions/domain/money.ts';
import type { Payout, PayoutStore } from '../../functions/domain/payout.ts';
import { type Contract, describeContract, earlierHour, uniqueId } from './contract.ts';

const USD = 'USD' as Currency;

/** A payout store and the ledger whose balance its writes move (the same table). */
export interface PayoutStoreSubject {
  readonly payouts: PayoutStore;
  readonly ledger: LedgerStore;
}

/** A merchant no other check uses, with `net` available: a capture of `amount` released, its fee taken. */
async function fundedMerchant({ ledger }: PayoutStoreSubject, amount: number, at: string): Promise<{ merchantId: string; net: number }> {
  const merchantId = uniqueId('merchant');
  const payment = {
    paymentNo: uniqueId('pay'), merchantId, orderNo: 'o-1', amount, currency: USD, paymentMethod: 'pm_card_visa', status: 'succeeded' as const,
    version: 4, chargeId: uniqueId('pi'), amountCaptured: amount, amountRefunded: 0, createdAt: at, updatedAt: at, resumeCount: 0,
  };
  await ledger.post(capturePosting(payment, DEFAULT_LEDGER_SETTINGS));
  await ledger.post(releasePosting((await ledger.chargeOf(merchantId, payment.chargeId))!, new Date(at)));
  return { merchantId, net: amount - feeFor(amount, DEFAULT_LEDGER_SETTINGS) };
}

function payoutOf(merchantId: string, amount: number, at: string, reconcileAt?: string): Payout {
  return {
    payoutNo: `po_${randomBytes(12).toString('hex')}`, merchantId, amount, currency: USD, status: 'pending', version: 1,
    balanceTransactionId: 'txn_1', createdAt: at, updatedAt: at, resumeCount: 0, ...(reconcileAt !== undefined && { reconcileAt }),
  };
}

const availableOf = async ({ ledger }: PayoutStoreSubject, merchantId: string) =>
  (await ledger.balances(merchantId)).find((b) => b.currency === USD)?.balances.available ?? 0;

export const payoutStoreContract: Contract<PayoutStoreSubject> = {
  'refuses a payout that available does not cover, writing none of it': async (subject) => {
    const at = earlierHour();
    const { merchantId, net } = await fundedMerchant(subject, 1000, at(0));
    const payout = payoutOf(merchantId, net + 1, at(1));

    expect(await subject.payouts.create(payout, payoutPosting(payout))).toEqual({ outcome: 'insufficient_funds' });
    expect(await subject.payouts.get(payout.payoutNo)).toBeUndefined();
    expect(await availableOf(subject, merchantId)).toBe(net);
  },

  'makes a payout once: its payout_no again answers the first, moving nothing more': async (subject) => {
    const at = earlierHour();
    const { merchantId, net } = await fundedMerchant(subject, 1000, at(0));
    const payout = payoutOf(merchantId, 300, at(1));

    const first = await subject.payouts.create(payout, payoutPosting(payout));
    const again = await subject.payouts.create({ ...payout, amount: 301 }, payoutPosting({ ...payout, amount: 301 }));

    expect(first).toEqual({ outcome: 'created' });
    expect(again).toEqual({ outcome: 'exists', payout });
    expect(await availableOf(subject, merchantId)).toBe(net - 300);
  },

  'refuses a change over a payout that moved on since it was read, writing none of its posting': async (subject) => {
    const at = earlierHour();
    const { merchantId, net } = await fundedMerchant(subject, 1000, at(0));
    const payout = payoutOf(merchantId, 300, at(1));
    await subject.payouts.create(payout, payoutPosting(payout));
    const travelling: Payout = { ...payout, status: 'in_transit', version: 2, updatedAt: at(2) };
    await subject.payouts.replace(payout, travelling);

    const stale = subject.payouts.replace(payout, { ...payout, status: 'failed', version: 2, updatedAt: at(3) }, payoutReversalPosting(payout, at(3), 'failed'));

    await expect(stale).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect(await subject.payouts.get(payout.payoutNo)).toEqual(travelling);
    expect(await availableOf(subject, merchantId)).toBe(net - 300);
  },

  "lists a merchant's payouts newest first, a page at a time, and the due ones": async (subject) => {
    const at = earlierHour();
    const { merchantId } = await fundedMerchant(subject, 1000, at(0));
    const [older, newer] = [payoutOf(merchantId, 10, at(1), at(5)), payoutOf(merchantId, 20, at(2), at(30))];
    for (const payout of [older, newer]) await subject.payouts.create(payout, payoutPosting(payout));

    const first = await subject.payouts.list(merchantId, { limit: 1 });
    const second = await subject.payouts.list(merchantId, { limit: 1, startingAfter: first.data[0]! });
    const due = await subject.payouts.listDue(new Date(at(10)), 10);

    expect(first).toEqual({ data: [newer], hasMore: true });
    expect(second).toEqual({ data: [older], hasMore: false });
    expect(due.map((p) => p.payoutNo)).toContain(older.payoutNo);
    expect(due.map((p) => p.payoutNo)).not.toContain(newer.payoutNo);
  },
};

export function describePayoutStoreContract(name: string, make: () => PayoutStoreSubject | Promise<PayoutStoreSubject>): void {
  describeContract(name, payoutStoreContract, make);
}
