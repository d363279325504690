import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ValidationError } from '../../../domain/errors.ts';
import { ledgerStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { balanceTransactionView } from './balance-transaction-view.ts';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
const PARAMETERS = ['limit', 'starting_after'];

/**
 * `GET /v1/balance_transactions?limit=&starting_after=`: the merchant's balance transactions,
 * newest first, from its own partition only. A cursor that names none of the merchant's
 * transactions (another merchant's among them) is a 400 naming `starting_after`, as is an
 * unknown parameter, by its name.
 */
export const handler = apiHandler('ListBalanceTransactions', async ({ event, merchantId }) => {
  const { limit, startingAfter } = pageOf(event);
  const ledger = ledgerStore();
  if (startingAfter !== undefined && (await ledger.getBalanceTransaction(merchantId, startingAfter)) === undefined) {
    throw new ValidationError('starting_after', `names no balance transaction of yours: ${startingAfter}`);
  }
  const page = await ledger.listBalanceTransactions(merchantId, { limit, ...(startingAfter !== undefined && { startingAfter }) });
  return {
    status: 200,
    body: { object: 'list', url: '/v1/balance_transactions', has_more: page.hasMore, data: page.data.map(balanceTransactionView) },
  };
});

function pageOf(event: APIGatewayProxyEvent): { limit: number; startingAfter?: string } {
  const query = event.queryStringParameters ?? {};
  const unknown = Object.keys(query).find((name) => !PARAMETERS.includes(name));
  if (unknown !== undefined) throw new ValidationError(unknown, 'is not a known parameter');
  const rawLimit = query['limit'];
  const limit = rawLimit === undefined ? DEFAULT_LIMIT : /^\d{1,3}$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new ValidationError('limit', `must be a whole number from 1 to ${MAX_LIMIT}`);
  const startingAfter = query['starting_after'];
  if (startingAfter === '') throw new ValidationError('starting_after', 'must name a balance transaction');
  return { limit, ...(startingAfter !== undefined && { startingAfter }) };
}
