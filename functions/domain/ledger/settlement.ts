import { UnbalancedStatementError } from '../errors.ts';
import type { Currency } from '../money.ts';
import type { ProviderBalanceTransaction } from '../provider.ts';
import { MerchantAccounts, type MerchantAccount } from './accounts.ts';
import type { BalanceTransaction } from './balance-transaction.ts';
import { type JournalTransaction, balanceChanges } from './journal.ts';
import type { SettlementDate, SettlementDay } from './settlement-day.ts';

/** What a merchant holds, by account, at an instant. */
export type StatementBalances = { readonly [A in MerchantAccount]: number };

export const zeroStatementBalances: StatementBalances = Object.fromEntries(MerchantAccounts.map((account) => [account, 0])) as StatementBalances;

/** The day's balance transactions of one type: Stripe's payout reconciliation report's rows. */
export interface TypeSummary {
  readonly type: string;
  readonly count: number;
  readonly gross: number;
  readonly fee: number;
  readonly net: number;
}

/**
 * `missing_in_ledger`, `missing_at_provider`, `amount_differs`: the provider against the
 * ledger. `posted_after_statement`: the ledger against itself, a journal transaction of the
 * day before posted after that day's statement was written.
 */
export type MismatchKind = 'missing_in_ledger' | 'missing_at_provider' | 'amount_differs' | 'posted_after_statement';

/** A difference between the provider's record of the day and the ledger's; each is listed, counted and alarmed. */
export interface Mismatch {
  readonly kind: MismatchKind;
  readonly type: string;
  /** What both sides name the money by: the provider's charge (PaymentIntent), our refund_no, a payout's id. */
  readonly source: string;
  readonly ledgerAmount?: number;
  readonly providerAmount?: number;
  /** The ledger's balance transaction, when the ledger has one. */
  readonly balanceTransactionId?: string;
  /** The provider's balance transaction, when the provider has one. */
  readonly providerTransactionId?: string;
}

export interface Reconciliation {
  /** The provider's balance transactions of the merchant's day, in the statement's currency. */
  readonly providerTransactions: number;
  readonly matched: number;
  readonly mismatches: readonly Mismatch[];
}

/**
 * A merchant's day in one currency: what it held when the day began, every balance transaction
 * of the day (listed, and summed by type), and what it held when the day ended, the closing
 * being the opening moved by the day's journal; and how the day compares with the provider's.
 */
export interface SettlementStatement {
  readonly id: string;
  readonly merchantId: string;
  readonly currency: Currency;
  readonly date: SettlementDate;
  readonly timeZone: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly opening: StatementBalances;
  readonly closing: StatementBalances;
  readonly summary: readonly TypeSummary[];
  readonly totals: Omit<TypeSummary, 'type'>;
  /** Oldest first. */
  readonly transactions: readonly BalanceTransaction[];
  readonly reconciliation: Reconciliation;
  readonly createdAt: string;
}

const ID_PREFIX = 'stl_';

/** A statement's id: its merchant, date and currency, so the same day is always the same statement. */
export function settlementId(merchantId: string, date: SettlementDate, currency: Currency): string {
  return ID_PREFIX + Buffer.from(`${merchantId}|${date}|${currency}`, 'utf8').toString('base64url');
}

/** The parts of an id {@link settlementId} made; undefined for anything else. */
export function parseSettlementId(id: string): { merchantId: string; date: SettlementDate; currency: Currency } | undefined {
  if (!id.startsWith(ID_PREFIX) || !/^[A-Za-z0-9_-]{1,400}$/.test(id.slice(ID_PREFIX.length))) return undefined;
  const [merchantId = '', date = '', currency = '', ...rest] = Buffer.from(id.slice(ID_PREFIX.length), 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !/^\d{4}-\d{2}-\d{2}$/.test(date) || !/^[A-Z]{3}$/.test(currency)) return undefined;
  if (settlementId(merchantId, date, currency as Currency) !== id) return undefined;
  return { merchantId, date, currency: currency as Currency };
}

/** What the merchant holds after the journal transactions move `from`. */
export function moved(from: StatementBalances, journal: readonly JournalTransaction[]): StatementBalances {
  const changes = balanceChanges(journal);
  return Object.fromEntries(MerchantAccounts.map((account) => [account, from[account] + (changes[account] ?? 0)])) as StatementBalances;
}

/** The merchant's balance in Stripe's sense: what is pending and what is available (payouts take from it). */
export const balanceOf = (balances: StatementBalances) => balances.pending + balances.available;

const within = (at: string, day: SettlementDay) => at >= day.start && at < day.end;

/**
 * The statement of one merchant's day in one currency, checked before anything is written
 * ({@link UnbalancedStatementError} otherwise): each journal and balance transaction is the
 * merchant's, in the currency and inside the day; each balance transaction's net is its amount
 * less its fee; and the day's balance transactions, summed, move the balance (pending plus
 * available) exactly as the day's journal moves it from the opening to the closing. A balance
 * transaction the journal lacks, or a journal movement no balance transaction explains, fails it.
 */
