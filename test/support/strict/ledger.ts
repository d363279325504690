import { ConcurrentModificationError } from '../../../functions/domain/errors.ts';
import { type Account, type CurrencyBalances, zeroBalances } from '../../../functions/domain/ledger/accounts.ts';
import { type BalanceTransaction, type ChargeBalanceTransaction, isCharge } from '../../../functions/domain/ledger/balance-transaction.ts';
import { type JournalKey, type JournalTransaction, balanceChanges } from '../../../functions/domain/ledger/journal.ts';
import type { LedgerStore } from '../../../functions/domain/ledger/ledger.ts';
import type { Posting } from '../../../functions/domain/ledger/postings.ts';
import type { Currency } from '../../../functions/domain/money.ts';

/**
 * The ledger store with the DynamoDB adapter's semantics, in memory: a posting is written
 * whole or not at all, refused as `already_posted` when its journal keys exist (the
 * adapter's `attribute_not_exists`), and with {@link ConcurrentModificationError} when the
 * charge it updates is no longer at the version read. The due charges come from the pending
 * charges, as the sparse index gives them. What it stores is frozen.
 */
export class StrictLedgerStore implements LedgerStore {
  private readonly journals = new Map<string, JournalTransaction>();
  private readonly transactions = new Map<string, BalanceTransaction>();
  private readonly balanceRecords = new Map<string, { merchantId: string; currency: Currency; balances: Record<Account, number> }>();
  /** Writes it took, and journal transactions they held, for the bench's and the tests' counts. */
  posted = 0;

  async post(posting: Posting): Promise<'posted' | 'already_posted'> {
    const existing = posting.transactions.filter((transaction) => this.isPosted(posting.merchantId, transaction.key));
    if (existing.length > 0) {
      // The adapter's transaction fails whole on the first; a posting half in the journal would be a bug of the store.
      if (existing.length !== posting.transactions.length) throw new Error(`posting ${posting.transactions.map((t) => t.key).join(', ')} is half in the journal`);
      return 'already_posted';
    }
    if (posting.updated !== undefined) {
      const stored = this.transactions.get(transactionId(posting.merchantId, posting.updated.before.id));
      if (stored === undefined || !isCharge(stored) || stored.charge.version !== posting.updated.before.charge.version) {
        throw new ConcurrentModificationError(`charge ${posting.updated.before.source} changed since it was read`);
      }
    }
    for (const transaction of posting.transactions) this.journals.set(journalId(posting.merchantId, transaction.key), Object.freeze({ ...transaction }));
    const key = `${posting.merchantId}|${posting.currency}`;
    const record = this.balanceRecords.get(key) ?? { merchantId: posting.merchantId, currency: posting.currency, balances: { ...zeroBalances } };
    for (const [account, change] of Object.entries(balanceChanges(posting.transactions)) as [Account, number][]) record.balances[account] += change;
    this.balanceRecords.set(key, record);
    if (posting.added !== undefined) this.transactions.set(transactionId(posting.merchantId, posting.added.id), structuredClone(posting.added));
    if (posting.updated !== undefined) this.transactions.set(transactionId(posting.merchantId, posting.updated.after.id), structuredClone(posting.updated.after));
    this.posted += 1;
    return 'posted';
  }

  /** Whether the journal holds the key: the adapter's `attribute_not_exists` on the journal's items. */
  protected isPosted(merchantId: string, key: JournalKey): boolean {
    return this.journals.has(journalId(merchantId, key));
  }

  async chargeOf(merchantId: string, chargeId: string): Promise<ChargeBalanceTransaction | undefined> {
    const found = [...this.transactions.values()].find((t) => t.merchantId === merchantId && t.type === 'charge' && t.source === chargeId);
    return found !== undefined && isCharge(found) ? structuredClone(found) : undefined;
  }

  async listDueCharges(now: Date, limit: number): Promise<ChargeBalanceTransaction[]> {
    return [...this.transactions.values()]
      .filter((t): t is ChargeBalanceTransaction => isCharge(t) && t.status === 'pending' && t.availableOn <= now.toISOString())
      .sort((a, b) => a.availableOn.localeCompare(b.availableOn))
      .slice(0, limit)
      .map((t) => structuredClone(t));
  }

  async balances(merchantId: string): Promise<CurrencyBalances[]> {
    return this.ledgerOf(merchantId).balances;
  }

  /** The merchant's balances and journal as they are now, for the invariants (which read synchronously). */
  ledgerOf(merchantId: string): { balances: CurrencyBalances[]; journal: JournalTransaction[] } {
    const balances = [...this.balanceRecords.values()]
      .filter((record) => record.merchantId === merchantId)
      .sort((a, b) => a.currency.localeCompare(b.currency))
      .map(({ currency, balances: held }) => ({ currency, balances: { ...held } }));
    return { balances, journal: [...this.journals.values()].filter((t) => t.merchantId === merchantId) };
  }

  async listBalanceTransactions(merchantId: string, page: { limit: number; startingAfter?: string }) {
    const all = [...this.transactions.values()]
      .filter((t) => t.merchantId === merchantId)
      .sort((a, b) => order(b).localeCompare(order(a)));
    const from = page.startingAfter === undefined ? 0 : all.findIndex((t) => t.id === page.startingAfter) + 1;
    const data = all.slice(from, from + page.limit).map((t) => structuredClone(t));
    return { data, hasMore: from + page.limit < all.length };
  }

  async getBalanceTransaction(merchantId: string, id: string): Promise<BalanceTransaction | undefined> {
    const found = this.transactions.get(transactionId(merchantId, id));
    return found === undefined ? undefined : structuredClone(found);
  }

  async journal(merchantId: string): Promise<JournalTransaction[]> {
    return this.ledgerOf(merchantId).journal;
  }

  /** Every merchant with a balance, for the invariants. */
  merchants(): string[] {
    return [...new Set([...this.balanceRecords.values()].map((record) => record.merchantId))];
  }
}

/** The adapter's sort key: newest first by creation, then by journal key. */
const order = (t: BalanceTransaction) => `${t.createdAt}|${t.journalKey}`;
const journalId = (merchantId: string, key: string) => `${merchantId}|${key}`;
const transactionId = (merchantId: string, id: string) => `${merchantId}|${id}`;
