import { openCart } from '../../../domain/carts/cart.ts';
import { cartDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { createdAnswer, parseEmptyBody } from '../school/schemas.ts';
import { accountIdOf } from '../school/path-parameters.ts';
import { cartView } from './views.ts';

/** `POST /v1/accounts/{account_id}/cart`: 201 with a new cart, 200 with the account's unfinished one. */
export const handler = apiHandler('OpenCart', async ({ event, merchantId }) => {
  const accountId = accountIdOf(event);
  parseEmptyBody(event);
  return createdAnswer(await openCart(cartDeps(), merchantId, accountId), cartView);
});
