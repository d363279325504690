import { settlementCsv, settlementCsvFilename } from '../../../domain/ledger/settlement-csv.ts';
import { settlementStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { refuseUnknownParameters } from '../list-query.ts';
import { ownStatement } from './settlement-view.ts';

/**
 * `GET /v1/settlements/{settlement_id}/csv`: the statement as a CSV download. UTF-8 text, not
 * binary: API Gateway passes a text body through as it is, with no binary media type to set.
 */
export const handler = apiHandler('GetSettlementCsv', async ({ event, merchantId }) => {
  refuseUnknownParameters(event, []);
  const statement = await ownStatement(settlementStore(), event, merchantId);
  return {
    status: 200,
    contentType: 'text/csv; charset=utf-8',
    headers: { 'Content-Disposition': `attachment; filename="${settlementCsvFilename(statement)}"` },
    text: settlementCsv(statement),
  };
});
