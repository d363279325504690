import { accountOf } from '../../../domain/carts/catalog.ts';
import { catalogDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { accountView, swimmerView } from './views.ts';
import { accountIdOf } from './path-parameters.ts';

/** `GET /v1/accounts/{account_id}`: the account, its points, and its swimmers with their classes. */
export const handler = apiHandler('GetAccount', async ({ event, merchantId }) => {
  const deps = catalogDeps();
  const account = await accountOf(deps, merchantId, accountIdOf(event));
  const swimmers = await deps.store.listSwimmers(merchantId, account.accountId);
  return { status: 200, body: { ...accountView(account), swimmers: swimmers.map(swimmerView) } };
});
