import { Metric } from '../../../config/metrics.ts';
import { SoldOutError } from '../../../domain/errors.ts';
import { addItem } from '../../../domain/carts/lines.ts';
import { cartDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { parseBody } from '../parse-body.ts';
import { addItemBody } from './schemas.ts';
import { cartAnswer } from './views.ts';
import { cartIdOf } from './path-parameters.ts';

/**
 * `POST /v1/carts/{cart_id}/items`: a register or change holds a seat at once (409 `sold_out`,
 * `already_registered`), a cancel names a seat to give up (409 `not_registered`); the same
 * item again is a repeat. 200 with the cart.
 */
export const handler = apiHandler('AddCartItem', async ({ event, merchantId, metrics }) => {
  const cartId = cartIdOf(event);
  try {
    return cartAnswer(await addItem(cartDeps(), merchantId, cartId, parseBody(event, addItemBody)));
  } catch (error) {
    if (error instanceof SoldOutError) metrics.add(Metric.SoldOut);
    throw error;
  }
});
