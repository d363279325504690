import { type CreatePaymentDeps, createPayment, paymentNoFor } from '../create-payment.ts';
import type { CreateRefundDeps } from '../refund.ts';
import {
  AlreadyRegisteredError,
  CartEmptyError,
  CartLockedError,
  ConcurrentModificationError,
  InsufficientPointsError,
  ValidationError,
} from '../errors.ts';
import { minimumCharge } from '../money.ts';
import { type Payment, PaymentStatus } from '../payment.ts';
import { type PaymentRepository, StaleWriteError } from '../ports.ts';
import { touch } from '../saga.ts';
import { type CartDeps, assertEditable, cancelCart, cartOf, later, nextVersion, write } from './cart.ts';
import { commit } from './commit.ts';
import { fulfil, purchaseOf } from './fulfilment.ts';
import {
  CART_METADATA_KEY,
  type Cart,
  CartStatus,
  type CheckoutTerms,
  FINISHED,
  PAYMENT_WINDOW_SECONDS,
  PaymentMode,
  cartTotal,
  chargelessPurchaseKey,
  checkoutOrderNo,
  editRefusal,
  seatGivenUp,
  seatGivenUpTwice,
} from './model.ts';
import { cartMoved, noAccount, unexplained } from './refusals.ts';
import type { CartWrite } from './store.ts';

export interface CheckoutDeps extends CartDeps {
  readonly payments: PaymentRepository;
  /**
   * Starts card payments: the checkout route and the schedule have it; the payment saga's own
   * last step does not (its payment exists, and a state machine cannot start itself).
   */
  readonly paymentCreation?: CreatePaymentDeps;
  /** Pays a difference back to the card that paid it: the checkout route and the schedule have it. */
  readonly refundCreation?: CreateRefundDeps;
}

/** A cart whose checkout is under way or paid: a repeat of that checkout answers with it. */
const CHECKED_OUT: ReadonlySet<CartStatus> = new Set([CartStatus.Checking, CartStatus.Applied, CartStatus.Done]);

export interface CheckoutRequest {
  readonly mode: PaymentMode;
  readonly paymentMethod?: string;
  readonly points: number;
}

/**
 * Locks the cart and spends the points in one transaction, then sets the card part going
 * through the payment saga (order_no = cart id and attempt). A cart paid wholly in points is
 * paid and fulfilled at once; a pay-in-store cart waits for the merchant to confirm. A repeat
 * of the checkout under way answers with the cart.
 */
