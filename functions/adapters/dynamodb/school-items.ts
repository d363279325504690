import {
  type Account,
  type Cart,
  type CartItem,
  type CartStatus,
  type CheckoutTerms,
  type PaymentMode,
  type Purchase,
  type SeatHold,
  type Student,
  type SwimClass,
  type Swimmer,
  lineOrder,
} from '../../domain/carts/model.ts';
import type { PointsGrant } from '../../domain/carts/store.ts';
import type { Currency } from '../../domain/money.ts';
import { dueShardOf, listKeysOf } from './table.ts';

/**
 * The school's items as stored (see the layout in table.ts): their keys, and the mapping
 * between each item's snake_case attributes and its domain type.
 */

/** A class with its seat counters: `seats_remain + seats_held + students = seats_total`. */
export interface StoredClass {
  pk: string;
  sk: 'CLASS';
  type: 'class';
  merchant_id: string;
  class_id: string;
  name: string;
  seats_total: number;
  seats_remain: number;
  seats_held: number;
  students: number;
  price: number;
  currency: string;
  created_at: string;
  version: number;
}

/** A held seat, in its class's partition; in the `by_due` index until it is released or registered. */
export interface StoredHold {
  pk: string;
  sk: string;
  type: 'hold';
  merchant_id: string;
  class_id: string;
  cart_id: string;
  account_id: string;
  swimmer_id: string;
  item_id: string;
  held_at: string;
  due_shard: string;
  due_at: string;
}

export interface StoredStudent {
  pk: string;
  sk: string;
  type: 'student';
  class_id: string;
  account_id: string;
  swimmer_id: string;
  paid: number;
  purchase_key: string;
  enrolled_at: string;
}

export interface StoredAccount {
  pk: string;
  sk: 'ACCOUNT';
  type: 'account';
  merchant_id: string;
  account_id: string;
  email?: string;
  points_balance: number;
  points_granted: number;
  points_spent: number;
  points_returned: number;
  active_cart_id?: string;
  created_at: string;
  version: number;
}

export interface StoredSwimmer {
  pk: string;
  sk: string;
  type: 'swimmer';
  account_id: string;
  swimmer_id: string;
  name: string;
  /** A string set, so fulfilment can ADD and DELETE one class without reading the others; absent when empty. */
  class_ids?: Set<string>;
  created_at: string;
}

export interface StoredGrant {
  pk: string;
  sk: string;
  type: 'points_grant';
  grant_no: string;
  account_id: string;
  amount: number;
  reason: string;
  created_at: string;
}

/** A cart line, as a value of the cart's `items` map and of a purchase's `items` list. */
export interface StoredLine {
  item_id: string;
  action: CartItem['action'];
  swimmer_id: string;
  class_id: string;
  from_class_id?: string;
  amount: number;
  seat_price?: number;
  paid_by?: string;
  held_at?: string;
  fulfilled?: boolean;
}

export interface StoredPurchase {
  pk: string;
  sk: string;
  type: 'purchase';
  merchant_id: string;
  account_id: string;
  purchase_key: string;
  cart_id: string;
  attempt: number;
  payment_no?: string;
  currency: string;
  total: number;
  card_amount: number;
  points: number;
  items: StoredLine[];
  created_at: string;
}

export interface StoredCheckout {
  mode: PaymentMode;
  payment_method?: string;
  points: number;
  point_value: number;
  total: number;
  card_amount: number;
  payment_no?: string;
  deadline: string;
  started_at: string;
}

export interface StoredCart {
  pk: string;
  sk: 'CART';
  type: 'cart';
  merchant_id: string;
  cart_id: string;
  account_id: string;
  status: CartStatus;
  version: number;
  currency?: string;
  /** By item_id: an edit adds or removes its own line without reading, or conflicting with, the others. */
  items: Record<string, StoredLine>;
  attempt: number;
  checkout?: StoredCheckout;
  purchase_key?: string;
  holds_expire_at?: string;
  last_failure?: string;
  created_at: string;
  updated_at: string;
  /** Present only while the cart is unfinished: the sparse `by_due` index. */
  due_shard?: string;
  due_at?: string;
  /** The merchant's list of carts (`by_merchant`). */
  list_pk: string;
  list_sk: string;
}

