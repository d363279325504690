import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ValidationError } from '../../../domain/errors.ts';
import { isSettlementDate } from '../../../domain/ledger/settlement-day.ts';
import { parseSettlementId } from '../../../domain/ledger/settlement.ts';
import { settlementStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { listBody, pageOf, refuseUnknownParameters } from '../list-query.ts';
import { settlementView } from './settlement-view.ts';

/**
 * `GET /v1/settlements?date=&limit=&starting_after=`: the merchant's statements, newest first
 * (by date, then currency), only `date`'s when it is given. A bad date, limit or cursor (one
 * that names none of the merchant's statements) is a 400 naming the parameter.
 */
export const handler = apiHandler('ListSettlements', async ({ event, merchantId }) => {
  const { date, limit, startingAfter } = parseQuery(event);
  const cursor = startingAfter === undefined ? undefined : parseSettlementId(startingAfter);
  const store = settlementStore();
  if (startingAfter !== undefined && (cursor?.merchantId !== merchantId || (await store.getStatement(merchantId, cursor.date, cursor.currency)) === undefined)) {
    throw new ValidationError('starting_after', `names no settlement of yours: ${startingAfter}`);
  }
  const page = await store.listStatements(merchantId, {
    limit,
    ...(date !== undefined && { date }),
    ...(cursor !== undefined && { startingAfter: { date: cursor.date, currency: cursor.currency } }),
  });
  return { status: 200, body: listBody('/v1/settlements', page, settlementView) };
});

function parseQuery(event: APIGatewayProxyEvent) {
  const query = refuseUnknownParameters(event, ['date', 'limit', 'starting_after']);
  const date = query['date'];
  if (date !== undefined && !isSettlementDate(date)) throw new ValidationError('date', 'must be a calendar date written YYYY-MM-DD');
  return { ...pageOf(query, 'a settlement'), ...(date !== undefined && { date }) };
}
