import type { ListPage, ListQuery } from '../lists.ts';
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
 * A cart's status change: the cart as it is to be stored (every field but `items`, `currency`
 * and its identity, which only the line writes and the cart's creation set), conditional on
 * the status and version the caller read, so a transition never acts on a cart edited since.
 * `dueAt`: when the schedule should look at the cart next; absent once the cart is finished,
 * which takes it out of the index.
 */
export interface CartWrite {
  readonly cart: Cart;
  readonly from: { readonly status: CartStatus; readonly version: number };
  readonly dueAt?: string;
}

/**
 * An edit of an editable (`active` or `pending`) cart's lines. Edits are conditional on the
 * cart being editable, not on its version, so two edits of one cart never refuse each other;
 * each bumps the version, so a transition computed before it is refused.
 */
export interface CartEdit {
  readonly merchantId: string;
  readonly cartId: string;
  readonly now: string;
  /** A seat-holding edit: the holds lapse then, unless the cart's first hold already set it. */
  readonly holdsExpireAt?: string;
  /** The cart's currency: the edit is refused if the cart has another. */
  readonly currency?: Currency;
}

/** Where a class's seats are: a move takes one from a place and gives it to another. */
export type SeatPlace = 'seatsRemain' | 'seatsHeld' | 'students';

type HoldKey = { readonly merchantId: string; readonly classId: string; readonly cartId: string; readonly swimmerId: string };
type StudentKey = { readonly merchantId: string; readonly classId: string; readonly accountId: string; readonly swimmerId: string };
type AccountKey = { readonly merchantId: string; readonly accountId: string };
type SwimmerKey = AccountKey & { readonly swimmerId: string };

/**
 * Every write the school makes, one item each, by kind: its precondition, then its effect.
 * A commit's writes happen together or not at all (see {@link SchoolStore.commit}).
 */
interface SchoolWrites {
  /** Absent. Stored as given. */
  putClass: { readonly swimClass: SwimClass };
  /** The class exists and `from` holds at least one seat. One seat from `from` to `to`. */
  moveSeat: { readonly merchantId: string; readonly classId: string; readonly from: SeatPlace; readonly to: SeatPlace };
  /** Absent. Stored, due to the schedule at `dueAt`. */
  putHold: { readonly merchantId: string; readonly hold: SeatHold; readonly dueAt: string };
  /** Exists. Deleted (and off the schedule). */
  deleteHold: HoldKey;
  /** Exists. Due to the schedule at `dueAt` instead. */
  postponeHold: HoldKey & { readonly dueAt: string };
  /** Absent. Stored. */
  putStudent: { readonly merchantId: string; readonly student: Student };
  /** Exists. Deleted. */
  deleteStudent: StudentKey;
  /** Exists when `present`, absent otherwise. Nothing written. */
  requireStudent: StudentKey & { readonly present: boolean };
  /** Absent. Stored as given. */
  putAccount: { readonly account: Account };
  /** Exists. Nothing written. */
  requireAccount: AccountKey;
  /**
   * `grant` and `return`: the account exists; `spend`: its balance is at least `points`. The
   * balance moves by `points`, and with it the total of that kind (granted, spent, returned).
   */
  points: AccountKey & { readonly change: 'grant' | 'spend' | 'return'; readonly points: number };
  /** The account exists and names no active cart. It names `cartId`. */
  openAccountCart: AccountKey & { readonly cartId: string };
  /** The account names `cartId` as its active cart. It names none, and `returnPoints` are returned to it. */
  closeAccountCart: AccountKey & { readonly cartId: string; readonly returnPoints: number };
  /** Absent. Stored as given. */
  putSwimmer: { readonly merchantId: string; readonly swimmer: Swimmer };
  /** Exists. Nothing written. */
  requireSwimmer: SwimmerKey;
  /** The swimmer exists. `classId` among its classes. */
  addSwimmerClass: SwimmerKey & { readonly classId: string };
  /** The swimmer exists. `classId` no longer among its classes. */
  removeSwimmerClass: SwimmerKey & { readonly classId: string };
  /** The swimmer exists and its classes are the set `read` (in any order). Its classes are `classIds`. */
  replaceSwimmerClasses: SwimmerKey & { readonly read: readonly string[]; readonly classIds: readonly string[] };
  /** Absent. Stored. */
  putGrant: { readonly merchantId: string; readonly grant: PointsGrant };
  /** Absent. Stored. */
  putPurchase: { readonly purchase: Purchase };
  /** Absent. Stored as given, due to the schedule at `dueAt` when given. */
  putCart: { readonly cart: Cart; readonly dueAt?: string };
  /**
   * The cart exists, is the edit's merchant's, is editable, has no line `item.itemId`, and has
   * no currency or the edit's. The line added; the cart `pending`, its version up one,
   * `updatedAt` the edit's; the edit's currency set if the cart had none; with
   * `holdsExpireAt`, the cart's set if it had none, and the cart due when its holds expire.
   */
  addLine: { readonly edit: CartEdit; readonly item: CartItem };
  /** The cart exists, is `merchantId`'s, is editable, and has line `itemId`. The line gone, the version up one, `updatedAt` = `now`. */
  removeLine: { readonly merchantId: string; readonly cartId: string; readonly itemId: string; readonly now: string };
  /**
   * The cart is `applied` and has line `itemId`, not yet fulfilled. The line marked
   * fulfilled, `updatedAt` = `now`; the version is left alone, so the settlers' transitions
   * computed before still apply.
   */
  markFulfilled: { readonly cartId: string; readonly itemId: string; readonly now: string };
  /** The cart is at `write.from` (status and version). Its header is `write.cart`'s, due at `write.dueAt` or off the schedule. */
  updateCart: { readonly write: CartWrite };
}

