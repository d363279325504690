import * as z from '../../shared/zod.ts';
import type { ItemRequest } from '../../../domain/carts/lines.ts';
import type { CheckoutRequest } from '../../../domain/carts/checkout.ts';
import { CartItemAction, CartStatus } from '../../../domain/carts/model.ts';
import { MAX_AMOUNT } from '../../../domain/money.ts';
import { paymentMethodId } from '../payment-schema.ts';
import { currencyOut, isoInstant, minorAmount } from '../response-schema.ts';
import { clientId, wholePoints } from '../school/schemas.ts';

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

/** What {@link cartItemObject} describes. */
export type CartItemObject = z.infer<typeof cartItemObject>;

/** What {@link cartObject} describes. */
export type CartObject = z.infer<typeof cartObject>;

/** What {@link purchaseObject} describes. */
export type PurchaseObject = z.infer<typeof purchaseObject>;
