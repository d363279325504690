import { UnbalancedJournalError } from '../errors.ts';
import type { Currency } from '../money.ts';
import { type Account, type Balances, balanceChange } from './accounts.ts';

/** One line of a journal transaction: debit positive, credit negative, in minor units. */
export interface JournalEntry {
  readonly account: Account;
  readonly amount: number;
}

/**
 * The journal's sources, each the key of exactly one journal transaction: written with the
 * condition that the key is new, so a source is recorded once however often it is delivered.
 * A payout has up to two: `payout:` when it is made, then `payout_paid:` once the provider paid
 * it or `payout_reversal:` once it failed or was canceled.
 */
export type JournalKey =
  | `capture:${string}`
  | `fee:${string}`
  | `refund:${string}`
  | `available:${string}`
  | `payout:${string}`
  | `payout_paid:${string}`
  | `payout_reversal:${string}`;

/** One money movement: entries whose debits equal their credits, in one merchant's currency. */
export interface JournalTransaction {
  readonly key: JournalKey;
  readonly merchantId: string;
  readonly currency: Currency;
  readonly entries: readonly JournalEntry[];
  readonly createdAt: string;
}

/**
 * A journal transaction from its entries, checked: every amount a safe integer, and debits
 * equal to credits, or {@link UnbalancedJournalError} before anything is written. Entries of
 * zero are left out: they move nothing.
 */
export function journalTransaction(
  key: JournalKey,
  where: { readonly merchantId: string; readonly currency: Currency; readonly createdAt: string },
  entries: readonly JournalEntry[],
): JournalTransaction {
  const moving = entries.filter((entry) => entry.amount !== 0);
  const bad = moving.find((entry) => !Number.isSafeInteger(entry.amount));
  if (bad !== undefined) throw new UnbalancedJournalError(key, `${bad.account} has the amount ${bad.amount}, not a whole number of minor units`);
  const sum = moving.reduce((total, entry) => total + entry.amount, 0);
  if (sum !== 0) {
    throw new UnbalancedJournalError(key, `its debits exceed its credits by ${sum} (${moving.map((e) => `${e.account} ${e.amount}`).join(', ')})`);
  }
  return { key, ...where, entries: moving };
}

/** How the transactions together change each account's balance, in its normal sense; accounts left unchanged are absent. */
export function balanceChanges(transactions: readonly JournalTransaction[]): Partial<Balances> {
  const changes: Partial<Record<Account, number>> = {};
  for (const { entries } of transactions) {
    for (const { account, amount } of entries) changes[account] = (changes[account] ?? 0) + balanceChange(account, amount);
  }
  return Object.fromEntries(Object.entries(changes).filter(([, change]) => change !== 0));
}

/** The sum of a transaction's entries: zero for every transaction the journal holds. */
export function imbalanceOf(transaction: Pick<JournalTransaction, 'entries'>): number {
  return transaction.entries.reduce((total, entry) => total + entry.amount, 0);
}
