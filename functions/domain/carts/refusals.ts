import {
  AlreadyRegisteredError,
  type ChargeonceError,
  ConcurrentModificationError,
  CurrencyMismatchError,
  NotFoundError,
} from '../errors.ts';
import { type Cart, type CartItem, editRefusal } from './model.ts';
import type { CartEdit, CartWrite } from './store.ts';

/** What a refused commit's items, as they now are, mean to the customer. */

/** Why an editable-cart precondition failed on the cart itself; undefined when the cart is editable. */
export function cartRefused(merchantId: string, cartId: string, current: Cart | undefined): ChargeonceError | undefined {
  if (!current || current.merchantId !== merchantId) return new NotFoundError(`no cart ${cartId}`, { field: 'cart_id' });
  return editRefusal(cartId, current.status);
}

/** Why adding a line was refused by the cart. */
export function lineRefused(edit: CartEdit, item: CartItem, current: Cart | undefined): ChargeonceError {
  const refusal = cartRefused(edit.merchantId, edit.cartId, current);
  if (refusal) return refusal;
  if (current?.items.some((line) => line.itemId === item.itemId)) {
    return new AlreadyRegisteredError(
      'swimmer_id',
      `cart ${edit.cartId} already has swimmer ${item.swimmerId} for class ${item.classId}`,
    );
  }
  if (edit.currency !== undefined && current?.currency !== undefined && current.currency !== edit.currency) {
    return new CurrencyMismatchError(
      'class_id',
      `cart ${edit.cartId} is priced in ${current.currency}, class ${item.classId} in ${edit.currency}`,
    );
  }
  return new ConcurrentModificationError(`cart ${edit.cartId} changed while adding item ${item.itemId}`);
}

/** A transition refused because the cart is no longer at the status and version read. */
export function cartMoved(write: CartWrite, current: Cart | undefined): ChargeonceError {
  const { cart, from } = write;
  if (!current) return new NotFoundError(`no cart ${cart.cartId}`, { field: 'cart_id' });
  return new ConcurrentModificationError(
    `cart ${cart.cartId} is ${current.status} at version ${current.version}, no longer ${from.status} at version ${from.version}`,
  );
}

export function noAccount(accountId: string): NotFoundError {
  return new NotFoundError(`no account ${accountId}`, { field: 'account_id' });
}

/** A refusal no precondition explains: items changed in ways the caller should read again. */
export function unexplained(what: string, refused: object): ConcurrentModificationError {
  return new ConcurrentModificationError(`the ${what} was refused by ${Object.keys(refused).join(', ')}`);
}
