import { settlementStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { refuseUnknownParameters } from '../list-query.ts';
import { ownStatement, settlementView } from './settlement-view.ts';

/** `GET /v1/settlements/{settlement_id}`: one of the merchant's statements, 404 for any other's. */
export const handler = apiHandler('GetSettlement', async ({ event, merchantId }) => {
  refuseUnknownParameters(event, []);
  return { status: 200, body: settlementView(await ownStatement(settlementStore(), event, merchantId)) };
});
