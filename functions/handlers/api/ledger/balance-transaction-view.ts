import type { BalanceTransaction } from '../../../domain/ledger/balance-transaction.ts';
import type { BalanceTransactionObject } from './schemas.ts';
import { unixSeconds } from '../unix-seconds.ts';

/** A balance transaction as the API shows it: Stripe's shape, times in Unix seconds as Stripe's. */
export function balanceTransactionView(transaction: BalanceTransaction): BalanceTransactionObject {
  return {
    id: transaction.id,
    object: 'balance_transaction' as const,
    source: transaction.source,
    type: transaction.type,
    amount: transaction.amount,
    fee: transaction.fee,
    net: transaction.net,
    currency: transaction.currency,
    created: unixSeconds(transaction.createdAt),
    available_on: unixSeconds(transaction.availableOn),
    status: transaction.status,
  };
}
