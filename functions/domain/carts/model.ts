import { createHash, randomBytes } from 'node:crypto';
import { CartClosedError, CartLockedError, type ChargeonceError } from '../errors.ts';
import type { Currency } from '../money.ts';

/**
 * What the school sells and to whom: classes with a fixed number of seats, accounts with
 * loyalty points and swimmers, and carts that hold seats until they are paid for.
 *
 * A class's seats are in exactly one of three places at every instant:
 * `seatsRemain + seatsHeld + students = seatsTotal`. Every change that moves a seat moves it
 * between two of those places in one transaction.
 */
export interface SwimClass {
  readonly merchantId: string;
  readonly classId: string;
  readonly name: string;
  readonly seatsTotal: number;
  readonly seatsRemain: number;
  readonly seatsHeld: number;
  readonly students: number;
  /** Per seat, in minor units of `currency`. */
  readonly price: number;
  readonly currency: Currency;
  readonly createdAt: string;
}

/** A seat a cart holds for one swimmer while the customer decides. */
export interface SeatHold {
  readonly classId: string;
  readonly cartId: string;
  readonly accountId: string;
  readonly swimmerId: string;
  readonly itemId: string;
  readonly heldAt: string;
}

/** A swimmer in a class: what was paid for the seat, so that giving it up can pay it back. */
export interface Student {
  readonly classId: string;
  readonly accountId: string;
  readonly swimmerId: string;
  /** What the seat cost, in minor units, and the purchase that paid it. */
  readonly paid: number;
  readonly purchaseKey: string;
  readonly enrolledAt: string;
}

/**
 * Points: `pointsGranted = pointsBalance + pointsSpent - pointsReturned` at every instant, the
 * balance never negative. Every change of the balance changes one of the totals with it.
 */
export interface Account {
  readonly merchantId: string;
  readonly accountId: string;
  readonly email?: string;
  readonly pointsBalance: number;
  readonly pointsGranted: number;
  readonly pointsSpent: number;
  readonly pointsReturned: number;
  /** The account's one unfinished cart. */
  readonly activeCartId?: string;
  readonly createdAt: string;
}

export interface Swimmer {
  readonly accountId: string;
  readonly swimmerId: string;
  readonly name: string;
  /** The classes the swimmer is a student of. */
  readonly classIds: readonly string[];
  readonly createdAt: string;
}

/**
 * A cart's life. `active -> pending` (first seat held) `-> checking` (checkout started; locked)
 * `-> applied` (paid; purchase recorded; registrations being written) `-> done`. Or
 * `expiring -> expired` (abandoned: the schedule releases the holds), or `canceling -> canceled`
 * (the customer gave up). The `-ing` states mark work half-done that the schedule finishes.
 */
export const CartStatus = {
  Active: 'active',
  Pending: 'pending',
  Checking: 'checking',
  Applied: 'applied',
  Done: 'done',
  Expiring: 'expiring',
  Expired: 'expired',
  Canceling: 'canceling',
  Canceled: 'canceled',
} as const;
export type CartStatus = (typeof CartStatus)[keyof typeof CartStatus];

/** Statuses in which a cart can still be edited. */
export const EDITABLE: ReadonlySet<CartStatus> = new Set([CartStatus.Active, CartStatus.Pending]);
/** Statuses a cart ends in; its account may then open another. */
export const FINISHED: ReadonlySet<CartStatus> = new Set([CartStatus.Done, CartStatus.Expired, CartStatus.Canceled]);

/**
 * Why a cart in `status` refuses an edit: locked while it checks out or is paid, closed once it
 * ends or is ending; undefined when it is editable.
 */
export function editRefusal(cartId: string, status: CartStatus): ChargeonceError | undefined {
  if (EDITABLE.has(status)) return undefined;
  if (status === CartStatus.Checking || status === CartStatus.Applied) {
    return new CartLockedError('cart_id', `cart ${cartId} is ${status}: it can no longer be edited`);
  }
  return new CartClosedError('cart_id', `cart ${cartId} is ${status}: it ${FINISHED.has(status) ? 'has ended' : 'is ending'}`);
}

export const CartItemAction = {
  /** Hold a seat for a swimmer; at checkout it becomes a registration. */
  Register: 'register',
  /** Give up a registered seat: at checkout the seat is returned and its price paid back. */
  Cancel: 'cancel',
  /** Move a swimmer from one class to another: a seat held in the new one, the old one given back at checkout. */
  Change: 'change',
} as const;
export type CartItemAction = (typeof CartItemAction)[keyof typeof CartItemAction];

export interface CartItem {
  readonly itemId: string;
  readonly action: CartItemAction;
  readonly swimmerId: string;
  /** The class a seat is held in (register, change) or given up (cancel). */
  readonly classId: string;
  /** change: the class the swimmer leaves. */
  readonly fromClassId?: string;
  /**
   * What the item adds to the cart's total, in minor units: a register its class's price; a
   * cancel minus what the seat was paid; a change the new class's price minus what the old
   * seat was paid.
   */
  readonly amount: number;
  /** register, change: what the held seat is worth (its class's price), recorded as paid once it is a student's. */
  readonly seatPrice?: number;
  /** cancel, change: the purchase that paid the seat given up; a difference is paid back through it first. */
  readonly paidBy?: string;
  /** A register or change holds a seat from this time. */
  readonly heldAt?: string;
  /** Fulfilment wrote this item's registration. */
  readonly fulfilled?: boolean;
}