export async function checkout(deps: CheckoutDeps, merchantId: string, cartId: string, request: CheckoutRequest): Promise<Cart> {
  const cart = await cartOf(deps, merchantId, cartId);
  if (CHECKED_OUT.has(cart.status) && cart.checkout !== undefined && sameTerms(cart.checkout, request)) {
    // A repeat, perhaps of a checkout that died between the lock and what follows it: a cart
    // nothing is left to pay for is applied, a card payment created and started if it was
    // not (a no-op if it was); a cart already paid answers as it is.
    if (cart.status !== CartStatus.Checking) return cart;
    if (cart.checkout.cardAmount === 0) return apply(deps, cart, chargelessKeyOf(cart, cart.checkout));
    if (cart.checkout.paymentNo !== undefined) await startCardPayment(deps, cart, cart.checkout);
    return cart;
  }
  assertEditable(cart);
  if (cart.items.length === 0) throw new CartEmptyError('cart_id', `cart ${cartId} has no items`);
  const twice = seatGivenUpTwice(cart.items);
  if (twice !== undefined) {
    // Lines that raced past addItem's check: the lock below is on this very version of the cart.
    throw new AlreadyRegisteredError(
      'cart_id',
      `cart ${cartId} gives up swimmer ${twice.swimmerId}'s seat in class ${seatGivenUp(twice)} twice: remove item ${twice.itemId}`,
    );
  }
  const total = cartTotal(cart);
  const { pointValue } = await deps.settingsOf(merchantId);
  if (request.points * pointValue > Math.max(total, 0)) {
    throw new ValidationError('points', `${request.points} points are worth more than the ${Math.max(total, 0)} left to pay`);
  }
  const cardAmount = Math.max(total, 0) - request.points * pointValue;
  if (request.mode === PaymentMode.PayNow && cardAmount > 0 && request.paymentMethod === undefined) {
    throw new ValidationError('payment_method', `a pay_now checkout with ${cardAmount} left to pay needs a payment_method`);
  }
  if (request.mode === PaymentMode.PayNow && cardAmount > 0 && cart.currency !== undefined && cardAmount < minimumCharge(cart.currency)) {
    // The provider would refuse the charge: refused here, before the points are spent and the cart locked.
    throw new ValidationError(
      request.points > 0 ? 'points' : 'payment_mode',
      `the card part, ${cardAmount} ${cart.currency}, is under the smallest charge the card network takes ` +
        `(${minimumCharge(cart.currency)}): spend ${request.points > 0 ? 'fewer points, or enough to pay it all' : 'points, or pay in the shop'}`,
    );
  }
  const now = deps.clock();
  const attempt = cart.attempt + 1;
  const byCard = request.mode === PaymentMode.PayNow && cardAmount > 0;
  const terms: CheckoutTerms = {
    mode: request.mode,
    ...(request.paymentMethod !== undefined && { paymentMethod: request.paymentMethod }),
    points: request.points,
    pointValue,
    total,
    cardAmount,
    ...(byCard && { paymentNo: paymentNoFor(merchantId, checkoutOrderNo(cartId, attempt)) }),
    deadline: later(now, PAYMENT_WINDOW_SECONDS[request.mode]),
    startedAt: now.toISOString(),
  };
  const locked = nextVersion(deps, cart, { status: CartStatus.Checking, attempt, checkout: terms });
  await lockForCheckout(deps, write(cart, locked, checkingDueAt(deps, terms)), request.points);
  if (cardAmount === 0) return apply(deps, locked, chargelessKeyOf(locked, terms));
  if (byCard) await startCardPayment(deps, locked, terms);
  return locked;
}

/** `pending -> checking` and the points spent, in one commit, if the balance covers them. */
async function lockForCheckout(deps: CheckoutDeps, locking: CartWrite, points: number): Promise<void> {
  const { merchantId, accountId, cartId } = locking.cart;
  const what = `checkout of cart ${cartId}`;
  const refused = await commit(deps, what, {
    cart: { kind: 'updateCart', write: locking },
    account: points > 0 ? { kind: 'points', merchantId, accountId, change: 'spend', points } : undefined,
  });
  if (!refused) return;
  if (refused.cart) {
    const current = refused.cart.current;
    throw (current && editRefusal(cartId, current.status)) ?? cartMoved(locking, current);
  }
  if (refused.account) {
    const account = refused.account.current;
    if (!account) throw noAccount(accountId);
    throw new InsufficientPointsError('points', `account ${accountId} has ${account.pointsBalance} points, not ${points}`);
  }
  throw unexplained(what, refused);
}

/**
 * The customer gives up before paying: an editable cart, or one checked out to pay in the
 * shop (its points are given back first); a card checkout under way can no longer be.
 */
export async function giveUpCart(deps: CheckoutDeps, merchantId: string, cartId: string): Promise<Cart> {
  const cart = await cartOf(deps, merchantId, cartId);
  if (cart.status === CartStatus.Checking && cart.checkout?.mode === PaymentMode.PayInStore) {
    await reopen(deps, cart, 'canceled');
  }
  return cancelCart(deps, merchantId, cartId);
}

/** The merchant took the in-store payment of a pay-in-store cart: it is paid and fulfilled. */
export async function confirmInStore(deps: CheckoutDeps, merchantId: string, cartId: string): Promise<Cart> {
  const cart = await cartOf(deps, merchantId, cartId);
  const key = chargelessPurchaseKey('in_store', cartId, cart.attempt);
  if ((cart.status === CartStatus.Applied || cart.status === CartStatus.Done) && cart.purchaseKey === key) {
    return fulfil(deps, cart);
  }
  if (cart.status !== CartStatus.Checking || cart.checkout?.mode !== PaymentMode.PayInStore) {
    throw new CartLockedError('cart_id', `cart ${cartId} is ${cart.status}, not waiting for an in-store payment`);
  }
  return apply(deps, cart, key);
}

