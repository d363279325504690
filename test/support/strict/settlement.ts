import type { LedgerStore } from '../../../functions/domain/ledger/ledger.ts';
import type { MerchantSettlementState, PutStatementResult, SettlementStore } from '../../../functions/domain/ledger/settle.ts';
import type { SettlementStatement, StatementBalances } from '../../../functions/domain/ledger/settlement.ts';
import type { Currency } from '../../../functions/domain/money.ts';

/**
 * The settlement store with the DynamoDB adapter's semantics, in memory, over a ledger store:
 * a statement is put once (a second put answers the first, unchanged), the registry's place
 * never moves back, a day's journal and transactions are read by creation time, `[from, to)`.
 * What it stores is frozen, so a rule that changed a stored statement would throw.
 */
export class StrictSettlementStore implements SettlementStore {
  readonly statements = new Map<string, SettlementStatement>();
  readonly registry = new Map<string, MerchantSettlementState>();
  /** Puts it took, refused ones included. */
  puts = 0;

  constructor(private readonly ledger: LedgerStore) {}

  addMerchant(merchantId: string, createdAt: string): void {
    this.registry.set(merchantId, { merchantId, createdAt, closings: {} });
  }

  async merchants() {
    return [...this.registry.values()];
  }

  async merchant(merchantId: string) {
    return this.registry.get(merchantId);
  }

  async journalBetween(merchantId: string, from: string, to: string) {
    return (await this.ledger.journal(merchantId)).filter((t) => t.createdAt >= from && t.createdAt < to);
  }

  async transactionsBetween(merchantId: string, from: string, to: string) {
    const { data } = await this.ledger.listBalanceTransactions(merchantId, { limit: 10_000 });
    return data.filter((t) => t.createdAt >= from && t.createdAt < to).reverse();
  }

  async putStatement(statement: SettlementStatement): Promise<PutStatementResult> {
    this.puts += 1;
    const key = `${statement.merchantId}|${statement.date}|${statement.currency}`;
    const existing = this.statements.get(key);
    if (existing !== undefined) return { outcome: 'already_written', statement: existing };
    this.statements.set(key, deepFreeze(structuredClone(statement)));
    return { outcome: 'written' };
  }

  async advance(merchantId: string, date: string, closings: Readonly<Record<string, StatementBalances>>) {
    const current = this.registry.get(merchantId);
    if (current === undefined || (current.settledThrough !== undefined && current.settledThrough >= date)) return;
    this.registry.set(merchantId, { ...current, settledThrough: date, closings: structuredClone(closings) });
  }

  async getStatement(merchantId: string, date: string, currency: Currency) {
    return this.statements.get(`${merchantId}|${date}|${currency}`);
  }

  async listStatements(merchantId: string, page: { limit: number; date?: string; startingAfter?: { date: string; currency: Currency } }) {
    const after = page.startingAfter === undefined ? undefined : `${page.startingAfter.date}|${page.startingAfter.currency}`;
    const sorted = [...this.statements.values()]
      .filter((s) => s.merchantId === merchantId && (page.date === undefined || s.date === page.date))
      .sort((a, b) => `${b.date}|${b.currency}`.localeCompare(`${a.date}|${a.currency}`))
      .filter((s) => after === undefined || `${s.date}|${s.currency}` < after);
    return { data: sorted.slice(0, page.limit), hasMore: sorted.length > page.limit };
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
