import { type CreatePaymentDeps, createPayment, paymentNoFor } from '../create-payment.ts';
import { type CreateRefundDeps, createRefund } from '../refund.ts';
import {
  CartEmptyError,
  CartLockedError,
  ConcurrentModificationError,
  NotFoundError,
  PaymentNotCapturedError,
  RefundExceedsCapturedError,
  ValidationError,
} from '../errors.ts';
import { type Payment, PaymentStatus } from '../payment.ts';
import { type PaymentRepository, StaleWriteError } from '../ports.ts';
import { touch } from '../saga.ts';
import { type CartDeps, assertEditable, cancelCart, cartOf, finish, later, nextVersion, write } from './cart.ts';
import {
  CART_METADATA_KEY,
  type Cart,
  CartStatus,
  type CheckoutTerms,
  FINISHED,
  PAYMENT_WINDOW_SECONDS,
  PaymentMode,
  type Purchase,
  cartTotal,
  chargelessPurchaseKey,
  checkoutOrderNo,
} from './model.ts';

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
    // A repeat, perhaps of a checkout that died between the lock and its payment: that
    // payment is created and started if it was not (a no-op if it was); a cart it already
    // paid answers as it is.
    if (cart.status === CartStatus.Checking && cart.checkout.paymentNo !== undefined) {
      await startCardPayment(deps, cart, cart.checkout);
    }
    return cart;
  }
  assertEditable(cart);
  if (cart.items.length === 0) throw new CartEmptyError('cart_id', `cart ${cartId} has no items`);
  const total = cartTotal(cart);
  const { pointValue } = await deps.settingsOf(merchantId);
  if (request.points * pointValue > Math.max(total, 0)) {
    throw new ValidationError('points', `${request.points} points are worth more than the ${Math.max(total, 0)} left to pay`);
  }
  const cardAmount = Math.max(total, 0) - request.points * pointValue;
  if (request.mode === PaymentMode.PayNow && cardAmount > 0 && request.paymentMethod === undefined) {
    throw new ValidationError('payment_method', `a pay_now checkout with ${cardAmount} left to pay needs a payment_method`);
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
  await deps.store.lockForCheckout(write(cart, locked, checkingDueAt(deps, terms)), request.points);
  if (cardAmount === 0) return apply(deps, locked, chargelessPurchaseKey(total < 0 ? 'credit' : 'points', cartId, attempt));
  if (byCard) await startCardPayment(deps, locked, terms);
  return locked;
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
  await deps.store.applyPurchase(write(cart, applied, later(deps.clock(), deps.reconcileAfterSeconds)), purchaseOf(applied));
  return fulfil(deps, applied);
}

/**
 * Writes each item's registration (each once), pays back what the cart gives back beyond
 * what it buys, then `applied -> done`.
 */
export async function fulfil(deps: CheckoutDeps, cart: Cart): Promise<Cart> {
  if (cart.status === CartStatus.Done) return cart;
  const purchase = purchaseOf(cart);
  const now = deps.clock().toISOString();
  for (const item of cart.items) await deps.store.fulfilItem(cart, item, purchase, now);
  const pointsCredit = purchase.total < 0 ? await payBack(deps, cart, -purchase.total) : 0;
  try {
    return await finish(deps, cart, CartStatus.Done, pointsCredit);
  } catch (error) {
    // Another settler (the saga's last step and the schedule may meet) finished it first.
    if (!(error instanceof ConcurrentModificationError)) throw error;
    const current = await deps.store.getCart(cart.cartId);
    if (current?.status === CartStatus.Done) return current;
    throw error;
  }
}

/**
 * Pays `difference` back, card first: each given-up seat's share goes to the card of the
 * purchase that paid it, as far as that purchase was paid by card, through the refund
 * machinery (one refund per item, its key derived from the cart, so a repeat makes none);
 * the rest, and any share the card refused, comes back as points. Returns those points,
 * which the cart's last write credits (rounded up, in the customer's favour).
 */
