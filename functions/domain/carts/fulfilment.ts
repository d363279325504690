import { ConcurrentModificationError, NotFoundError, PaymentNotCapturedError, RefundExceedsCapturedError } from '../errors.ts';
import { type Refund, RefundStatus, createRefund } from '../refund.ts';
import { grantNoFor } from './catalog.ts';
import { unexplained } from './refusals.ts';
import { finish } from './cart.ts';
import type { CheckoutDeps } from './checkout.ts';
import { type CommitDeps, DEFAULT_CONFLICT_RETRY, commit } from './commit.ts';
import {
  CART_METADATA_KEY,
  type Cart,
  type CartItem,
  CartItemAction,
  CartStatus,
  PAY_BACK_OPERATOR_ID,
  type Purchase,
  type Student,
} from './model.ts';
import type { NamedWrites, SchoolWrite } from './store.ts';

/**
 * What a paid cart becomes: registrations, and what it gives back beyond what it buys paid
 * back. Each item is fulfilled in one commit with its `fulfilled` mark, so a settler that
 * repeats it (the saga's last step and the schedule may meet) changes nothing the second time.
 */

/**
 * Writes each item's registration (each once), pays back what the cart gives back beyond
 * what it buys, then `applied -> done`.
 */
export async function fulfil(deps: CheckoutDeps, cart: Cart): Promise<Cart> {
  if (cart.status === CartStatus.Done) return cart;
  const purchase = purchaseOf(cart);
  const now = deps.clock().toISOString();
  for (const item of cart.items) await fulfilItem(deps, cart, item, purchase, now);
  const pointsCredit = purchase.total < 0 ? await payBack(deps, cart, -purchase.total) : 0;
  try {
    return await finish(deps, cart, CartStatus.Done, pointsCredit);
  } catch (error) {
    // Another settler (the saga's last step and the schedule may meet) finished it first.
    if (!(error instanceof ConcurrentModificationError)) throw error;
    const current = await deps.store.getCart(cart.merchantId, cart.cartId);
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
    await createRefund(deps.refundCreation, cart.merchantId, payBackRefundKey(cart.cartId, cart.attempt, itemId), {
      paymentNo,
      amount,
      operatorId: PAY_BACK_OPERATOR_ID,
      reason: `cart ${cart.cartId} gave up a seat`,
    });
    return true;
  } catch (error) {
    if (error instanceof RefundExceedsCapturedError || error instanceof PaymentNotCapturedError) return false;
    throw error;
  }
}

/**
 * A refund that paid a cart's difference back to a card failed: the customer is owed it still,
 * and gets it as points (rounded up), once (a grant record keyed by the refund_no guards it), on
 * the account of the cart the refunded payment paid. Any other refund's failure owes nothing.
 */
export async function creditFailedPayBack(deps: CheckoutDeps, refund: Refund): Promise<void> {
  if (refund.operatorId !== PAY_BACK_OPERATOR_ID || refund.status !== RefundStatus.Failed) return;
  const { merchantId } = refund;
  const cartId = (await deps.payments.get(refund.paymentNo))?.metadata?.[CART_METADATA_KEY];
  const cart = cartId === undefined ? undefined : await deps.store.getCart(merchantId, cartId);
  if (cart === undefined) throw new NotFoundError(`refund ${refund.refundNo} pays back a cart, but its payment's cart is not there`);
  const { pointValue } = await deps.settingsOf(merchantId);
  const points = Math.ceil(refund.amount / pointValue);
  const { accountId } = cart;
  const what = `points for the failed refund ${refund.refundNo}`;
  const refused = await commit(deps, what, {
    grant: {
      kind: 'putGrant',
      merchantId,
      grant: {
        grantNo: grantNoFor(merchantId, accountId, payBackGrantKey(refund.refundNo)),
        accountId,
        amount: points,
        reason: `refund ${refund.refundNo} failed (${refund.failureReason ?? 'no reason'}): paid back as points`,
        createdAt: deps.clock().toISOString(),
      },
    },
    account: { kind: 'points', merchantId, accountId, change: 'return', points },
  });
  // Refused by the grant alone: credited already.
  if (refused !== undefined && (refused.account !== undefined || refused.grant === undefined)) throw unexplained(what, refused);
}

/** The key of the points grant that pays back a failed pay-back refund: one grant per refund. */
export function payBackGrantKey(refundNo: string): string {
  return `pay-back:${refundNo}`;
}

/** The key of the refund that pays one given-up line's share back: one refund per line and checkout, whoever repeats it. */
export function payBackRefundKey(cartId: string, attempt: number, itemId: string): string {
  return `cart:${cartId}:${attempt}:${itemId}`;
}

