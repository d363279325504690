import { AlreadyExistsError, ConcurrentModificationError, NotFoundError } from '../errors.ts';
import type { MerchantSettings } from '../merchant.ts';
import { type CatalogDeps, accountOf } from './catalog.ts';
import { commit } from './commit.ts';
import { type Cart, CartStatus, editRefusal, type SeatHold, newId } from './model.ts';
import { cartMoved, noAccount, unexplained } from './refusals.ts';
import type { CartWrite, Created } from './store.ts';

export interface CartDeps extends CatalogDeps {
  /** How long a cart holds its seats before the schedule expires it, unless its merchant says otherwise. */
  readonly holdSeconds: number;
  readonly settingsOf: (merchantId: string) => Promise<MerchantSettings>;
  /** How long half-done work waits before the schedule finishes it. */
  readonly reconcileAfterSeconds: number;
}

/** The account's unfinished cart, or a new one (`created`). */
export async function openCart(deps: CartDeps, merchantId: string, accountId: string): Promise<Created<Cart>> {
  const account = await accountOf(deps, merchantId, accountId);
  if (account.activeCartId !== undefined) {
    const cart = await deps.store.getCart(merchantId, account.activeCartId);
    if (cart) return { created: false, value: cart };
  }
  const now = deps.clock();
  const cart: Cart = {
    merchantId,
    cartId: (deps.newId ?? newId)('cart'),
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
  const what = `cart ${cart.cartId}`;
  const refused = await commit(deps, what, {
    cart: { kind: 'putCart', cart, dueAt },
    account: { kind: 'openAccountCart', merchantId, accountId, cartId: cart.cartId },
  });
  if (!refused) return { created: true, value: cart };
  if (refused.account) {
    // Another open got there first: its cart is this one's answer.
    const account = refused.account.current;
    if (!account) throw noAccount(accountId);
    const activeCartId = account.activeCartId;
    if (activeCartId === undefined) throw unexplained(what, refused);
    const active = await deps.store.getCart(merchantId, activeCartId);
    // The account names a cart that is not there: it was written in between; read again.
    if (!active) throw new ConcurrentModificationError(`account ${accountId}'s active cart ${activeCartId} is missing`);
    return { created: false, value: active };
  }
  throw new AlreadyExistsError('cart_id', `cart ${cart.cartId} exists already and is not account ${accountId}'s open cart`);
}

/** Another merchant's cart is as absent as a missing one (the store's own reads see to it). */
export async function cartOf(deps: CartDeps, merchantId: string, cartId: string): Promise<Cart> {
  const cart = await deps.store.getCart(merchantId, cartId);
  if (!cart) throw new NotFoundError(`no cart ${cartId}`, { field: 'cart_id' });
  return cart;
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
    await releaseHold(deps, { merchantId: cart.merchantId, classId: item.classId, cartId: cart.cartId, swimmerId: item.swimmerId });
  }
  return finish(deps, cart, end);
}

/**
 * A hold's seat back to remaining; false when the hold was already gone: the hold's own
 * precondition is what makes a seat come back once only.
 */
export async function releaseHold(
  deps: CartDeps,
  hold: Pick<SeatHold, 'classId' | 'cartId' | 'swimmerId'> & { readonly merchantId: string },
): Promise<boolean> {
  const { merchantId, classId, cartId, swimmerId } = hold;
  const what = `release of the hold of cart ${cartId} in class ${classId}`;
  const refused = await commit(deps, what, {
    hold: { kind: 'deleteHold', merchantId, classId, cartId, swimmerId },
    class: { kind: 'moveSeat', merchantId, classId, from: 'seatsHeld', to: 'seatsRemain' },
  });
  if (!refused) return true;
  if (refused.hold) return false;
  throw unexplained(what, refused);
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
  const finishing = write(cart, next);
  const { merchantId, accountId, cartId } = cart;
  const what = `finishing cart ${cartId}`;
  const refused = await commit(deps, what, {
    cart: { kind: 'updateCart', write: finishing },
    account: { kind: 'closeAccountCart', merchantId, accountId, cartId, returnPoints: pointsCredit },
  });
  if (!refused) return next;
  if (refused.cart) throw cartMoved(finishing, refused.cart.current);
  // The account no longer (or never) names this cart as its open one: the cart finishes
  // without freeing the account, any credit still in the same commit.
  const again = await commit(deps, what, {
    cart: { kind: 'updateCart', write: finishing },
    account:
      pointsCredit > 0
        ? { kind: 'points', merchantId, accountId, change: 'return', points: pointsCredit }
        : { kind: 'requireAccount', merchantId, accountId },
  });
  if (again?.cart) throw cartMoved(finishing, again.cart.current);
  if (again) throw new ConcurrentModificationError(`account ${accountId} of cart ${cartId} is gone`);
  return next;
}

/** A status change (and other fields) of the cart alone, conditional on the cart being as read. */
export async function move(deps: CartDeps, cart: Cart, changes: Partial<Cart>, dueAt: string): Promise<Cart> {
  const next = nextVersion(deps, cart, changes);
  const moving = write(cart, next, dueAt);
  const refused = await commit(deps, `cart ${cart.cartId}`, { cart: { kind: 'updateCart', write: moving } });
  if (refused) throw cartMoved(moving, refused.cart?.current);
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

export async function holdSecondsFor(deps: CartDeps, merchantId: string): Promise<number> {
  return (await deps.settingsOf(merchantId)).cartHoldSeconds ?? deps.holdSeconds;
}

export function later(from: Date, seconds: number): string {
  return new Date(from.getTime() + seconds * 1000).toISOString();
}
