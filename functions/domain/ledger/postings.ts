import type { Currency } from '../money.ts';
import type { Payment } from '../payment.ts';
import type { Payout } from '../payout.ts';
import type { Refund } from '../refund.ts';
import { type BalanceTransaction, type ChargeBalanceTransaction, balanceTransactionId } from './balance-transaction.ts';
import { type LedgerSettings, availableOn, feeFor, feeReturnedBy } from './fees.ts';
import { type JournalKey, type JournalTransaction, journalTransaction } from './journal.ts';

/**
 * What one source changes in the ledger, written at once or not at all: its journal
 * transactions (each under its own key, each new), the balance transaction it adds, and the
 * charge whose totals it moves, with the totals it read.
 */
export interface Posting {
  readonly merchantId: string;
  readonly currency: Currency;
  readonly transactions: readonly JournalTransaction[];
  readonly added?: BalanceTransaction;
  readonly updated?: { readonly before: ChargeBalanceTransaction; readonly after: ChargeBalanceTransaction };
}

/**
 * A captured payment: the provider holds its amount for the merchant (`capture:<charge>`,
 * provider_clearing to pending), and the platform takes its fee from it (`fee:<charge>`,
 * pending to platform_fees). The charge's balance transaction is pending until the merchant's
 * delay has passed.
 */
export function capturePosting(payment: Payment & { readonly chargeId: string }, settings: LedgerSettings): Posting {
  const { merchantId, currency, chargeId, amountCaptured: amount } = payment;
  const createdAt = payment.updatedAt;
  const where = { merchantId, currency, createdAt };
  const fee = feeFor(amount, settings);
  const capture = journalTransaction(`capture:${chargeId}`, where, [
    { account: 'provider_clearing', amount },
    { account: 'pending', amount: -amount },
  ]);
  const feeTaken = journalTransaction(`fee:${chargeId}`, where, [
    { account: 'pending', amount: fee },
    { account: 'platform_fees', amount: -fee },
  ]);
  return {
    merchantId,
    currency,
    transactions: [capture, feeTaken],
    added: {
      id: balanceTransactionId(createdAt, capture.key),
      merchantId,
      currency,
      type: 'charge',
      source: chargeId,
      journalKey: capture.key,
      amount,
      fee,
      net: amount - fee,
      createdAt,
      availableOn: availableOn(createdAt, settings),
      status: 'pending',
      charge: { paymentNo: payment.paymentNo, pendingRemaining: amount - fee, refunded: 0, feeReturned: 0, version: 0 },
    },
  };
}

/**
 * A refund that succeeded (`refund:<refund_no>`): the provider paid the customer back from
 * provider_clearing; the merchant gives up the amount less any fee returned, from what of its
 * charge is still pending first, then from `available` (which a refund larger than what the
 * merchant holds takes below zero: the merchant owes it, as a Stripe balance goes negative).
 */
export function refundPosting(refund: Refund, charge: ChargeBalanceTransaction, settings: LedgerSettings): Posting {
  const totals = charge.charge;
  const { merchantId, currency, amount } = refund;
  const createdAt = refund.updatedAt;
  const feeReturned = feeReturnedBy(
    { amount, refundedBefore: totals.refunded, feeReturnedBefore: totals.feeReturned },
    { amount: charge.amount, fee: charge.fee },
    settings,
  );
  const owed = amount - feeReturned;
  const fromPending = charge.status === 'pending' ? Math.min(totals.pendingRemaining, owed) : 0;
  const transaction = journalTransaction(`refund:${refund.refundNo}`, { merchantId, currency, createdAt }, [
    { account: 'provider_clearing', amount: -amount },
    { account: 'pending', amount: fromPending },
    { account: 'available', amount: owed - fromPending },
    { account: 'platform_fees', amount: feeReturned },
  ]);
  return {
    merchantId,
    currency,
    transactions: [transaction],
    added: {
      id: balanceTransactionId(createdAt, transaction.key),
      merchantId,
      currency,
      type: 'refund',
      source: refund.refundNo,
      journalKey: transaction.key,
      amount: -amount,
      fee: -feeReturned,
      net: -owed,
      createdAt,
      availableOn: createdAt,
      status: 'available',
    },
    updated: {
      before: charge,
      after: {
        ...charge,
        charge: {
          ...totals,
          pendingRemaining: totals.pendingRemaining - fromPending,
          refunded: totals.refunded + amount,
          feeReturned: totals.feeReturned + feeReturned,
          version: totals.version + 1,
        },
      },
    },
  };
}