export const keys = {
  class: (merchantId: string, classId: string) => ({ pk: classPk(merchantId, classId), sk: 'CLASS' as const }),
  hold: (merchantId: string, classId: string, cartId: string, swimmerId: string) => ({
    pk: classPk(merchantId, classId),
    sk: `HOLD#${cartId}#${swimmerId}`,
  }),
  student: (merchantId: string, classId: string, accountId: string, swimmerId: string) => ({
    pk: classPk(merchantId, classId),
    sk: `STUDENT#${accountId}#${swimmerId}`,
  }),
  account: (merchantId: string, accountId: string) => ({ pk: accountPk(merchantId, accountId), sk: 'ACCOUNT' as const }),
  swimmer: (merchantId: string, accountId: string, swimmerId: string) => ({
    pk: accountPk(merchantId, accountId),
    sk: `SWIMMER#${swimmerId}`,
  }),
  grant: (merchantId: string, accountId: string, grantNo: string) => ({
    pk: accountPk(merchantId, accountId),
    sk: `POINTS#${grantNo}`,
  }),
  purchase: (merchantId: string, accountId: string, purchaseKey: string) => ({
    pk: accountPk(merchantId, accountId),
    sk: `PURCHASE#${purchaseKey}`,
  }),
  cart: (cartId: string) => ({ pk: `CART#${cartId}`, sk: 'CART' as const }),
};

export function classPk(merchantId: string, classId: string): string {
  return `CLASS#${merchantId}#${classId}`;
}

export function accountPk(merchantId: string, accountId: string): string {
  return `ACCOUNT#${merchantId}#${accountId}`;
}

export function classToItem(swimClass: SwimClass): StoredClass {
  return {
    ...keys.class(swimClass.merchantId, swimClass.classId),
    type: 'class',
    merchant_id: swimClass.merchantId,
    class_id: swimClass.classId,
    name: swimClass.name,
    seats_total: swimClass.seatsTotal,
    seats_remain: swimClass.seatsRemain,
    seats_held: swimClass.seatsHeld,
    students: swimClass.students,
    price: swimClass.price,
    currency: swimClass.currency,
    created_at: swimClass.createdAt,
    version: 1,
  };
}

export function classFromItem(item: StoredClass): SwimClass {
  return {
    merchantId: item.merchant_id,
    classId: item.class_id,
    name: item.name,
    seatsTotal: item.seats_total,
    seatsRemain: item.seats_remain,
    seatsHeld: item.seats_held,
    students: item.students,
    price: item.price,
    currency: item.currency as Currency,
    createdAt: item.created_at,
  };
}

export function holdToItem(merchantId: string, hold: SeatHold, dueAt: string): StoredHold {
  return {
    ...keys.hold(merchantId, hold.classId, hold.cartId, hold.swimmerId),
    type: 'hold',
    merchant_id: merchantId,
    class_id: hold.classId,
    cart_id: hold.cartId,
    account_id: hold.accountId,
    swimmer_id: hold.swimmerId,
    item_id: hold.itemId,
    held_at: hold.heldAt,
    due_shard: dueShardOf(hold.cartId + hold.swimmerId, 'hold'),
    due_at: dueAt,
  };
}

export function holdFromItem(item: StoredHold): SeatHold {
  return {
    classId: item.class_id,
    cartId: item.cart_id,
    accountId: item.account_id,
    swimmerId: item.swimmer_id,
    itemId: item.item_id,
    heldAt: item.held_at,
  };
}

export function studentToItem(merchantId: string, student: Student): StoredStudent {
  return {
    ...keys.student(merchantId, student.classId, student.accountId, student.swimmerId),
    type: 'student',
    class_id: student.classId,
    account_id: student.accountId,
    swimmer_id: student.swimmerId,
    paid: student.paid,
    purchase_key: student.purchaseKey,
    enrolled_at: student.enrolledAt,
  };
}

