import { cartOf } from '../../../domain/carts/cart.ts';
import { cartDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { cartAnswer } from './views.ts';
import { cartIdOf } from './path-parameters.ts';

/** `GET /v1/carts/{cart_id}`: another merchant's cart is as absent as a missing one. */
export const handler = apiHandler('GetCart', async ({ event, merchantId }) =>
  cartAnswer(await cartOf(cartDeps(), merchantId, cartIdOf(event))),
);
