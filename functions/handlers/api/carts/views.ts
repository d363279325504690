/**
 * What the API shows, apart from the zod objects of schemas.ts that describe it for the contract:
 * a route that only answers (a GET, the event publisher) then bundles no zod.
 */
import { type Cart, type CartItem, type Purchase, cartTotal } from '../../../domain/carts/model.ts';
import type { ApiResult } from '../http.ts';
import type { CartItemObject, CartObject, PurchaseObject } from './schemas.ts';

export function cartItemView(item: CartItem): CartItemObject {
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
export function cartView(cart: Cart): CartObject {
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

export function purchaseView(purchase: Purchase): PurchaseObject {
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