/**
 * Moves a checking cart on from what its payment became: succeeded -> applied and fulfilled;
 * declined or closed -> points returned and `pending` again; unpaid past its deadline -> the
 * payment closed (if it never got an authorization) and the same. Run by the payment saga's
 * last step and by the schedule, each step safe to repeat.
 */
export async function settleCheckout(deps: CheckoutDeps, cart: Cart): Promise<Cart> {
  if (cart.status === CartStatus.Applied) return fulfil(deps, cart);
  if (cart.status !== CartStatus.Checking || cart.checkout === undefined) return cart;
  const terms = cart.checkout;
  const now = deps.clock();
  const pastDeadline = now.getTime() >= Date.parse(terms.deadline);
  // Locked with nothing left to pay, never applied (a crash in between): applied now.
  if (terms.cardAmount === 0) return apply(deps, cart, chargelessKeyOf(cart, terms));
  if (terms.paymentNo === undefined) {
    // Paid in store (or awaiting nothing): only the deadline moves it.
    return pastDeadline ? reopen(deps, cart, 'deadline_passed') : cart;
  }
  const payment = await deps.payments.get(terms.paymentNo);
  if (payment === undefined) {
    // The lock was written, the payment never was (a crash in between): write it now, or give up.
    if (pastDeadline) return reopen(deps, cart, 'deadline_passed');
    await startCardPayment(deps, cart, terms);
    return cart;
  }
  if (payment.status === PaymentStatus.Succeeded) {
    if (payment.chargeId === undefined) throw new Error(`payment ${payment.paymentNo} succeeded without a charge id`);
    return apply(deps, cart, payment.chargeId);
  }
  if (payment.status === PaymentStatus.Failed || payment.status === PaymentStatus.Canceled) {
    return reopen(deps, cart, payment.declineCode ?? payment.status);
  }
  // Pending past the deadline: closed here, so its saga voids whatever it authorized meanwhile.
  // Authorized: minutes from captured or voided by its saga or the reconciler; settled then.
  if (pastDeadline && payment.status === PaymentStatus.Pending && (await closePayment(deps, payment))) {
    return reopen(deps, cart, 'deadline_passed');
  }
  return cart;
}

/** `checking -> applied` with the purchase keyed by `purchaseKey`, then the registrations. */
async function apply(deps: CheckoutDeps, cart: Cart, purchaseKey: string): Promise<Cart> {
  const applied = nextVersion(deps, cart, { status: CartStatus.Applied, purchaseKey });
  const applying = write(cart, applied, later(deps.clock(), deps.reconcileAfterSeconds));
  const purchase = purchaseOf(applied);
  const refused = await commit(deps, `purchase ${purchaseKey}`, {
    cart: { kind: 'updateCart', write: applying },
    purchase: { kind: 'putPurchase', purchase },
  });
  if (!refused) return fulfil(deps, applied);
  // A repeat: the same purchase applied the cart before, and the cart has moved on from `from`.
  const stored = await deps.store.getCart(cart.merchantId, cart.cartId);
  const paid = stored?.status === CartStatus.Applied || stored?.status === CartStatus.Done;
  if (stored && paid && stored.purchaseKey === purchaseKey) return fulfil(deps, stored);
  if (refused.cart) throw cartMoved(applying, refused.cart.current);
  throw new ConcurrentModificationError(
    `purchase ${purchaseKey} exists already but cart ${cart.cartId} is ${stored?.status ?? 'missing'} ` +
      `with purchase ${stored?.purchaseKey ?? 'none'}`,
  );
}

