import type { Clock } from '../ports.ts';
import type { Currency } from '../money.ts';
import type { ProviderBalanceLedger, ProviderBalanceTransaction } from '../provider.ts';
import type { BalanceTransaction } from './balance-transaction.ts';
import type { JournalTransaction } from './journal.ts';
import { MerchantAccounts } from './accounts.ts';
import {
  type Mismatch,
  type Reconciliation,
  type SettlementStatement,
  type StatementBalances,
  balanceOf,
  buildStatement,
  moved,
  reconcile,
  zeroStatementBalances,
} from './settlement.ts';
import { type SettlementDate, type SettlementDay, daysToSettle, localDateOf, settlementDay } from './settlement-day.ts';

/** Before any journal transaction. */
const BEGINNING = new Date(0).toISOString();

/** Where a merchant's settlement stands: the registry entry every merchant gets when created. */
export interface MerchantSettlementState {
  readonly merchantId: string;
  /** When the merchant was created: its first settlement day is that date in its time zone. */
  readonly createdAt: string;
  /** The last day whose statements are all written. */
  readonly settledThrough?: SettlementDate;
  /** Each currency's closing on `settledThrough`: the next day's opening. */
  readonly closings: Readonly<Record<string, StatementBalances>>;
}

export type PutStatementResult = { readonly outcome: 'written' } | { readonly outcome: 'already_written'; readonly statement: SettlementStatement };

/**
 * Where statements live, and the ledger as settling reads it: by time ranges of one merchant
 * (an index or a key range, never a scan).
 */
export interface SettlementStore {
  /** Every merchant of the registry. */
  merchants(): Promise<MerchantSettlementState[]>;
  merchant(merchantId: string): Promise<MerchantSettlementState | undefined>;
  /** The merchant's journal transactions created in `[from, to)` (ISO instants), every currency. */
  journalBetween(merchantId: string, from: string, to: string): Promise<JournalTransaction[]>;
  /** The merchant's balance transactions created in `[from, to)`, every currency. */
  transactionsBetween(merchantId: string, from: string, to: string): Promise<BalanceTransaction[]>;
  /** Writes the statement on the condition that none exists for its merchant, date and currency; else answers the one that does, unchanged. */
  putStatement(statement: SettlementStatement): Promise<PutStatementResult>;
  /** Records that the merchant's statements are written through `date`, with each currency's closing; never moves backwards. */
  advance(merchantId: string, date: SettlementDate, closings: Readonly<Record<string, StatementBalances>>): Promise<void>;
  getStatement(merchantId: string, date: SettlementDate, currency: Currency): Promise<SettlementStatement | undefined>;
  /** Newest first (by date, then currency), after the statement `startingAfter` names; only `date`'s when given. */
  listStatements(
    merchantId: string,
    page: { limit: number; date?: SettlementDate; startingAfter?: { date: SettlementDate; currency: Currency } },
  ): Promise<{ data: SettlementStatement[]; hasMore: boolean }>;
}

export interface SettleDeps {
  readonly store: SettlementStore;
  readonly provider: ProviderBalanceLedger;
  readonly timeZoneOf: (merchantId: string) => Promise<string>;
  /** This deployment's tag on its provider objects: another deployment's are not this ledger's. */
  readonly deployment: string;
  readonly clock: Clock;
  /** How long after a day ends its statements are written: the stream's last postings arrive meanwhile. */
  readonly graceMs: number;
  /** How far around the day both sides are read, so that an entry each dates a moment apart still matches. */
  readonly matchMarginMs: number;
  /** Days settled per merchant per run; a run that missed many catches up over several. */
  readonly maxDaysPerRun: number;
  /** Whether the run must stop before its next merchant (its time is nearly up): the next run goes on from each merchant's place. */
  readonly outOfTime?: () => boolean;
}

export interface SettleOutcome {
  readonly merchantId: string;
  readonly date: SettlementDate;
  readonly currency?: Currency;
  readonly outcome: 'written' | 'already_written' | 'errored';
  readonly statementId?: string;
  readonly mismatches: SettlementStatement['reconciliation']['mismatches'];
  readonly error?: unknown;
}

