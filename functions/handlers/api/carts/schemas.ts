import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from '../../shared/zod.ts';
import type { ItemRequest } from '../../../domain/carts/lines.ts';
import type { CheckoutRequest } from '../../../domain/carts/checkout.ts';
import { type Cart, type CartItem, CartItemAction, CartStatus, type Purchase, cartTotal } from '../../../domain/carts/model.ts';
import { MAX_AMOUNT } from '../../../domain/money.ts';
import type { ApiResult } from '../http.ts';
import { paymentMethodId } from '../payment-schema.ts';
import { currencyOut, isoInstant, minorAmount } from '../response-schema.ts';
import { pathParameter } from '../http.ts';
import { clientId, wholePoints } from '../school/schemas.ts';

export const CART_ID = /^cart_[0-9a-f]{24}$/;
const ITEM_ID = /^itm_[0-9a-f]{16}$/;

export const cartIdOf = (event: APIGatewayProxyEvent) =>
  pathParameter(event, 'cart_id', (value) => CART_ID.test(value), 'must be a cart_id (cart_...)');
export const itemIdOf = (event: APIGatewayProxyEvent) =>
  pathParameter(event, 'item_id', (value) => ITEM_ID.test(value), 'must be an item_id (itm_...)');

const itemActions = z.discriminatedUnion(
  'action',
  [
    z.strictObject({ action: z.literal('register'), swimmer_id: clientId, class_id: clientId }),
    z.strictObject({ action: z.literal('cancel'), swimmer_id: clientId, class_id: clientId }),
    z.strictObject({ action: z.literal('change'), swimmer_id: clientId, from_class_id: clientId, to_class_id: clientId }),
  ],
  { error: 'must be register, cancel or change' },
);

/** `POST /v1/carts/{cart_id}/items`: one of three actions, each with its own fields. */
export const addItemBody = z.pipe(
  itemActions,
  z.transform(
    (body: z.output<typeof itemActions>): ItemRequest =>
      body.action === 'change'
        ? { action: body.action, swimmerId: body.swimmer_id, fromClassId: body.from_class_id, toClassId: body.to_class_id }
        : { action: body.action, swimmerId: body.swimmer_id, classId: body.class_id },
  ),
);

const checkoutFields = z.strictObject({
  payment_mode: z.enum(['pay_now', 'pay_in_store'], { error: 'must be pay_now or pay_in_store' }),
  payment_method: z.optional(paymentMethodId),
  points: z._default(wholePoints(false, MAX_AMOUNT), 0),
});

/** `POST /v1/carts/{cart_id}/checkout`. */
export const checkoutBody = z.pipe(
  checkoutFields,
  z.transform(
    (body: z.output<typeof checkoutFields>): CheckoutRequest => ({
      mode: body.payment_mode,
      ...(body.payment_method !== undefined && { paymentMethod: body.payment_method }),
      points: body.points,
    }),
  ),
);

/** What a repeat of a checkout must match, by API field name. */
export function checkoutParameters(cartId: string, request: CheckoutRequest): Record<string, unknown> {
  return { cart_id: cartId, payment_mode: request.mode, payment_method: request.paymentMethod, points: request.points };
}

/** An item of a cart or a purchase, as the API shows it (`cartItemView`). */
export const cartItemObject = z.strictObject({
  item_id: z.string(),
  action: z.enum(Object.values(CartItemAction)),
  swimmer_id: z.string(),
  class_id: z.string(),
  from_class_id: z.optional(z.string()),
  amount: minorAmount,
  held_at: z.optional(isoInstant),
  fulfilled: z.optional(z.boolean()),
});

/** A cart as the API shows it (`cartView`). */
export const cartObject = z.strictObject({
  cart_id: z.string(),
  account_id: z.string(),
  status: z.enum(Object.values(CartStatus)),
  version: z.int(),
  currency: z.optional(currencyOut),
  items: z.array(cartItemObject),
  attempt: z.int(),
  totals: z.strictObject({ price: minorAmount, points: z.int(), points_value: minorAmount, card: minorAmount }),
  payment_mode: z.optional(z.enum(['pay_now', 'pay_in_store'])),
  payment_no: z.optional(z.string()),
  deadline: z.optional(isoInstant),
  holds_expire_at: z.optional(isoInstant),
  purchase_key: z.optional(z.string()),
  last_failure: z.optional(z.string()),
  created_at: isoInstant,
  updated_at: isoInstant,
});

/** What a paid checkout bought (`purchaseView`). */
export const purchaseObject = z.strictObject({
  purchase_key: z.string(),
  cart_id: z.string(),
  attempt: z.int(),
  payment_no: z.optional(z.string()),
  currency: currencyOut,
  total: minorAmount,
  card_amount: minorAmount,
  points: z.int(),
  items: z.array(cartItemObject),
  created_at: isoInstant,
});

export function cartItemView(item: CartItem): z.infer<typeof cartItemObject> {
  return {
    item_id: item.itemId,
    action: item.action,
    swimmer_id: item.swimmerId,
    class_id: item.classId,
    ...(item.fromClassId !== undefined && { from_class_id: item.fromClassId }),
    amount: item.amount,
    ...(item.heldAt !== undefined && { held_at: item.heldAt }),
    ...(item.fulfilled !== undefined && { fulfilled: item.fulfilled }),
  };
}

/** A cart as the API shows it: its items, what they add up to, and how the last checkout pays it. */
export function cartView(cart: Cart): z.infer<typeof cartObject> {
  const price = cartTotal(cart);
  const terms = cart.checkout;
  return {
    cart_id: cart.cartId,
    account_id: cart.accountId,
    status: cart.status,
    version: cart.version,
    ...(cart.currency !== undefined && { currency: cart.currency }),
    items: cart.items.map(cartItemView),
    attempt: cart.attempt,
    totals: {
      price,
      points: terms?.points ?? 0,
      points_value: terms === undefined ? 0 : terms.points * terms.pointValue,
      // A cart that gives back more than it buys pays nothing; the difference is paid back.
      card: terms?.cardAmount ?? Math.max(price, 0),
    },
    ...(terms !== undefined && { payment_mode: terms.mode }),
    ...(terms?.paymentNo !== undefined && { payment_no: terms.paymentNo }),
    ...(terms !== undefined && { deadline: terms.deadline }),
    ...(cart.holdsExpireAt !== undefined && { holds_expire_at: cart.holdsExpireAt }),
    ...(cart.purchaseKey !== undefined && { purchase_key: cart.purchaseKey }),
    ...(cart.lastFailure !== undefined && { last_failure: cart.lastFailure }),
    created_at: cart.createdAt,
    updated_at: cart.updatedAt,
  };
}

export function purchaseView(purchase: Purchase): z.infer<typeof purchaseObject> {
  return {
    purchase_key: purchase.purchaseKey,
    cart_id: purchase.cartId,
    attempt: purchase.attempt,
    ...(purchase.paymentNo !== undefined && { payment_no: purchase.paymentNo }),
    currency: purchase.currency,
    total: purchase.total,
    card_amount: purchase.cardAmount,
    points: purchase.points,
    items: purchase.items.map(cartItemView),
    created_at: purchase.createdAt,
  };
}

/** A cart route's answer: the cart as it is now. */
export function cartAnswer(cart: Cart, status = 200): ApiResult {
  return { status, body: cartView(cart) };
}
