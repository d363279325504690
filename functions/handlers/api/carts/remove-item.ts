import { removeItem } from '../../../domain/carts/lines.ts';
import { cartDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { cartAnswer } from './views.ts';
import { cartIdOf, itemIdOf } from './path-parameters.ts';

/** `DELETE /v1/carts/{cart_id}/items/{item_id}`: the item gone, its held seat back to the class. 200 with the cart. */
export const handler = apiHandler('RemoveCartItem', async ({ event, merchantId }) => {
  const cartId = cartIdOf(event);
  return cartAnswer(await removeItem(cartDeps(), merchantId, cartId, itemIdOf(event)));
});
