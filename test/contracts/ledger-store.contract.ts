import { expect } from 'vitest';
import { ConcurrentModificationError } from '../../functions/domain/errors.ts';
import { DEFAULT_LEDGER_SETTINGS } from '../../functions/domain/ledger/fees.ts';
import type { LedgerStore } from '../../functions/domain/ledger/ledger.ts';
import { capturePosting, refundPosting, releasePosting } from '../../functions/domain/ledger/postings.ts';
import type { Currency } from '../../functions/domain/money.ts';
import type { Payment } from '../../functions/domain/payment.ts';
import type { Refund } from '../../functions/domain/refund.ts';
import { type Contract, describeContract, earlierHour, uniqueId } from './contract.ts';

const USD = 'USD' as Currency;

/** A payment just captured, of a merchant no other check uses. */
function captured(at: string, amount = 1000): Payment & { chargeId: string } {
  return {
    paymentNo: uniqueId('pay'),
    merchantId: uniqueId('merchant'),
    orderNo: 'o-1',
    amount,
    currency: USD,
    paymentMethod: 'pm_card_visa',
    status: 'succeeded',
    version: 4,
    chargeId: uniqueId('pi'),
    amountCaptured: amount,
    amountRefunded: 0,
    createdAt: at,
    updatedAt: at,
    resumeCount: 0,
  };
}

function refundOf(payment: Payment & { chargeId: string }, amount: number, at: string): Refund {
  return {
    refundNo: uniqueId('re'),
    paymentNo: payment.paymentNo,
    merchantId: payment.merchantId,
    amount,
    operatorId: 'op',
    currency: payment.currency,
    chargeId: payment.chargeId,
    status: 'succeeded',
    version: 2,
    createdAt: at,
    updatedAt: at,
    resumeCount: 0,
  };
}

/**
 * What every {@link LedgerStore} must do: a posting is written once (delivered again, it
 * changes nothing), whole or not at all, and never over a charge that moved since it was read.
 */
export const ledgerStoreContract: Contract<LedgerStore> = {
  'writes a posting once: delivered again, it changes no balance and adds no journal transaction': async (store) => {
    const payment = captured(earlierHour()(0));
    const posting = capturePosting(payment, DEFAULT_LEDGER_SETTINGS);

    const first = await store.post(posting);
    const again = await store.post(posting);

    expect([first, again]).toEqual(['posted', 'already_posted']);
    expect((await store.balances(payment.merchantId))[0]?.balances).toMatchObject({ provider_clearing: 1000, pending: 941, platform_fees: 59 });
    expect((await store.journal(payment.merchantId)).map((t) => t.key).sort()).toEqual([`capture:${payment.chargeId}`, `fee:${payment.chargeId}`]);
    expect((await store.listBalanceTransactions(payment.merchantId, { limit: 10 })).data).toHaveLength(1);
  },

  'refuses a posting over a charge that changed since it was read, writing none of it': async (store) => {
    const at = earlierHour();
    const payment = captured(at(0));
    await store.post(capturePosting(payment, DEFAULT_LEDGER_SETTINGS));
    const read = (await store.chargeOf(payment.merchantId, payment.chargeId))!;
    await store.post(refundPosting(refundOf(payment, 100, at(1)), read, DEFAULT_LEDGER_SETTINGS));
    const stale = refundPosting(refundOf(payment, 200, at(2)), read, DEFAULT_LEDGER_SETTINGS);

    await expect(store.post(stale)).rejects.toThrow(ConcurrentModificationError);

    expect((await store.balances(payment.merchantId))[0]?.balances).toMatchObject({ provider_clearing: 900, pending: 841 });
    expect(await store.journal(payment.merchantId)).toHaveLength(3);
    expect((await store.chargeOf(payment.merchantId, payment.chargeId))?.charge).toMatchObject({ refunded: 100, version: 1 });
  },

  'lists a charge as due once its funds are available, and no longer once released': async (store) => {
    const at = earlierHour();
    const payment = captured(at(0));
    await store.post(capturePosting(payment, { ...DEFAULT_LEDGER_SETTINGS, payoutDelayDays: 0 }));
    const mine = async () => (await store.listDueCharges(new Date(at(1)), 1000)).filter((c) => c.merchantId === payment.merchantId);

    const due = await mine();
    await store.post(releasePosting(due[0]!, new Date(at(1))));

    expect(due.map((c) => c.source)).toEqual([payment.chargeId]);
    expect(await mine()).toEqual([]);
    expect((await store.balances(payment.merchantId))[0]?.balances).toMatchObject({ pending: 0, available: 941 });
  },

  'lists a merchant’s balance transactions newest first, a page after another, and none of another merchant’s': async (store) => {
    const at = earlierHour();
    const payment = captured(at(0));
    await store.post(capturePosting(payment, DEFAULT_LEDGER_SETTINGS));
    for (const minute of [1, 2, 3]) {
      const charge = (await store.chargeOf(payment.merchantId, payment.chargeId))!;
      await store.post(refundPosting(refundOf(payment, 10 * minute, at(minute)), charge, DEFAULT_LEDGER_SETTINGS));
    }
    await store.post(capturePosting(captured(at(5)), DEFAULT_LEDGER_SETTINGS));

    const first = await store.listBalanceTransactions(payment.merchantId, { limit: 3 });
    const second = await store.listBalanceTransactions(payment.merchantId, { limit: 3, startingAfter: first.data.at(-1)!.id });

    expect(first.data.map((t) => t.amount)).toEqual([-30, -20, -10]);
    expect(first.hasMore).toBe(true);
    expect(second.data.map((t) => t.amount)).toEqual([1000]);
    expect(second.hasMore).toBe(false);
    expect(await store.getBalanceTransaction(payment.merchantId, first.data[0]!.id)).toEqual(first.data[0]);
    expect(await store.getBalanceTransaction(uniqueId('merchant'), first.data[0]!.id)).toBeUndefined();
  },
};

export function describeLedgerStoreContract(name: string, makeStore: () => LedgerStore | Promise<LedgerStore>): void {
  describeContract(`${name}: the LedgerStore contract`, ledgerStoreContract, makeStore);
}
