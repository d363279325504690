import {
  AlreadyRegisteredError,
  NotFoundError,
  NotRegisteredError,
} from '../errors.ts';
import type { MerchantSettings } from '../merchant.ts';
import { type CatalogDeps, accountOf, classOf } from './catalog.ts';
import {
  type Cart,
  type CartItem,
  CartItemAction,
  CartStatus,
  editRefusal,
  type Student,
  itemIdFor,
  newId,
} from './model.ts';
import type { CartEdit, CartWrite, Created } from './store.ts';

export interface CartDeps extends CatalogDeps {
  /** How long a cart holds its seats before the schedule expires it, unless its merchant says otherwise. */
  readonly holdSeconds: number;
  readonly settingsOf: (merchantId: string) => Promise<MerchantSettings>;
  /** How long half-done work waits before the schedule finishes it. */
  readonly reconcileAfterSeconds: number;
}

export type ItemRequest =
  | { readonly action: 'register'; readonly swimmerId: string; readonly classId: string }
  | { readonly action: 'cancel'; readonly swimmerId: string; readonly classId: string }
  | { readonly action: 'change'; readonly swimmerId: string; readonly fromClassId: string; readonly toClassId: string };

/** The account's unfinished cart, or a new one (`created`). */
export async function openCart(deps: CartDeps, merchantId: string, accountId: string): Promise<Created<Cart>> {
  const account = await accountOf(deps, merchantId, accountId);
  if (account.activeCartId !== undefined) {
    const cart = await deps.store.getCart(account.activeCartId);
    if (cart) return { created: false, value: cart };
  }
  const now = deps.clock();
  const cart: Cart = {
    merchantId,
    cartId: newId('cart'),
    accountId,
    status: CartStatus.Active,
    version: 1,
    items: [],
    attempt: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  // An empty cart left alone ends when a held one would.
  const dueAt = later(now, await holdSecondsFor(deps, merchantId));
  return deps.store.openCart({ cart, from: { status: CartStatus.Active, version: 0 }, dueAt });
}

/** Another merchant's cart is as absent as a missing one. */
export async function cartOf(deps: CartDeps, merchantId: string, cartId: string): Promise<Cart> {
  const cart = await deps.store.getCart(cartId);
  if (!cart || cart.merchantId !== merchantId) throw new NotFoundError(`no cart ${cartId}`, { field: 'cart_id' });
  return cart;
}

/**
 * Adds an item: a register or change holds a seat at once (refused `sold_out`,
 * `already_registered`); a cancel only records that the seat is given up at checkout. The same
 * item twice is a repeat and answers with the cart.
 */
export async function addItem(deps: CartDeps, merchantId: string, cartId: string, request: ItemRequest): Promise<Cart> {
  const cart = await cartOf(deps, merchantId, cartId);
  assertEditable(cart);
  const classId = request.action === 'change' ? request.toClassId : request.classId;
  const itemId = itemIdFor(request.action, request.swimmerId, classId);
  if (cart.items.some((item) => item.itemId === itemId)) return cart;
  const [swimClass, holdSeconds] = await Promise.all([
    classOf(deps, merchantId, classId, request.action === 'change' ? 'to_class_id' : 'class_id'),
    holdSecondsFor(deps, merchantId),
  ]);
  const now = deps.clock();
  const edit: CartEdit = {
    merchantId,
    cartId,
    now: now.toISOString(),
    holdsExpireAt: later(now, holdSeconds),
    currency: swimClass.currency,
  };
  try {
    if (request.action === CartItemAction.Register) {
      const item: CartItem = {
        itemId,
        action: 'register',
        swimmerId: request.swimmerId,
        classId,
        amount: swimClass.price,
        seatPrice: swimClass.price,
        heldAt: edit.now,
      };
      await deps.store.holdSeat(edit, cart.accountId, item, holdDueAt(deps, now, holdSeconds));
    } else if (request.action === CartItemAction.Change) {
      if (request.fromClassId === request.toClassId) {
        throw new AlreadyRegisteredError('to_class_id', 'the swimmer is already in this class');
      }
      const seat = await seatOf(deps, merchantId, request.fromClassId, cart.accountId, request.swimmerId, 'from_class_id');
      const item: CartItem = {
        itemId,
        action: 'change',
        swimmerId: request.swimmerId,
        classId,
        fromClassId: request.fromClassId,
        amount: swimClass.price - seat.paid,
        seatPrice: swimClass.price,
        paidBy: seat.purchaseKey,
        heldAt: edit.now,
      };
      await deps.store.holdSeat(edit, cart.accountId, item, holdDueAt(deps, now, holdSeconds));
    } else {
      const seat = await seatOf(deps, merchantId, classId, cart.accountId, request.swimmerId, 'class_id');
      const item: CartItem = {
        itemId,
        action: 'cancel',
        swimmerId: request.swimmerId,
        classId,
        amount: -seat.paid,
        paidBy: seat.purchaseKey,
      };
      await deps.store.addCancel({ ...edit, holdsExpireAt: undefined }, cart.accountId, item);
    }
  } catch (error) {
    // The same item added by a concurrent repeat: that repeat's cart is this one's answer.
    if (!(error instanceof AlreadyRegisteredError)) throw error;
    const now = await cartOf(deps, merchantId, cartId);
    if (now.items.some((item) => item.itemId === itemId)) return now;
    throw error;
  }
  return cartOf(deps, merchantId, cartId);
}

/** Removes an item; a held seat goes back to the class at once. */
export async function removeItem(deps: CartDeps, merchantId: string, cartId: string, itemId: string): Promise<Cart> {
  const cart = await cartOf(deps, merchantId, cartId);
  assertEditable(cart);
  const item = cart.items.find((i) => i.itemId === itemId);
  if (!item) throw new NotFoundError(`cart ${cartId} has no item ${itemId}`, { field: 'item_id' });
  await deps.store.releaseItem({ merchantId, cartId, now: deps.clock().toISOString() }, item);
  return cartOf(deps, merchantId, cartId);
}

/**
 * The customer gives up before paying: `canceling`, each hold released once, `canceled`.
 * A cart already canceling is finished; one canceled answers as it is.
 */
export async function cancelCart(deps: CartDeps, merchantId: string, cartId: string): Promise<Cart> {
  const cart = await cartOf(deps, merchantId, cartId);
  if (cart.status === CartStatus.Canceled) return cart;
  if (cart.status === CartStatus.Canceling) return finishReleasing(deps, cart, CartStatus.Canceled);
  assertEditable(cart);
  const canceling = await move(deps, cart, { status: CartStatus.Canceling }, later(deps.clock(), deps.reconcileAfterSeconds));
  return finishReleasing(deps, canceling, CartStatus.Canceled);
}

/**
 * An abandoned cart: `expiring`, each hold released once, `expired`. Only a cart whose holds
 * lapsed, and only from an editable status: a cart checking out is the checkout's to undo.
 */
export async function expireCart(deps: CartDeps, cart: Cart): Promise<Cart> {
  if (cart.status === CartStatus.Expiring) return finishReleasing(deps, cart, CartStatus.Expired);
  const expiring = await move(deps, cart, { status: CartStatus.Expiring }, later(deps.clock(), deps.reconcileAfterSeconds));
  return finishReleasing(deps, expiring, CartStatus.Expired);
}

/** Releases every hold the cart still has (each at most once: the hold's presence guards it), then ends the cart. */
async function finishReleasing(deps: CartDeps, cart: Cart, end: 'expired' | 'canceled'): Promise<Cart> {
  for (const item of cart.items) {
    if (item.heldAt === undefined) continue;
    await deps.store.releaseHold({ classId: item.classId, cartId: cart.cartId, swimmerId: item.swimmerId }, cart.merchantId);
  }
  return finish(deps, cart, end);
}

/**
 * Moves the cart to a finished status, taking it off the schedule and freeing its account;
 * `pointsCredit` (a difference paid back in points) reaches the account in the same write.
 */
export async function finish(
  deps: CartDeps,
  cart: Cart,
  status: 'done' | 'expired' | 'canceled',
  pointsCredit = 0,
): Promise<Cart> {
  const next = nextVersion(deps, cart, { status });
  await deps.store.finishCart({ cart: next, from: { status: cart.status, version: cart.version } }, pointsCredit);
  return next;
}

/** A status change of the cart alone, conditional on the cart being as read. */
export async function move(deps: CartDeps, cart: Cart, changes: Partial<Cart>, dueAt: string): Promise<Cart> {
  const next = nextVersion(deps, cart, changes);
  await deps.store.moveCart(write(cart, next, dueAt));
  return next;
}

export function write(cart: Cart, next: Cart, dueAt?: string): CartWrite {
  return { cart: next, from: { status: cart.status, version: cart.version }, ...(dueAt !== undefined && { dueAt }) };
}

export function nextVersion(deps: CartDeps, cart: Cart, changes: Partial<Cart>): Cart {
  return { ...cart, ...changes, version: cart.version + 1, updatedAt: deps.clock().toISOString() };
}

export function assertEditable(cart: Cart): void {
  const refusal = editRefusal(cart.cartId, cart.status);
  if (refusal) throw refusal;
}

/** The swimmer's seat in a class: what it was paid, and by which purchase, is what giving it up pays back. */
async function seatOf(
  deps: CartDeps,
  merchantId: string,
  classId: string,
  accountId: string,
  swimmerId: string,
  field: string,
): Promise<Student> {
  const student = await deps.store.getStudent(merchantId, classId, accountId, swimmerId);
  if (!student) throw new NotRegisteredError(field, `swimmer ${swimmerId} is not registered in class ${classId}`);
  return student;
}

/** The hold's own backstop: past its cart's lifetime, the schedule checks that the cart still wants it. */
function holdDueAt(deps: CartDeps, now: Date, holdSeconds: number): string {
  return later(now, holdSeconds + deps.reconcileAfterSeconds);
}

async function holdSecondsFor(deps: CartDeps, merchantId: string): Promise<number> {
  return (await deps.settingsOf(merchantId)).cartHoldSeconds ?? deps.holdSeconds;
}

export function later(from: Date, seconds: number): string {
  return new Date(from.getTime() + seconds * 1000).toISOString();
}
