import { type CheckoutRequest, checkout } from '../../../domain/carts/checkout.ts';
import { checkoutDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { parseBody } from '../parse-body.ts';
import { type CreateRoute, idempotentRoute } from '../idempotent-route.ts';
import { checkoutBody, checkoutParameters } from './schemas.ts';
import { cartAnswer } from './views.ts';
import { cartIdOf } from './path-parameters.ts';

type CheckoutInput = { readonly cartId: string; readonly request: CheckoutRequest };

const cartCheckout: CreateRoute<CheckoutInput> = {
  scope: 'checkout',
  parse: (event) => ({ cartId: cartIdOf(event), request: parseBody(event, checkoutBody) }),
  // No defaultKey: each checkout attempt of a cart is its own request, so the header is required.
  parameters: ({ cartId, request }) => checkoutParameters(cartId, request),
  run: async ({ cartId, request }, { merchantId }) => cartAnswer(await checkout(checkoutDeps(), merchantId, cartId, request), 202),
};

/**
 * `POST /v1/carts/{cart_id}/checkout` with a required Idempotency-Key: the cart locked, the
 * points spent, the card part on its way; 202 with the cart (`checking`, or `done` when no card
 * pays). 409 `insufficient_points`, `cart_empty`, `cart_locked` with nothing changed.
 */
export const handler = apiHandler('Checkout', idempotentRoute(cartCheckout));
