import type { Currency } from '../money.ts';
import type { JournalKey } from './journal.ts';

/**
 * What a merchant sees of its ledger, one line per source, as Stripe's balance transactions:
 * a charge (its amount, the fee taken from it and the net, pending until `availableOn`), a
 * refund (negative, available at once), a payout (negative: the amount left `available`) or,
 * when a payout failed or was canceled, its `payout_failure` or `payout_cancel` (the amount back).
 */
export interface BalanceTransaction {
  readonly id: string;
  readonly merchantId: string;
  readonly currency: Currency;
  readonly type: 'charge' | 'refund' | 'payout' | 'payout_failure' | 'payout_cancel';
  /** The provider's charge for a charge, our refund_no for a refund, our payout_no for a payout and its failure. */
  readonly source: string;
  /** The journal transaction that created it. */
  readonly journalKey: JournalKey;
  readonly amount: number;
  readonly fee: number;
  readonly net: number;
  readonly createdAt: string;
  readonly availableOn: string;
  readonly status: 'pending' | 'available';
  /** A charge's running totals, which its refunds and its release to `available` move. */
  readonly charge?: ChargeTotals;
}

export interface ChargeTotals {
  readonly paymentNo: string;
  /** Of the net, what is still in `pending`: refunds made before the release take from it first. */
  readonly pendingRemaining: number;
  readonly refunded: number;
  readonly feeReturned: number;
  /** Incremented by every change; each change is written on the condition that it is still the one read. */
  readonly version: number;
}

/** A charge's balance transaction, with the totals its refunds and release move. */
export type ChargeBalanceTransaction = BalanceTransaction & { readonly type: 'charge'; readonly charge: ChargeTotals };

export function isCharge(transaction: BalanceTransaction): transaction is ChargeBalanceTransaction {
  return transaction.type === 'charge' && transaction.charge !== undefined;
}

const ID_PREFIX = 'txn_';

/**
 * A balance transaction's id: its creation time and journal key, which order a merchant's
 * list newest first and make the id the same however often its source is delivered.
 */
export function balanceTransactionId(createdAt: string, journalKey: JournalKey): string {
  return ID_PREFIX + Buffer.from(`${createdAt}|${journalKey}`, 'utf8').toString('base64url');
}

const JOURNAL_KEY = /^(capture|fee|refund|available|payout|payout_paid|payout_reversal):[\w.-]{1,200}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** The parts of an id {@link balanceTransactionId} made; undefined for anything else. */
export function parseBalanceTransactionId(id: string): { createdAt: string; journalKey: JournalKey } | undefined {
  if (!id.startsWith(ID_PREFIX) || !/^[A-Za-z0-9_-]{1,400}$/.test(id.slice(ID_PREFIX.length))) return undefined;
  const [createdAt = '', journalKey = '', ...rest] = Buffer.from(id.slice(ID_PREFIX.length), 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !ISO_TIME.test(createdAt) || !JOURNAL_KEY.test(journalKey)) return undefined;
  if (balanceTransactionId(createdAt, journalKey as JournalKey) !== id) return undefined;
  return { createdAt, journalKey: journalKey as JournalKey };
}
