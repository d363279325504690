import { ConcurrentModificationError, LedgerSourceNotPostedError } from '../errors.ts';
import type { Payment } from '../payment.ts';
import type { Clock } from '../ports.ts';
import type { Refund } from '../refund.ts';
import type { CurrencyBalances } from './accounts.ts';
import type { BalanceTransaction, ChargeBalanceTransaction } from './balance-transaction.ts';
import type { LedgerSettings } from './fees.ts';
import type { JournalTransaction } from './journal.ts';
import { type Posting, capturePosting, refundPosting, releasePosting } from './postings.ts';

/**
 * Where the ledger lives. `post` writes a posting's journal transactions (each on the
 * condition that its key is new), the balance changes they imply, the balance transaction it
 * adds and the charge it updates (on the condition that the charge is still as read), all in
 * one transaction: a source delivered twice posts once, and a crash cannot half-apply one.
 */
export interface LedgerStore {
  /**
   * Writes the posting. `already_posted` when its journal transactions exist, which changes
   * nothing; {@link ConcurrentModificationError} when the charge it updates changed since it
   * was read (nothing written either).
   */
  post(posting: Posting): Promise<'posted' | 'already_posted'>;
  /** A charge's balance transaction, once its capture is posted. */
  chargeOf(merchantId: string, chargeId: string): Promise<ChargeBalanceTransaction | undefined>;
  /** Pending charges whose `availableOn` has passed, oldest first, at most `limit`: through an index, never a scan. */
  listDueCharges(now: Date, limit: number): Promise<ChargeBalanceTransaction[]>;
  balances(merchantId: string): Promise<CurrencyBalances[]>;
  /** A merchant's balance transactions, newest first, after the one `startingAfter` names. */
  listBalanceTransactions(merchantId: string, page: { limit: number; startingAfter?: string }): Promise<{ data: BalanceTransaction[]; hasMore: boolean }>;
  getBalanceTransaction(merchantId: string, id: string): Promise<BalanceTransaction | undefined>;
  /** Every journal transaction of the merchant (for the invariants and, later, its statements). */
  journal(merchantId: string): Promise<JournalTransaction[]>;
}

/** A change to a payment or refund record, as a stream delivers it: the record before (absent when new) and after. */
export type SourceChange =
  | { readonly kind: 'payment'; readonly before?: Payment; readonly after: Payment }
  | { readonly kind: 'refund'; readonly before?: Refund; readonly after: Refund };

export type LedgerEvent =
  | { readonly type: 'capture'; readonly payment: Payment & { readonly chargeId: string } }
  | { readonly type: 'refund'; readonly refund: Refund };

/**
 * The money movement a change records, if any: a payment that has just succeeded was
 * captured; a refund that has just succeeded was paid back (a refund is final once
 * succeeded; one that failed and is revived to succeeded is paid back then). Every other
 * change moves no money the ledger holds: an authorization is not a capture, and a refund
 * still pending may yet fail.
 */
export function ledgerEventOf(change: SourceChange): LedgerEvent | undefined {
  if (change.after.status !== 'succeeded' || change.before?.status === 'succeeded') return undefined;
  if (change.kind === 'refund') return { type: 'refund', refund: change.after };
  const payment = change.after;
  return payment.chargeId === undefined ? undefined : { type: 'capture', payment: { ...payment, chargeId: payment.chargeId } };
}

export interface LedgerDeps {
  readonly ledger: LedgerStore;
  readonly settingsOf: (merchantId: string) => Promise<LedgerSettings>;
  readonly clock: Clock;
}

/** Times a posting is tried again when the charge it updates moved meanwhile (a refund racing the release). */
const STALE_CHARGE_ATTEMPTS = 5;

export type PostOutcome = 'posted' | 'already_posted' | 'nothing_to_post';

/**
 * Records a change in the ledger, once. Throws {@link LedgerSourceNotPostedError} for a refund
 * whose charge's capture is not posted yet (the stream delivers the two records apart): the
 * caller retries it.
 */
export async function postChange(deps: LedgerDeps, change: SourceChange): Promise<PostOutcome> {
  const event = ledgerEventOf(change);
  if (event === undefined) return 'nothing_to_post';
  if (event.type === 'capture') {
    return deps.ledger.post(capturePosting(event.payment, await deps.settingsOf(event.payment.merchantId)));
  }
  const { refund } = event;
  const settings = await deps.settingsOf(refund.merchantId);
  return retryingStaleCharge(async () => {
    const charge = await deps.ledger.chargeOf(refund.merchantId, refund.chargeId);
    if (charge === undefined) throw new LedgerSourceNotPostedError(`refund ${refund.refundNo}: the capture of ${refund.chargeId} is not posted yet`);
    return deps.ledger.post(refundPosting(refund, charge, settings));
  });
}

export interface ReleaseOutcome {
  readonly chargeId: string;
  readonly merchantId: string;
  readonly outcome: 'released' | 'already_released' | 'errored';
  readonly error?: unknown;
}

/**
 * Moves the funds of charges whose delay has passed from `pending` to `available`, at most
 * `limit` of them; the schedule's next run takes the rest. One charge that cannot be released
 * now is reported and left for the next run, never blocking the others.
 */
export async function releaseDueFunds(deps: LedgerDeps, limit: number): Promise<ReleaseOutcome[]> {
  const now = deps.clock();
  const due = await deps.ledger.listDueCharges(now, limit);
  const outcomes: ReleaseOutcome[] = [];
  for (const found of due) {
    const where = { chargeId: found.source, merchantId: found.merchantId };
    try {
      const outcome = await retryingStaleCharge(async (attempt) => {
        // The index may trail the table: the first attempt trusts it, a retry reads the charge again.
        const charge = attempt === 0 ? found : await deps.ledger.chargeOf(found.merchantId, found.source);
        if (charge === undefined || charge.status !== 'pending') return 'already_posted';
        return deps.ledger.post(releasePosting(charge, now));
      });
      outcomes.push({ ...where, outcome: outcome === 'posted' ? 'released' : 'already_released' });
    } catch (error) {
      outcomes.push({ ...where, outcome: 'errored', error });
    }
  }
  return outcomes;
}

async function retryingStaleCharge<T>(attempt: (attempt: number) => Promise<T>): Promise<T> {
  for (let n = 0; ; n += 1) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || n + 1 >= STALE_CHARGE_ATTEMPTS) throw error;
    }
  }
}

/** A merchant's balance as the API shows it: each amount per currency, currencies it never held left out. */
export function balanceView(balances: readonly CurrencyBalances[]) {
  const of = (account: 'available' | 'pending' | 'in_payout') =>
    balances.map(({ currency, balances: held }) => ({ amount: held[account], currency }));
  return { object: 'balance' as const, available: of('available'), pending: of('pending'), in_payout: of('in_payout') };
}