/** A charge whose delay has passed (`available:<charge>`): what of it is still pending becomes available. */
export function releasePosting(charge: ChargeBalanceTransaction, now: Date): Posting {
  const totals = charge.charge;
  const { merchantId, currency } = charge;
  const { pendingRemaining } = totals;
  const transaction = journalTransaction(`available:${charge.source}`, { merchantId, currency, createdAt: now.toISOString() }, [
    { account: 'pending', amount: pendingRemaining },
    { account: 'available', amount: -pendingRemaining },
  ]);
  return {
    merchantId,
    currency,
    transactions: [transaction],
    updated: {
      before: charge,
      after: { ...charge, status: 'available', charge: { ...totals, pendingRemaining: 0, version: totals.version + 1 } },
    },
  };
}

/**
 * A payout made (`payout:<payout_no>`): its amount leaves `available` for `in_payout`, where it
 * stays until the provider paid it or gave it back. The merchant sees a negative balance
 * transaction, as Stripe shows a payout.
 */
export function payoutPosting(payout: Payout): Posting {
  const { merchantId, currency, amount, createdAt } = payout;
  const transaction = journalTransaction(`payout:${payout.payoutNo}`, { merchantId, currency, createdAt }, [
    { account: 'available', amount },
    { account: 'in_payout', amount: -amount },
  ]);
  return {
    merchantId,
    currency,
    transactions: [transaction],
    added: payoutBalanceTransaction(payout, transaction.key, 'payout', -amount, createdAt),
  };
}

/** A payout the provider paid (`payout_paid:<payout_no>`): `in_payout` to `paid_out`; the merchant's balance does not change. */
export function payoutPaidPosting(payout: Payout, at: string): Posting {
  const { merchantId, currency, amount } = payout;
  const transaction = journalTransaction(`payout_paid:${payout.payoutNo}`, { merchantId, currency, createdAt: at }, [
    { account: 'in_payout', amount },
    { account: 'paid_out', amount: -amount },
  ]);
  return { merchantId, currency, transactions: [transaction] };
}

/**
 * A payout that failed or was canceled (`payout_reversal:<payout_no>`): its amount goes back
 * from `in_payout` to `available`, shown as Stripe shows it, `payout_failure` or `payout_cancel`
 * (so that the settlement matches it with the provider's own).
 */
export function payoutReversalPosting(payout: Payout, at: string, outcome: 'failed' | 'canceled'): Posting {
  const { merchantId, currency, amount } = payout;
  const transaction = journalTransaction(`payout_reversal:${payout.payoutNo}`, { merchantId, currency, createdAt: at }, [
    { account: 'in_payout', amount },
    { account: 'available', amount: -amount },
  ]);
  return {
    merchantId,
    currency,
    transactions: [transaction],
    added: payoutBalanceTransaction(payout, transaction.key, outcome === 'canceled' ? 'payout_cancel' : 'payout_failure', amount, at),
  };
}

function payoutBalanceTransaction(
  payout: Payout,
  journalKey: JournalKey,
  type: 'payout' | 'payout_failure' | 'payout_cancel',
  amount: number,
  createdAt: string,
): BalanceTransaction {
  return {
    id: balanceTransactionId(createdAt, journalKey),
    merchantId: payout.merchantId,
    currency: payout.currency,
    type,
    source: payout.payoutNo,
    journalKey,
    amount,
    fee: 0,
    net: amount,
    createdAt,
    availableOn: createdAt,
    status: 'available',
  };
}
