import type { APIGatewayProxyEvent } from 'aws-lambda';
import { NotFoundError } from '../../../domain/errors.ts';
import type { SettlementStore } from '../../../domain/ledger/settle.ts';
import { type Mismatch, type SettlementStatement, parseSettlementId } from '../../../domain/ledger/settlement.ts';
import { balanceTransactionView } from './balance-transaction-view.ts';
import type { SettlementObject } from './schemas.ts';
import { unixSeconds } from '../unix-seconds.ts';

const mismatchView = (m: Mismatch) => ({
  kind: m.kind,
  type: m.type,
  source: m.source,
  ledger_amount: m.ledgerAmount ?? null,
  provider_amount: m.providerAmount ?? null,
  balance_transaction: m.balanceTransactionId ?? null,
  provider_transaction: m.providerTransactionId ?? null,
});

/** A statement as the API shows it: snake case, times in Unix seconds as Stripe's. */
export function settlementView(statement: SettlementStatement): SettlementObject {
  return {
    id: statement.id,
    object: 'settlement' as const,
    date: statement.date,
    currency: statement.currency,
    time_zone: statement.timeZone,
    period_start: unixSeconds(statement.periodStart),
    period_end: unixSeconds(statement.periodEnd),
    opening_balance: statement.opening,
    closing_balance: statement.closing,
    summary: [...statement.summary],
    totals: statement.totals,
    transactions: statement.transactions.map(balanceTransactionView),
    reconciliation: {
      provider_transactions: statement.reconciliation.providerTransactions,
      matched: statement.reconciliation.matched,
      mismatches: statement.reconciliation.mismatches.map(mismatchView),
    },
    created: unixSeconds(statement.createdAt),
  };
}

/**
 * The caller's statement that the path's `settlement_id` names: a 404 for an id that names none
 * of its own, another merchant's included (the id says whose it is; it is looked up under the
 * caller only).
 */
export async function ownStatement(store: SettlementStore, event: APIGatewayProxyEvent, merchantId: string): Promise<SettlementStatement> {
  const id = event.pathParameters?.['settlement_id'] ?? '';
  const parsed = parseSettlementId(id);
  const statement = parsed?.merchantId === merchantId ? await store.getStatement(merchantId, parsed.date, parsed.currency) : undefined;
  if (statement === undefined) throw new NotFoundError(`no settlement ${id}`, { field: 'settlement_id' });
  return statement;
}
