import { accountOf } from '../../../domain/carts/catalog.ts';
import { catalogDeps } from '../../shared/school.ts';
import { purchaseView } from '../carts/views.ts';
import { apiHandler } from '../http.ts';
import { accountIdOf } from './path-parameters.ts';

/** `GET /v1/accounts/{account_id}/purchases`: what each paid checkout bought, and how it was paid. */
export const handler = apiHandler('ListPurchases', async ({ event, merchantId }) => {
  const deps = catalogDeps();
  const account = await accountOf(deps, merchantId, accountIdOf(event));
  const purchases = await deps.store.listPurchases(merchantId, account.accountId);
  return { status: 200, body: { purchases: purchases.map(purchaseView) } };
});
