import { CartStatus } from '../../../domain/carts/model.ts';
import { cartLister, schoolStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { listBody, oneOf, parseListRequest, withCursors } from '../list-query.ts';
import { cartView } from './views.ts';
import { CART_ID } from './path-parameters.ts';

/**
 * `GET /v1/carts`: the merchant's carts, newest first, Stripe's list parameters and `status`.
 * Each as `GET /v1/carts/{cart_id}` shows it.
 */
export const handler = apiHandler('ListCarts', async ({ event, merchantId }) => {
  const request = parseListRequest<{ status: CartStatus }>(event, { status: oneOf('status', Object.values(CartStatus)) });
  const query = await withCursors(request, async (cartId) => {
    const cart = CART_ID.test(cartId) ? await schoolStore().getCart(merchantId, cartId) : undefined;
    return cart === undefined ? undefined : { createdAt: cart.createdAt, id: cart.cartId };
  });
  const page = await cartLister().listForMerchant(merchantId, query);
  return { status: 200, body: listBody('/v1/carts', page, cartView) };
});