export function studentFromItem(item: StoredStudent): Student {
  return {
    classId: item.class_id,
    accountId: item.account_id,
    swimmerId: item.swimmer_id,
    paid: item.paid,
    purchaseKey: item.purchase_key,
    enrolledAt: item.enrolled_at,
  };
}

export function accountToItem(account: Account): StoredAccount {
  return {
    ...keys.account(account.merchantId, account.accountId),
    type: 'account',
    merchant_id: account.merchantId,
    account_id: account.accountId,
    email: account.email,
    points_balance: account.pointsBalance,
    points_granted: account.pointsGranted,
    points_spent: account.pointsSpent,
    points_returned: account.pointsReturned,
    active_cart_id: account.activeCartId,
    created_at: account.createdAt,
    version: 1,
  };
}

export function accountFromItem(item: StoredAccount): Account {
  return {
    merchantId: item.merchant_id,
    accountId: item.account_id,
    ...(item.email !== undefined && { email: item.email }),
    pointsBalance: item.points_balance,
    pointsGranted: item.points_granted,
    pointsSpent: item.points_spent,
    pointsReturned: item.points_returned,
    ...(item.active_cart_id !== undefined && { activeCartId: item.active_cart_id }),
    createdAt: item.created_at,
  };
}

export function swimmerToItem(merchantId: string, swimmer: Swimmer): StoredSwimmer {
  return {
    ...keys.swimmer(merchantId, swimmer.accountId, swimmer.swimmerId),
    type: 'swimmer',
    account_id: swimmer.accountId,
    swimmer_id: swimmer.swimmerId,
    name: swimmer.name,
    // DynamoDB stores no empty set.
    ...(swimmer.classIds.length > 0 && { class_ids: new Set(swimmer.classIds) }),
    created_at: swimmer.createdAt,
  };
}

export function swimmerFromItem(item: StoredSwimmer): Swimmer {
  return {
    accountId: item.account_id,
    swimmerId: item.swimmer_id,
    name: item.name,
    classIds: [...(item.class_ids ?? [])].sort(),
    createdAt: item.created_at,
  };
}

export function grantToItem(merchantId: string, grant: PointsGrant): StoredGrant {
  return {
    ...keys.grant(merchantId, grant.accountId, grant.grantNo),
    type: 'points_grant',
    grant_no: grant.grantNo,
    account_id: grant.accountId,
    amount: grant.amount,
    reason: grant.reason,
    created_at: grant.createdAt,
  };
}

export function grantFromItem(item: StoredGrant): PointsGrant {
  return {
    grantNo: item.grant_no,
    accountId: item.account_id,
    amount: item.amount,
    reason: item.reason,
    createdAt: item.created_at,
  };
}

export function lineToMap(item: CartItem): StoredLine {
  return {
    item_id: item.itemId,
    action: item.action,
    swimmer_id: item.swimmerId,
    class_id: item.classId,
    from_class_id: item.fromClassId,
    amount: item.amount,
    seat_price: item.seatPrice,
    paid_by: item.paidBy,
    held_at: item.heldAt,
    fulfilled: item.fulfilled,
  };
}

export function lineFromMap(line: StoredLine): CartItem {
  return {
    itemId: line.item_id,
    action: line.action,
    swimmerId: line.swimmer_id,
    classId: line.class_id,
    ...(line.from_class_id !== undefined && { fromClassId: line.from_class_id }),
    amount: line.amount,
    ...(line.seat_price !== undefined && { seatPrice: line.seat_price }),
    ...(line.paid_by !== undefined && { paidBy: line.paid_by }),
    ...(line.held_at !== undefined && { heldAt: line.held_at }),
    ...(line.fulfilled !== undefined && { fulfilled: line.fulfilled }),
  };
}

