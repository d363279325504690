import { ConcurrentModificationError } from '../../../functions/domain/errors.ts';
import type { Posting } from '../../../functions/domain/ledger/postings.ts';
import type { Payout, PayoutCreation, PayoutStore } from '../../../functions/domain/payout.ts';

/**
 * The payout store with the DynamoDB adapter's conditions, in memory: `create` refuses a
 * payout_no that exists and an amount `available` does not cover; `replace` holds only while
 * the payout is still the one read. Each posting a write carried is kept, in order, and moves
 * `available` as the adapter's balance update would.
 */
export class StrictPayoutStore implements PayoutStore {
  private readonly items = new Map<string, Payout>();
  /** The postings written, in order. */
  readonly postings: Posting[] = [];

  /** `available`: the merchant's available funds, per currency. */
  constructor(readonly available: Map<string, number> = new Map()) {}

  async get(payoutNo: string): Promise<Payout | undefined> {
    return this.items.get(payoutNo);
  }

  async create(payout: Payout, posting: Posting): Promise<PayoutCreation> {
    const existing = this.items.get(payout.payoutNo);
    if (existing !== undefined) return { outcome: 'exists', payout: existing };
    if ((this.available.get(payout.currency) ?? 0) < payout.amount) return { outcome: 'insufficient_funds' };
    this.items.set(payout.payoutNo, payout);
    this.apply(posting);
    return { outcome: 'created' };
  }

  async replace(current: Payout, next: Payout, posting?: Posting): Promise<Payout> {
    const stored = this.items.get(current.payoutNo);
    if (stored?.version !== current.version || stored.status !== current.status) {
      throw new ConcurrentModificationError(`payout ${current.payoutNo} moved on from version ${current.version}`);
    }
    this.items.set(next.payoutNo, next);
    if (posting !== undefined) this.apply(posting);
    return next;
  }

  async list(merchantId: string, page: { limit: number; startingAfter?: Payout }) {
    const mine = [...this.items.values()].filter((p) => p.merchantId === merchantId).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const start = page.startingAfter === undefined ? 0 : mine.findIndex((p) => p.payoutNo === page.startingAfter?.payoutNo) + 1;
    return { data: mine.slice(start, start + page.limit), hasMore: mine.length > start + page.limit };
  }

  async listDue(now: Date, limit: number): Promise<Payout[]> {
    return [...this.items.values()]
      .filter((p) => p.reconcileAt !== undefined && Date.parse(p.reconcileAt) <= now.getTime())
      .sort((a, b) => (a.reconcileAt ?? '').localeCompare(b.reconcileAt ?? ''))
      .slice(0, limit);
  }

  /** Puts a payout as it would stand after some history, bypassing the conditions. */
  seed(payout: Payout): void {
    this.items.set(payout.payoutNo, payout);
  }

  private apply(posting: Posting): void {
    this.postings.push(posting);
    for (const { entries } of posting.transactions) {
      for (const { account, amount } of entries) {
        // `available` is credit-normal: a debit takes from it.
        if (account === 'available') this.available.set(posting.currency, (this.available.get(posting.currency) ?? 0) - amount);
      }
    }
  }
}