export const PaymentMode = { PayNow: 'pay_now', PayInStore: 'pay_in_store' } as const;
export type PaymentMode = (typeof PaymentMode)[keyof typeof PaymentMode];

/** How a checkout is paid: points first (their value), the rest by card or in store. */
export interface CheckoutTerms {
  readonly mode: PaymentMode;
  readonly paymentMethod?: string;
  readonly points: number;
  /** Minor units one point is worth. */
  readonly pointValue: number;
  /** The cart's total at checkout. */
  readonly total: number;
  /** Paid by card (pay_now) or in store (pay_in_store): `total - points * pointValue`. */
  readonly cardAmount: number;
  /** The payment, when a card pays part: derived from the cart and its attempt. */
  readonly paymentNo?: string;
  /** The cart must be paid by then, or its checkout is undone. */
  readonly deadline: string;
  readonly startedAt: string;
}

export interface Cart {
  readonly merchantId: string;
  readonly cartId: string;
  readonly accountId: string;
  readonly status: CartStatus;
  readonly version: number;
  /** Set with the first item; every class in the cart is priced in it. */
  readonly currency?: Currency;
  readonly items: readonly CartItem[];
  /** Checkouts started so far: a declined one returns the cart to `pending` for another. */
  readonly attempt: number;
  readonly checkout?: CheckoutTerms;
  /** The purchase that paid the cart, once applied: the charge id, or the points/in-store key. */
  readonly purchaseKey?: string;
  /** The holds lapse at this time unless the cart is checking out or paid. */
  readonly holdsExpireAt?: string;
  /** Why the last checkout was undone (a decline code, `deadline_passed`). */
  readonly lastFailure?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a purchase paid for, recorded once per charge. */
export interface Purchase {
  readonly merchantId: string;
  readonly accountId: string;
  /** The charge id at the provider, or `points:<cart>:<attempt>` / `in_store:<cart>:<attempt>`. */
  readonly purchaseKey: string;
  readonly cartId: string;
  readonly attempt: number;
  readonly paymentNo?: string;
  readonly currency: Currency;
  readonly total: number;
  readonly cardAmount: number;
  readonly points: number;
  readonly items: readonly CartItem[];
  readonly createdAt: string;
}

/** The class whose seat a line gives up: a cancel's, or the one a change leaves. */
export function seatGivenUp(item: Pick<CartItem, 'action' | 'classId' | 'fromClassId'>): string | undefined {
  if (item.action === CartItemAction.Cancel) return item.classId;
  if (item.action === CartItemAction.Change) return item.fromClassId;
  return undefined;
}

/**
 * A line of `items` that gives up a seat another line gives up too (a cancel and a change of
 * one class, two changes from it): such a cart cannot be fulfilled, for a seat is given up once.
 */
export function seatGivenUpTwice(items: readonly CartItem[]): CartItem | undefined {
  const seen = new Set<string>();
  for (const item of items) {
    const classId = seatGivenUp(item);
    if (classId === undefined) continue;
    const seat = `${item.swimmerId}\u0000${classId}`;
    if (seen.has(seat)) return item;
    seen.add(seat);
  }
  return undefined;
}

/** The order a cart shows its lines in: as their seats were held (cancels, holding none, first), then by id. */
export function lineOrder(a: CartItem, b: CartItem): number {
  return (a.heldAt ?? '').localeCompare(b.heldAt ?? '') || a.itemId.localeCompare(b.itemId);
}

/** The cart's total: what its items add and take away. Negative when it gives back more than it buys. */
export function cartTotal(cart: Pick<Cart, 'items'>): number {
  return cart.items.reduce((sum, item) => sum + item.amount, 0);
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Client-given ids (class_id, account_id, swimmer_id): letters, digits, `_` and `-`. */
export function isClientId(value: string): boolean {
  return ID.test(value);
}

export function newId(prefix: 'cls' | 'acc' | 'swm' | 'cart'): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** One item per (action, swimmer, class): adding it twice is a repeat, not a second item. */
export function itemIdFor(action: CartItemAction, swimmerId: string, classId: string): string {
  return `itm_${createHash('sha256').update(`${action}\u0000${swimmerId}\u0000${classId}`).digest('hex').slice(0, 16)}`;
}

/**
 * The operator_id of the refunds that pay a cart's difference back to a card: how a refund is
 * known as one (the API refuses it from merchants), so that one that fails comes back as points.
 */
export const PAY_BACK_OPERATOR_ID = 'chargeonce-cart';

/** The key of a payment's metadata that names the cart it pays: how the saga finds the cart to settle. */
export const CART_METADATA_KEY = 'cart_id';

/** The card part's order_no: the cart and its attempt, so each checkout attempt is its own payment. */
export function checkoutOrderNo(cartId: string, attempt: number): string {
  return `${cartId}-${attempt}`;
}

/** The purchase key of a cart paid without a card charge (or, `credit`, one that pays back a difference). */
export function chargelessPurchaseKey(mode: 'points' | 'in_store' | 'credit', cartId: string, attempt: number): string {
  return `${mode}:${cartId}:${attempt}`;
}

/** The deadlines the issue fixes: a card within 15 minutes, a visit to the shop within a day. */
export const PAYMENT_WINDOW_SECONDS: Readonly<Record<PaymentMode, number>> = {
  pay_now: 15 * 60,
  pay_in_store: 24 * 3600,
};