export function purchaseToItem(purchase: Purchase): StoredPurchase {
  return {
    ...keys.purchase(purchase.merchantId, purchase.accountId, purchase.purchaseKey),
    type: 'purchase',
    merchant_id: purchase.merchantId,
    account_id: purchase.accountId,
    purchase_key: purchase.purchaseKey,
    cart_id: purchase.cartId,
    attempt: purchase.attempt,
    payment_no: purchase.paymentNo,
    currency: purchase.currency,
    total: purchase.total,
    card_amount: purchase.cardAmount,
    points: purchase.points,
    items: purchase.items.map(lineToMap),
    created_at: purchase.createdAt,
  };
}

export function purchaseFromItem(item: StoredPurchase): Purchase {
  return {
    merchantId: item.merchant_id,
    accountId: item.account_id,
    purchaseKey: item.purchase_key,
    cartId: item.cart_id,
    attempt: item.attempt,
    ...(item.payment_no !== undefined && { paymentNo: item.payment_no }),
    currency: item.currency as Currency,
    total: item.total,
    cardAmount: item.card_amount,
    points: item.points,
    items: item.items.map(lineFromMap),
    createdAt: item.created_at,
  };
}

export function checkoutToMap(checkout: CheckoutTerms): StoredCheckout {
  return {
    mode: checkout.mode,
    payment_method: checkout.paymentMethod,
    points: checkout.points,
    point_value: checkout.pointValue,
    total: checkout.total,
    card_amount: checkout.cardAmount,
    payment_no: checkout.paymentNo,
    deadline: checkout.deadline,
    started_at: checkout.startedAt,
  };
}

export function checkoutFromMap(checkout: StoredCheckout): CheckoutTerms {
  return {
    mode: checkout.mode,
    ...(checkout.payment_method !== undefined && { paymentMethod: checkout.payment_method }),
    points: checkout.points,
    pointValue: checkout.point_value,
    total: checkout.total,
    cardAmount: checkout.card_amount,
    ...(checkout.payment_no !== undefined && { paymentNo: checkout.payment_no }),
    deadline: checkout.deadline,
    startedAt: checkout.started_at,
  };
}

export function cartToItem(cart: Cart, dueAt: string | undefined): StoredCart {
  return {
    ...keys.cart(cart.cartId),
    type: 'cart',
    merchant_id: cart.merchantId,
    cart_id: cart.cartId,
    account_id: cart.accountId,
    status: cart.status,
    version: cart.version,
    currency: cart.currency,
    items: Object.fromEntries(cart.items.map((item) => [item.itemId, lineToMap(item)])),
    attempt: cart.attempt,
    checkout: cart.checkout && checkoutToMap(cart.checkout),
    purchase_key: cart.purchaseKey,
    holds_expire_at: cart.holdsExpireAt,
    last_failure: cart.lastFailure,
    created_at: cart.createdAt,
    updated_at: cart.updatedAt,
    ...(dueAt !== undefined && { due_shard: dueShardOf(cart.cartId, 'cart'), due_at: dueAt }),
    // Every write of a cart puts it whole (a line's edit updates it, keeping these): it stays in the merchant's list.
    ...listKeysOf('cart', cart.merchantId, cart.createdAt, cart.cartId),
  };
}

export function cartFromItem(item: StoredCart): Cart {
  return {
    merchantId: item.merchant_id,
    cartId: item.cart_id,
    accountId: item.account_id,
    status: item.status,
    version: item.version,
    ...(item.currency !== undefined && { currency: item.currency as Currency }),
    // A map has no order: the cart's own.
    items: Object.values(item.items).map(lineFromMap).sort(lineOrder),
    attempt: item.attempt,
    ...(item.checkout !== undefined && { checkout: checkoutFromMap(item.checkout) }),
    ...(item.purchase_key !== undefined && { purchaseKey: item.purchase_key }),
    ...(item.holds_expire_at !== undefined && { holdsExpireAt: item.holds_expire_at }),
    ...(item.last_failure !== undefined && { lastFailure: item.last_failure }),
    createdAt: item.created_at,
    updatedAt: item.updated_at,
  };
}