/** What the cart's checkout bought, as its purchase record. */
export function purchaseOf(cart: Cart): Purchase {
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

/**
 * The price a seat is recorded as paid once it is a student's: the class's price the line
 * recorded. A line from before lines recorded it: a register paid its amount; a change paid
 * what the old seat cost plus the line's difference.
 */
export function seatPriceOf(item: CartItem, left?: Pick<Student, 'paid'>): number {
  if (item.seatPrice !== undefined) return item.seatPrice;
  return item.action === CartItemAction.Change && left !== undefined ? left.paid + item.amount : item.amount;
}

type FulfilmentWrite = 'hold' | 'class' | 'student' | 'fromStudent' | 'fromClass' | 'swimmer';
type FulfilmentWrites = Partial<Record<FulfilmentWrite, SchoolWrite>> & NamedWrites;

/**
 * Registers one item of an `applied` cart and marks it fulfilled, in one commit:
 * register: hold gone, seat held -> student, student written, class added to the swimmer;
 * change: the same in `classId`, and in `fromClassId` the student gone and the seat back to
 * remaining (the -1/+1 at once), the swimmer's classes replaced as read; cancel: student gone,
 * seat back, class off the swimmer. A no-op for an item already fulfilled.
 *
 * A change replaces the swimmer's classes as it read them: when another item of the swimmer
 * changed them in between, it reads again and retries (as many times as conflicts are retried).
 */
async function fulfilItem(deps: CommitDeps, cart: Cart, item: CartItem, purchase: Purchase, now: string): Promise<void> {
  if (item.fulfilled) return;
  const what = `fulfilment of item ${item.itemId} of cart ${cart.cartId}`;
  const retries = (deps.conflictRetry ?? DEFAULT_CONFLICT_RETRY).retries;
  for (let attempt = 0; ; attempt += 1) {
    const writes = await fulfilment(deps, cart, item, purchase, now);
    if (writes === 'fulfilled') return;
    const refused = await commit(deps, what, {
      cart: { kind: 'markFulfilled', cartId: cart.cartId, itemId: item.itemId, now },
      ...writes,
    });
    if (!refused) return;
    if (refused.cart) {
      const current = refused.cart.current;
      const line = current?.items.find((candidate) => candidate.itemId === item.itemId);
      if (line?.fulfilled) return;
      throw new ConcurrentModificationError(
        `${what}: the cart is ${current ? `${current.status}${line ? '' : ' without the item'}` : 'missing'}`,
      );
    }
    const swimmerMoved = refused.swimmer?.current !== undefined && Object.keys(refused).length === 1;
    if (swimmerMoved && attempt < retries) continue;
    throw new ConcurrentModificationError(`${what} refused: ${fulfilmentRefusal(Object.keys(refused) as FulfilmentWrite[], item)}`);
  }
}

/**
 * The writes that register one item, besides marking it fulfilled; 'fulfilled' when a read
 * they need shows the item was fulfilled already.
 */
async function fulfilment(
  deps: CommitDeps,
  cart: Cart,
  item: CartItem,
  purchase: Purchase,
  now: string,
): Promise<FulfilmentWrites | 'fulfilled'> {
  const { merchantId, accountId, cartId } = cart;
  const { swimmerId } = item;
  const swimmer = { merchantId, accountId, swimmerId };
  const leave = (classId: string) =>
    ({
      fromStudent: { kind: 'deleteStudent', merchantId, classId, accountId, swimmerId },
      fromClass: { kind: 'moveSeat', merchantId, classId, from: 'students', to: 'seatsRemain' },
    }) as const;
  const enrol = (paid: number) =>
    ({
      hold: { kind: 'deleteHold', merchantId, classId: item.classId, cartId, swimmerId },
      class: { kind: 'moveSeat', merchantId, classId: item.classId, from: 'seatsHeld', to: 'students' },
      student: {
        kind: 'putStudent',
        merchantId,
        student: { classId: item.classId, accountId, swimmerId, paid, purchaseKey: purchase.purchaseKey, enrolledAt: now },
      },
    }) as const;
  switch (item.action) {
    case CartItemAction.Register:
      return { ...enrol(seatPriceOf(item)), swimmer: { kind: 'addSwimmerClass', ...swimmer, classId: item.classId } };
    case CartItemAction.Cancel:
      return { ...leave(item.classId), swimmer: { kind: 'removeSwimmerClass', ...swimmer, classId: item.classId } };
    case CartItemAction.Change: {
      const fromClassId = item.fromClassId;
      if (fromClassId === undefined) throw new Error(`change item ${item.itemId} has no fromClassId`);
      // One read after the other: a failed read must leave no other in flight behind it (the
      // simulation, test/sim, lets an invocation make one call at a time).
      const current = await deps.store.getSwimmer(merchantId, accountId, swimmerId);
      const left = await deps.store.getStudent(merchantId, fromClassId, accountId, swimmerId);
      if (!left) {
        const stored = await deps.store.getCart(merchantId, cartId);
        if (stored?.items.find((line) => line.itemId === item.itemId)?.fulfilled) return 'fulfilled';
        throw new ConcurrentModificationError(`swimmer ${swimmerId} is no longer in class ${fromClassId}`);
      }
      const read = current?.classIds ?? [];
      const classIds = [...new Set([...read.filter((classId) => classId !== fromClassId), item.classId])];
      return {
        ...enrol(seatPriceOf(item, left)),
        ...leave(fromClassId),
        swimmer: { kind: 'replaceSwimmerClasses', ...swimmer, read, classIds },
      };
    }
  }
}

function fulfilmentRefusal(refused: readonly FulfilmentWrite[], item: CartItem): string {
  const reasons: Record<FulfilmentWrite, string> = {
    hold: `no seat held in class ${item.classId}`,
    class: `class ${item.classId} has no seat to move`,
    student: `swimmer ${item.swimmerId} is already in class ${item.classId}`,
    fromStudent: `swimmer ${item.swimmerId} is not in class ${item.fromClassId ?? item.classId}`,
    fromClass: `class ${item.fromClassId ?? item.classId} has no student to remove`,
    swimmer: `swimmer ${item.swimmerId} is missing or kept changing`,
  };
  return refused.map((name) => reasons[name]).join('; ');
}