/** The item each kind of write is about: a refusal reports it as it now is. */
interface WriteSubjects {
  putClass: SwimClass;
  moveSeat: SwimClass;
  putHold: SeatHold;
  deleteHold: SeatHold;
  postponeHold: SeatHold;
  putStudent: Student;
  deleteStudent: Student;
  requireStudent: Student;
  putAccount: Account;
  requireAccount: Account;
  points: Account;
  openAccountCart: Account;
  closeAccountCart: Account;
  putSwimmer: Swimmer;
  requireSwimmer: Swimmer;
  addSwimmerClass: Swimmer;
  removeSwimmerClass: Swimmer;
  replaceSwimmerClasses: Swimmer;
  putGrant: PointsGrant;
  putPurchase: Purchase;
  putCart: Cart;
  addLine: Cart;
  removeLine: Cart;
  markFulfilled: Cart;
  updateCart: Cart;
}

export type SchoolWriteKind = keyof SchoolWrites;
export type SchoolWrite = { [K in SchoolWriteKind]: { readonly kind: K } & SchoolWrites[K] }[SchoolWriteKind];
export type SubjectOf<W extends SchoolWrite> = WriteSubjects[W['kind']];

/** A commit's writes by name; a name left undefined writes nothing. */
export type NamedWrites = Readonly<Record<string, SchoolWrite | undefined>>;

/** Each named write whose precondition failed, with its item as it is now (undefined: absent). */
export type Refusal<W extends NamedWrites> = {
  readonly [K in keyof W]?: { readonly current: SubjectOf<NonNullable<W[K]>> | undefined };
};

export type CommitResult<W extends NamedWrites> =
  | { readonly status: 'committed' }
  /** A precondition failed: nothing was written. */
  | { readonly status: 'refused'; readonly refused: Refusal<W> }
  /** A concurrent transaction touched one of the items: nothing was written; the same commit may pass if sent again. */
  | { readonly status: 'conflict' };

/**
 * Where classes, accounts and carts live. Reads are plain; every change is a {@link commit}
 * of writes on single items, each with its precondition stated in the school's terms. The
 * store decides nothing: which writes go together, and what a refusal means, is the domain's.
 */
/** A merchant's carts, newest first, as `GET /v1/carts` pages them: a query of its own, never a scan. */
export interface CartLister {
  listForMerchant(merchantId: string, query: ListQuery<{ readonly status?: CartStatus }>): Promise<ListPage<Cart>>;
}

export interface SchoolStore {
  /**
   * Writes all of `writes` in one transaction, or none of them. At most one write per item.
   * Refused when a precondition fails, reporting every write whose precondition failed with its
   * item as it is now; `conflict` when a concurrent transaction got in the way (DynamoDB's
   * TransactionConflict), which says nothing about the preconditions.
   */
  commit<W extends NamedWrites>(writes: W): Promise<CommitResult<W>>;

  getClass(merchantId: string, classId: string): Promise<SwimClass | undefined>;
  /** The hold and student items of a class, counted: what its counters must agree with. */
  countSeats(merchantId: string, classId: string): Promise<{ held: number; students: number }>;
  getStudent(merchantId: string, classId: string, accountId: string, swimmerId: string): Promise<Student | undefined>;
  getAccount(merchantId: string, accountId: string): Promise<Account | undefined>;
  getSwimmer(merchantId: string, accountId: string, swimmerId: string): Promise<Swimmer | undefined>;
  /** By swimmer id. */
  listSwimmers(merchantId: string, accountId: string): Promise<Swimmer[]>;
  /** Oldest first. */
  listPurchases(merchantId: string, accountId: string): Promise<Purchase[]>;
  /** Another merchant's cart is as absent as a missing one. */
  getCart(merchantId: string, cartId: string): Promise<Cart | undefined>;
  /** Unfinished carts whose due time has passed, oldest first, at most `limit`. */
  listDueCarts(now: Date, limit: number): Promise<Cart[]>;
  /** Holds whose due time has passed (their cart should have ended by then), oldest first, at most `limit`. */
  listDueHolds(now: Date, limit: number): Promise<(SeatHold & { merchantId: string })[]>;
}