/**
 * Writes the statements of every day that has ended (and its grace passed) since each
 * merchant's last, oldest first, each day's currencies before the merchant moves on: a day that
 * cannot be settled (a statement that does not add up, the provider down) is reported and
 * stops that merchant until a later run settles it, never skipped. `only` narrows a run to one
 * merchant and to days through one date (a manual rerun; a day already settled changes nothing).
 */
export interface SettleRun {
  readonly outcomes: readonly SettleOutcome[];
  /**
   * The provider's transactions of this deployment read by a run over every merchant that name
   * no merchant of the registry (a source whose metadata lost its merchant): on no statement,
   * so reported here rather than dropped.
   */
  readonly unattributed: readonly ProviderBalanceTransaction[];
}

export async function settleDueDays(deps: SettleDeps, only: { merchantId?: string; through?: SettlementDate } = {}): Promise<SettleRun> {
  const now = deps.clock();
  const merchants =
    only.merchantId === undefined ? await deps.store.merchants() : [await deps.store.merchant(only.merchantId)].filter((m) => m !== undefined);
  const providerDays = new Map<string, Promise<ProviderBalanceTransaction[]>>();
  // One listing per range per run: merchants of one time zone share their days.
  const providerBetween = (from: string, to: string) => {
    const key = `${from}|${to}`;
    let found = providerDays.get(key);
    if (found === undefined) {
      found = deps.provider.listBalanceTransactions({ createdFrom: new Date(from), createdBefore: new Date(to) });
      providerDays.set(key, found);
      found.catch(() => providerDays.delete(key));
    }
    return found;
  };
  const outcomes: SettleOutcome[] = [];
  for (const merchant of merchants) {
    if (deps.outOfTime?.() === true) break;
    try {
      const timeZone = await deps.timeZoneOf(merchant.merchantId);
      const days = daysToSettle({
        timeZone,
        firstDate: localDateOf(new Date(merchant.createdAt), timeZone),
        ...(merchant.settledThrough !== undefined && { settledThrough: merchant.settledThrough }),
        now,
        graceMs: deps.graceMs,
        limit: deps.maxDaysPerRun,
      }).filter((day) => only.through === undefined || day.date <= only.through);
      outcomes.push(...(await settleMerchant(deps, merchant, days, providerBetween)));
    } catch (error) {
      outcomes.push({ merchantId: merchant.merchantId, date: merchant.settledThrough ?? '', outcome: 'errored', mismatches: [], error });
    }
  }
  if (only.merchantId !== undefined) return { outcomes, unattributed: [] };
  const known = new Set(merchants.map((m) => m.merchantId));
  const read = (await Promise.allSettled(providerDays.values())).flatMap((listing) => (listing.status === 'fulfilled' ? listing.value : []));
  const unattributed = new Map(
    read.filter((t) => t.deployment === deps.deployment && (t.merchantId === undefined || !known.has(t.merchantId))).map((t) => [t.id, t]),
  );
  return { outcomes, unattributed: [...unattributed.values()] };
}

