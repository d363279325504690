import type { Currency } from '../money.ts';
import type { Account, Cart, CartItem, CartStatus, Purchase, SeatHold, Student, SwimClass, Swimmer } from './model.ts';

/** A points grant or purchase, recorded once by its grant_no (derived from its key). */
export interface PointsGrant {
  readonly grantNo: string;
  readonly accountId: string;
  readonly amount: number;
  readonly reason: string;
  readonly createdAt: string;
}

/** Either the thing just written, or the one already stored under its id. */
export type Created<T> = { readonly created: boolean; readonly value: T };

/**
 * A cart's status change: the cart as it is to be stored (every field but `items`, which
 * only the item methods write), conditional on the status and version the caller read, so a
 * transition never acts on a cart edited since. `dueAt`: when the schedule should look at
 * the cart next; absent once the cart is finished, which takes it out of the index.
 */
export interface CartWrite {
  readonly cart: Cart;
  readonly from: { readonly status: CartStatus; readonly version: number };
  readonly dueAt?: string;
}

/**
 * An edit of an editable (`active` or `pending`) cart's items. Edits are conditional on the
 * cart being editable, not on its version, so two edits of one cart never refuse each other;
 * each bumps the version, so a transition computed before it is refused.
 */
export interface CartEdit {
  readonly merchantId: string;
  readonly cartId: string;
  readonly now: string;
  /** A seat-holding edit: the holds lapse then, unless the cart's first hold already set it. */
  readonly holdsExpireAt?: string;
  /** The cart's currency; refused with currency_mismatch if the cart has another. */
  readonly currency?: Currency;
}

/**
 * Where classes, accounts and carts live. Every method that touches more than one item is one
 * transaction with a condition on each, and a refused transaction is reported as the precise
 * domain error its cancellation reasons name (sold out, already registered, cart locked...).
 * Cart writes are conditional on the status the caller read (`from`), never blind.
 */
export interface SchoolStore {
  createClass(swimClass: SwimClass): Promise<Created<SwimClass>>;
  getClass(merchantId: string, classId: string): Promise<SwimClass | undefined>;
  /** The hold and student items of a class, counted: what its counters must agree with. */
  countSeats(merchantId: string, classId: string): Promise<{ held: number; students: number }>;
  getStudent(merchantId: string, classId: string, accountId: string, swimmerId: string): Promise<Student | undefined>;

  createAccount(account: Account): Promise<Created<Account>>;
  getAccount(merchantId: string, accountId: string): Promise<Account | undefined>;
  /** Refused with not_found when the account does not exist. */
  addSwimmer(merchantId: string, swimmer: Swimmer): Promise<Created<Swimmer>>;
  listSwimmers(merchantId: string, accountId: string): Promise<Swimmer[]>;
  /** The grant and the balance in one transaction; a grant_no already used returns the first grant. */
  grantPoints(merchantId: string, grant: PointsGrant): Promise<Created<PointsGrant>>;
  listPurchases(merchantId: string, accountId: string): Promise<Purchase[]>;

  /** The cart and the account's `activeCartId` together; when the account has one, that cart instead. */
  openCart(write: CartWrite): Promise<Created<Cart>>;
  getCart(cartId: string): Promise<Cart | undefined>;
  /**
   * register / change, in one transaction: the item added (the cart `pending`), a seat of
   * `item.classId` from remaining to held, the hold written; provided the swimmer exists, is
   * not already the class's student, (change) is a student of `item.fromClassId`, and the
   * item is not in the cart yet. `holdDueAt`: when the schedule checks the hold's cart ended.
   */
  holdSeat(edit: CartEdit, accountId: string, item: CartItem, holdDueAt: string): Promise<void>;
  /** cancel: the item added, provided the swimmer is still the class's student. */
  addCancel(edit: CartEdit, accountId: string, item: CartItem): Promise<void>;
  /**
   * The item removed, and if it holds a seat the hold deleted and the seat back to remaining,
   * in one transaction; refused with not_found when the item is not in the cart.
   */
  releaseItem(edit: CartEdit, item: CartItem): Promise<void>;
  /** A hold's seat back to remaining; false when the hold was already gone (released once only). */
  releaseHold(hold: Pick<SeatHold, 'classId' | 'cartId' | 'swimmerId'>, merchantId: string): Promise<boolean>;

  /** A status change (and other fields) of the cart alone. */
  moveCart(write: CartWrite): Promise<void>;
  /** `pending -> checking` and the points debit, if the balance covers them. */
  lockForCheckout(write: CartWrite, points: number): Promise<void>;
  /** `checking -> pending` and the points given back. */
  reopen(write: CartWrite, points: number): Promise<void>;
  /** `checking -> applied` and the purchase, unless a purchase of that key exists already. */
  applyPurchase(write: CartWrite, purchase: Purchase): Promise<void>;
  /**
   * One item of an `applied` cart registered, in one transaction, and marked fulfilled:
   * register: hold gone, seat held -> student, student written, class added to the swimmer;
   * change: the same in `classId`, and in `fromClassId` the student gone and the seat back to
   * remaining (the -1/+1 at once); cancel: student gone, seat back, class off the swimmer.
   * A no-op for an item already fulfilled.
   */
  fulfilItem(cart: Cart, item: CartItem, purchase: Purchase, now: string): Promise<void>;
  /**
   * The cart finished (done, expired, canceled) and the account free to open another, and
   * `pointsCredit` points added to its balance (and to its returned total) in the same transaction.
   */
  finishCart(write: CartWrite, pointsCredit: number): Promise<void>;

  /** Unfinished carts whose due time has passed, oldest first, at most `limit`. */
  listDueCarts(now: Date, limit: number): Promise<Cart[]>;
  /** Holds whose due time has passed (their cart should have ended by then), at most `limit`. */
  listDueHolds(now: Date, limit: number): Promise<(SeatHold & { merchantId: string })[]>;
  /** Puts a hold's next look later: its cart is still alive. */
  postponeHold(hold: SeatHold & { merchantId: string }, dueAt: string): Promise<void>;
}