async function payBack(deps: CheckoutDeps, cart: Cart, difference: number): Promise<number> {
  const purchases = await deps.store.listPurchases(cart.merchantId, cart.accountId);
  const cardLeft = new Map(purchases.map((p) => [p.purchaseKey, p.paymentNo === undefined ? 0 : p.cardAmount]));
  let remaining = difference;
  let inPoints = 0;
  for (const item of cart.items) {
    if (remaining === 0) break;
    if (item.amount >= 0) continue;
    const share = Math.min(remaining, -item.amount);
    remaining -= share;
    const source = purchases.find((p) => p.purchaseKey === item.paidBy);
    const byCard = Math.min(share, cardLeft.get(item.paidBy ?? '') ?? 0);
    if (source?.paymentNo !== undefined && byCard > 0 && (await refundToCard(deps, cart, item.itemId, source.paymentNo, byCard))) {
      cardLeft.set(source.purchaseKey, (cardLeft.get(source.purchaseKey) ?? 0) - byCard);
      inPoints += share - byCard;
    } else {
      inPoints += share;
    }
  }
  return Math.ceil(inPoints / (cart.checkout?.pointValue ?? 1));
}

/** False when the payment can no longer take the refund (refunded meanwhile, or never captured): points instead. */
async function refundToCard(deps: CheckoutDeps, cart: Cart, itemId: string, paymentNo: string, amount: number): Promise<boolean> {
  if (deps.refundCreation === undefined) throw new Error(`cart ${cart.cartId}: no means to refund its difference`);
  try {
    await createRefund(deps.refundCreation, cart.merchantId, `cart:${cart.cartId}:${cart.attempt}:${itemId}`, {
      paymentNo,
      amount,
      operatorId: 'chargeonce-cart',
      reason: `cart ${cart.cartId} gave up a seat`,
    });
    return true;
  } catch (error) {
    if (error instanceof RefundExceedsCapturedError || error instanceof PaymentNotCapturedError) return false;
    throw error;
  }
}

/** `checking -> pending`: the points back, the holds kept for another try until the cart expires. */
async function reopen(deps: CheckoutDeps, cart: Cart, failure: string): Promise<Cart> {
  const { checkout: terms, ...rest } = cart;
  const reopened = nextVersion(deps, rest, { status: CartStatus.Pending, lastFailure: failure });
  await deps.store.reopen(write(cart, reopened, reopened.holdsExpireAt ?? later(deps.clock(), 0)), terms?.points ?? 0);
  return reopened;
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

function purchaseOf(cart: Cart): Purchase {
  const terms = cart.checkout;
  if (terms === undefined || cart.purchaseKey === undefined || cart.currency === undefined) {
    throw new NotFoundError(`cart ${cart.cartId} has no purchase`);
  }
  return {
    merchantId: cart.merchantId,
    accountId: cart.accountId,
    purchaseKey: cart.purchaseKey,
    cartId: cart.cartId,
    attempt: cart.attempt,
    ...(terms.paymentNo !== undefined && { paymentNo: terms.paymentNo }),
    currency: cart.currency,
    total: terms.total,
    cardAmount: terms.cardAmount,
    points: terms.points,
    items: cart.items,
    createdAt: cart.updatedAt,
  };
}

function sameTerms(terms: CheckoutTerms, request: CheckoutRequest): boolean {
  return terms.mode === request.mode && terms.points === request.points && terms.paymentMethod === request.paymentMethod;
}

/** A checking cart is looked at when its saga should long be over, and at its deadline at the latest. */
function checkingDueAt(deps: CartDeps, terms: CheckoutTerms): string {
  const soon = later(new Date(terms.startedAt), deps.reconcileAfterSeconds);
  return soon < terms.deadline ? soon : terms.deadline;
}

/**
 * The payment saga's last step for a cart's payment: settles the cart from the payment's
 * outcome. The schedule settles it too, should this step never run.
 */
export async function settleCartOfPayment(deps: CheckoutDeps, cartId: string): Promise<void> {
  const cart = await deps.store.getCart(cartId);
  if (cart !== undefined && !FINISHED.has(cart.status)) await settleCheckout(deps, cart);
}
