import { confirmInStore } from '../../../domain/carts/checkout.ts';
import { settlementDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { parseEmptyBody } from '../school/schemas.ts';
import { cartAnswer } from './views.ts';
import { cartIdOf } from './path-parameters.ts';

/** `POST /v1/carts/{cart_id}/confirm-in-store`: the shop took the money; the cart is paid and its seats registered. */
export const handler = apiHandler('ConfirmInStore', async ({ event, merchantId }) => {
  const cartId = cartIdOf(event);
  parseEmptyBody(event);
  return cartAnswer(await confirmInStore(settlementDeps(), merchantId, cartId));
});