export function buildStatement(input: {
  readonly merchantId: string;
  readonly currency: Currency;
  readonly day: SettlementDay;
  readonly opening: StatementBalances;
  readonly journal: readonly JournalTransaction[];
  readonly transactions: readonly BalanceTransaction[];
  readonly reconciliation: Reconciliation;
  readonly createdAt: string;
}): SettlementStatement {
  const { merchantId, currency, day } = input;
  const id = settlementId(merchantId, day.date, currency);
  const refuse = (reason: string) => {
    throw new UnbalancedStatementError(id, reason);
  };
  for (const entry of [...input.journal, ...input.transactions]) {
    const at = entry.createdAt;
    const name = 'key' in entry ? entry.key : entry.id;
    if (entry.merchantId !== merchantId || entry.currency !== currency) refuse(`${name} is ${entry.merchantId}'s in ${entry.currency}`);
    if (!within(at, day)) refuse(`${name} was made at ${at}, outside ${day.start}..${day.end}`);
  }
  for (const transaction of input.transactions) {
    if (transaction.amount - transaction.fee !== transaction.net) {
      refuse(`${transaction.id}: amount ${transaction.amount} less fee ${transaction.fee} is not its net ${transaction.net}`);
    }
  }
  const transactions = [...input.transactions].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const summary = summarize(transactions);
  const totals = sum(transactions);
  const closing = moved(input.opening, input.journal);
  const movedBy = balanceOf(closing) - balanceOf(input.opening);
  if (totals.net !== movedBy) {
    refuse(`the day's balance transactions net ${totals.net}, but its journal moves the balance by ${movedBy}`);
  }
  return {
    id,
    merchantId,
    currency,
    date: day.date,
    timeZone: day.timeZone,
    periodStart: day.start,
    periodEnd: day.end,
    opening: input.opening,
    closing,
    summary,
    totals,
    transactions,
    reconciliation: input.reconciliation,
    createdAt: input.createdAt,
  };
}

function sum(transactions: readonly BalanceTransaction[]): Omit<TypeSummary, 'type'> {
  return transactions.reduce(
    (total, t) => ({ count: total.count + 1, gross: total.gross + t.amount, fee: total.fee + t.fee, net: total.net + t.net }),
    { count: 0, gross: 0, fee: 0, net: 0 },
  );
}

/** One row per type the day holds, by type name; a type the ledger adds later (payouts) gets its own row unchanged. */
function summarize(transactions: readonly BalanceTransaction[]): TypeSummary[] {
  const byType = new Map<string, BalanceTransaction[]>();
  for (const t of transactions) byType.set(t.type, [...(byType.get(t.type) ?? []), t]);
  return [...byType.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, ofType]) => ({ type, ...sum(ofType) }));
}

/**
 * Matches the ledger's balance transactions of the day with the provider's, one to one by
 * type and source, and lists every difference: one side's transaction of the day with no
 * counterpart on the other (each side is read over a margin around the day, `ledgerAround` and
 * `provider`, so that an entry the two sides date a moment apart, across midnight, still
 * matches), and a counterpart of another amount. A payout the provider refused outright is
 * no mismatch: the ledger holds it and its reversal, which move nothing together, and the
 * provider holds nothing of it. Only the provider's transactions of this merchant and currency
 * are given.
 */
export function reconcile(input: {
  readonly day: SettlementDay;
  readonly ledgerAround: readonly BalanceTransaction[];
  readonly provider: readonly ProviderBalanceTransaction[];
}): Reconciliation {
  const keyOf = (type: string, source: string) => `${type}|${source}`;
  const ledgerByKey = new Map(input.ledgerAround.map((t) => [keyOf(t.type, t.source), t]));
  const providerByKey = new Map(input.provider.map((t) => [keyOf(t.type, t.source), t]));
  const neverReachedProvider = payoutsNeverAtProvider(input.ledgerAround, new Set(input.provider.map((t) => t.source)));
  const mismatches: Mismatch[] = [];
  let matched = 0;
  let providerTransactions = 0;
  for (const theirs of input.provider) {
    if (!within(theirs.createdAt, input.day)) continue;
    providerTransactions += 1;
    if (!ledgerByKey.has(keyOf(theirs.type, theirs.source))) {
      mismatches.push({ kind: 'missing_in_ledger', type: theirs.type, source: theirs.source, providerAmount: theirs.amount, providerTransactionId: theirs.id });
    }
  }
  for (const ours of input.ledgerAround) {
    if (!within(ours.createdAt, input.day)) continue;
    const theirs = providerByKey.get(keyOf(ours.type, ours.source));
    const both = { type: ours.type, source: ours.source, ledgerAmount: ours.amount, balanceTransactionId: ours.id };
    if (theirs === undefined && neverReachedProvider.has(ours.source)) matched += 1;
    else if (theirs === undefined) mismatches.push({ kind: 'missing_at_provider', ...both });
    else if (theirs.amount !== ours.amount) mismatches.push({ kind: 'amount_differs', ...both, providerAmount: theirs.amount, providerTransactionId: theirs.id });
    else matched += 1;
  }
  return { providerTransactions, matched, mismatches };
}

/** The payouts of which the ledger holds both the payout and its reversal, summing to nothing, and the provider no transaction at all. */
function payoutsNeverAtProvider(ledger: readonly BalanceTransaction[], providerSources: ReadonlySet<string>): Set<string> {
  const net = new Map<string, { made: boolean; reversed: boolean; amount: number }>();
  for (const t of ledger) {
    if (t.type !== 'payout' && t.type !== 'payout_failure' && t.type !== 'payout_cancel') continue;
    const seen = net.get(t.source) ?? { made: false, reversed: false, amount: 0 };
    net.set(t.source, { made: seen.made || t.type === 'payout', reversed: seen.reversed || t.type !== 'payout', amount: seen.amount + t.amount });
  }
  return new Set([...net].filter(([source, s]) => s.made && s.reversed && s.amount === 0 && !providerSources.has(source)).map(([source]) => source));
}
