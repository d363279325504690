import { giveUpCart } from '../../../domain/carts/checkout.ts';
import { settlementDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { parseEmptyBody } from '../school/schemas.ts';
import { cartAnswer } from './views.ts';
import { cartIdOf } from './path-parameters.ts';

/**
 * `POST /v1/carts/{cart_id}/cancel`: the customer gives up an editable cart, or one waiting to
 * be paid in the shop (its points back); every held seat goes back. 200 with the canceled cart;
 * 409 `cart_locked` while a card checkout is under way.
 */
export const handler = apiHandler('CancelCart', async ({ event, merchantId }) => {
  const cartId = cartIdOf(event);
  parseEmptyBody(event);
  return cartAnswer(await giveUpCart(settlementDeps(), merchantId, cartId));
});