/** `checking -> pending`: the points back, the holds kept for another try until the cart expires. */
async function reopen(deps: CheckoutDeps, cart: Cart, failure: string): Promise<Cart> {
  const { checkout: terms, ...rest } = cart;
  const reopened = nextVersion(deps, rest, { status: CartStatus.Pending, lastFailure: failure });
  const reopening = write(cart, reopened, reopened.holdsExpireAt ?? later(deps.clock(), 0));
  const points = terms?.points ?? 0;
  const { merchantId, accountId, cartId } = cart;
  const what = `reopening of cart ${cartId}`;
  const refused = await commit(deps, what, {
    cart: { kind: 'updateCart', write: reopening },
    account: points > 0 ? { kind: 'points', merchantId, accountId, change: 'return', points } : undefined,
  });
  if (!refused) return reopened;
  if (refused.cart) throw cartMoved(reopening, refused.cart.current);
  if (refused.account) throw noAccount(accountId);
  throw unexplained(what, refused);
}

async function startCardPayment(deps: CheckoutDeps, cart: Cart, terms: CheckoutTerms): Promise<void> {
  if (cart.currency === undefined || terms.paymentMethod === undefined || deps.paymentCreation === undefined) {
    throw new Error(`cart ${cart.cartId}: no currency, payment method, or means to start its payment`);
  }
  await createPayment(deps.paymentCreation, cart.merchantId, {
    orderNo: checkoutOrderNo(cart.cartId, cart.attempt),
    amount: terms.cardAmount,
    currency: cart.currency,
    paymentMethod: terms.paymentMethod,
    description: `cart ${cart.cartId}`,
    metadata: { [CART_METADATA_KEY]: cart.cartId },
  });
}

/** `pending -> canceled` unless the saga moved it first; true when it is closed now. */
async function closePayment(deps: CheckoutDeps, payment: Payment): Promise<boolean> {
  try {
    await deps.payments.replace(
      payment,
      touch(deps, payment, { status: PaymentStatus.Canceled, declineCode: 'deadline_passed' }),
    );
    return true;
  } catch (error) {
    if (error instanceof StaleWriteError) return false;
    throw error;
  }
}

/** The purchase of a checkout no card pays: paid in points, or a credit the cart gives back. */
function chargelessKeyOf(cart: Cart, terms: CheckoutTerms): string {
  return chargelessPurchaseKey(terms.total < 0 ? 'credit' : 'points', cart.cartId, cart.attempt);
}

function sameTerms(terms: CheckoutTerms, request: CheckoutRequest): boolean {
  return terms.mode === request.mode && terms.points === request.points && terms.paymentMethod === request.paymentMethod;
}

/**
 * A checking cart paying by card is looked at when its saga should long be over, and at its
 * deadline at the latest; one with nothing left to pay as soon, in case it died before it was
 * applied; one waiting for the shop only at its deadline: nothing but the deadline, or the
 * shop's confirmation, moves it.
 */
function checkingDueAt(deps: CartDeps, terms: CheckoutTerms): string {
  if (terms.paymentNo === undefined && terms.cardAmount > 0) return terms.deadline;
  const soon = later(new Date(terms.startedAt), deps.reconcileAfterSeconds);
  return soon < terms.deadline ? soon : terms.deadline;
}

/**
 * The payment saga's last step for a cart's payment: settles the cart from the payment's
 * outcome. The schedule settles it too, should this step never run. The cart id comes from
 * the payment's metadata, which its merchant wrote: only a cart of the payment's merchant is
 * looked at, so naming another merchant's cart reaches nothing.
 */
export async function settleCartOfPayment(deps: CheckoutDeps, paymentNo: string, cartId: string): Promise<void> {
  const payment = await deps.payments.get(paymentNo);
  if (payment === undefined) return;
  const cart = await deps.store.getCart(payment.merchantId, cartId);
  // A cart checking out again since (this payment declined) is its new payment's to settle: a
  // duplicate execution of this one's saga may get here before that payment is even written.
  if (cart === undefined || FINISHED.has(cart.status) || cart.checkout?.paymentNo !== paymentNo) return;
  await settleCheckout(deps, cart);
}