async function settleMerchant(
  deps: SettleDeps,
  merchant: MerchantSettlementState,
  days: readonly SettlementDay[],
  providerBetween: (from: string, to: string) => Promise<ProviderBalanceTransaction[]>,
): Promise<SettleOutcome[]> {
  const { merchantId } = merchant;
  const outcomes: SettleOutcome[] = [];
  let closings = merchant.closings;
  if (merchant.settledThrough === undefined && days[0] !== undefined) {
    // The first day's openings: whatever the merchant's journal holds from before it (nothing, for a new merchant).
    const before = await deps.store.journalBetween(merchantId, BEGINNING, days[0].start);
    closings = Object.fromEntries(currenciesOf(before, {}).map((currency) => [currency, moved(zeroStatementBalances, before.filter((t) => t.currency === currency))]));
  }
  let late: Readonly<Record<string, Mismatch>> = {};
  if (merchant.settledThrough !== undefined && days[0] !== undefined) {
    ({ closings, late } = await restated(deps, merchantId, settlementDay(merchant.settledThrough, days[0].timeZone), closings));
  }
  for (const day of days) {
    const margin = (at: string, by: number) => new Date(Date.parse(at) + by).toISOString();
    const [journal, ledgerAround, provider] = await Promise.all([
      deps.store.journalBetween(merchantId, day.start, day.end),
      deps.store.transactionsBetween(merchantId, margin(day.start, -deps.matchMarginMs), margin(day.end, deps.matchMarginMs)),
      providerBetween(margin(day.start, -deps.matchMarginMs), margin(day.end, deps.matchMarginMs)),
    ]);
    const theirs = provider.filter((t) => t.merchantId === merchantId && t.deployment === deps.deployment);
    const next: Record<string, StatementBalances> = {};
    // A currency only the provider moved for the merchant gets a statement too, listing what the ledger lacks.
    for (const currency of currenciesOf([...journal, ...theirs.filter((t) => t.createdAt >= day.start && t.createdAt < day.end)], closings)) {
      const ofCurrency = <T extends { currency: string }>(items: readonly T[]) => items.filter((item) => item.currency === currency);
      const around = ofCurrency(ledgerAround);
      try {
        const statement = buildStatement({
          merchantId,
          currency,
          day,
          opening: closings[currency] ?? zeroStatementBalances,
          journal: ofCurrency(journal),
          transactions: around.filter((t) => t.createdAt >= day.start && t.createdAt < day.end),
          reconciliation: withLate(
            reconcile({ day, ledgerAround: around, provider: ofCurrency(theirs) }),
            day === days[0] ? late[currency] : undefined,
          ),
          createdAt: deps.clock().toISOString(),
        });
        const put = await deps.store.putStatement(statement);
        // A statement already written stands as it was: the chain goes on from its closing.
        const kept = put.outcome === 'written' ? statement : put.statement;
        next[currency] = kept.closing;
        outcomes.push({ merchantId, date: day.date, currency, outcome: put.outcome, statementId: kept.id, mismatches: kept.reconciliation.mismatches });
      } catch (error) {
        outcomes.push({ merchantId, date: day.date, currency, outcome: 'errored', mismatches: [], error });
      }
    }
    if (outcomes.some((o) => o.date === day.date && o.outcome === 'errored')) return outcomes;
    await deps.store.advance(merchantId, day.date, next);
    closings = next;
  }
  return outcomes;
}

/**
 * The last settled day's closings as its journal has them now. A journal transaction posted
 * after its day's statement was written (its stream record retried past the grace) is on no
 * statement: the next day opens on the closing restated with it, and lists the difference as
 * `posted_after_statement`, so the chain holds and the gap is alarmed rather than carried.
 */
async function restated(
  deps: SettleDeps,
  merchantId: string,
  previous: SettlementDay,
  closings: Readonly<Record<string, StatementBalances>>,
): Promise<{ closings: Readonly<Record<string, StatementBalances>>; late: Readonly<Record<string, Mismatch>> }> {
  const journal = await deps.store.journalBetween(merchantId, previous.start, previous.end);
  const now: Record<string, StatementBalances> = { ...closings };
  const late: Record<string, Mismatch> = {};
  for (const currency of currenciesOf(journal, closings)) {
    const stated = await deps.store.getStatement(merchantId, previous.date, currency as Currency);
    const was = stated?.closing ?? closings[currency] ?? zeroStatementBalances;
    const is = moved(stated?.opening ?? zeroStatementBalances, journal.filter((t) => t.currency === currency));
    if (MerchantAccounts.every((account) => is[account] === was[account])) continue;
    now[currency] = is;
    late[currency] = { kind: 'posted_after_statement', type: 'journal', source: previous.date, ledgerAmount: balanceOf(is) - balanceOf(was) };
  }
  return { closings: now, late };
}

function withLate(reconciliation: Reconciliation, late: Mismatch | undefined): Reconciliation {
  return late === undefined ? reconciliation : { ...reconciliation, mismatches: [late, ...reconciliation.mismatches] };
}

/** The currencies a day has a statement in: every one the merchant held before, and every one the day moved, on either side. */
function currenciesOf(journal: readonly { readonly currency: string }[], closings: Readonly<Record<string, StatementBalances>>): Currency[] {
  return [...new Set([...Object.keys(closings), ...journal.map((t) => t.currency)])].sort() as Currency[];
}
