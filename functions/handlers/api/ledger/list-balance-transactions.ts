import { ValidationError } from '../../../domain/errors.ts';
import { ledgerStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { balanceTransactionView } from './balance-transaction-view.ts';
import { PAGE_PARAMETERS, listBody, pageOf, refuseUnknownParameters } from '../list-query.ts';

/**
 * `GET /v1/balance_transactions?limit=&starting_after=`: the merchant's balance transactions,
 * newest first, from its own partition only. A cursor that names none of the merchant's
 * transactions (another merchant's among them) is a 400 naming `starting_after`, as is an
 * unknown parameter, by its name.
 */
export const handler = apiHandler('ListBalanceTransactions', async ({ event, merchantId }) => {
  const { limit, startingAfter } = pageOf(refuseUnknownParameters(event, PAGE_PARAMETERS), 'a balance transaction');
  const ledger = ledgerStore();
  if (startingAfter !== undefined && (await ledger.getBalanceTransaction(merchantId, startingAfter)) === undefined) {
    throw new ValidationError('starting_after', `names no balance transaction of yours: ${startingAfter}`);
  }
  const page = await ledger.listBalanceTransactions(merchantId, { limit, ...(startingAfter !== undefined && { startingAfter }) });
  return {
    status: 200,
    body: listBody('/v1/balance_transactions', page, balanceTransactionView),
  };
});
