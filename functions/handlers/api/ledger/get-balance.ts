import { balanceView } from '../../../domain/ledger/ledger.ts';
import { ledgerStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';

/** `GET /v1/balance`: the merchant's available, pending and in-payout funds, per currency. */
export const handler = apiHandler('GetBalance', async ({ merchantId }) => ({
  status: 200,
  body: balanceView(await ledgerStore().balances(merchantId)),
}));
