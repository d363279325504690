import { beforeEach, describe, expect, it } from 'vitest';
import { cancelCart, finish, move, openCart, releaseHold } from '../../../functions/domain/carts/cart.ts';
import { grantPoints } from '../../../functions/domain/carts/catalog.ts';
import { checkout, confirmInStore, settleCheckout } from '../../../functions/domain/carts/checkout.ts';
import { backoffCeilingMs } from '../../../functions/domain/carts/commit.ts';
import { creditFailedPayBack, seatPriceOf } from '../../../functions/domain/carts/fulfilment.ts';
import { type ReconcileDeps, reconcileRefunds } from '../../../functions/domain/reconcile.ts';
import { markRefundFailed } from '../../../functions/domain/refund-saga.ts';
import { PaymentStatus } from '../../../functions/domain/payment.ts';
import { StrictStripe, strictProvider } from '../../support/strict/stripe.ts';
import { type ItemRequest, addItem, removeItem } from '../../../functions/domain/carts/lines.ts';
import { CartStatus } from '../../../functions/domain/carts/model.ts';
import type { Currency } from '../../../functions/domain/money.ts';
import { USD } from '../../support/currencies.ts';
import { StrictPayoutStore } from '../../support/strict/payouts.ts';
import { HOLD_SECONDS, RECONCILE_AFTER_SECONDS, T0, afterNextRead, schoolWorld } from '../../support/school-world.ts';

/**
 * The school's rules on the strict in-memory store: which writes each edit, checkout and
 * fulfilment commits together, what each refusal means to the customer (the same codes and
 * fields the integration tests pin through HTTP), and what a commit that meets a concurrent
 * transaction does.
 */
const M = 'm_1';
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

let world: ReturnType<typeof schoolWorld>;

beforeEach(() => {
  world = schoolWorld();
});

async function cartFor(accountId: string) {
  return (await openCart(world.deps, M, accountId)).value;
}

const register = (swimmerId: string, classId: string): ItemRequest => ({ action: 'register', swimmerId, classId });

/**
 * The family's items bought, paid in the shop (a cart with nothing to pay is paid at checkout):
 * the cart done, its seats registered.
 */
async function buy(accountId: string, ...requests: ItemRequest[]) {
  const cart = await cartFor(accountId);
  for (const request of requests) await addItem(world.deps, M, cart.cartId, request);
  const checkedOut = await checkout(world.deps, M, cart.cartId, { mode: 'pay_in_store', points: 0 });
  return checkedOut.status === CartStatus.Done ? checkedOut : confirmInStore(world.deps, M, cart.cartId);
}

async function seats(classId: string) {
  const swimClass = await world.store.getClass(M, classId);
  const counted = await world.store.countSeats(M, classId);
  expect(swimClass!.seatsRemain + swimClass!.seatsHeld + swimClass!.students).toBe(swimClass!.seatsTotal);
  expect(counted).toEqual({ held: swimClass!.seatsHeld, students: swimClass!.students });
  return { remain: swimClass!.seatsRemain, held: swimClass!.seatsHeld, students: swimClass!.students };
}

describe('adding and removing a cart’s items', () => {
  it('holds a seat: the line in the cart, a seat from remaining to held, the hold due after the cart’s lifetime', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    const cart = await cartFor(accountId);

    // Act
    const held = await addItem(world.deps, M, cart.cartId, register(swimmerId, classId));

    // Assert
    expect(held).toMatchObject({ status: 'pending', version: 2, currency: USD, holdsExpireAt: at(HOLD_SECONDS) });
    expect(held.items).toEqual([expect.objectContaining({ action: 'register', amount: 3000, seatPrice: 3000, heldAt: at(0) })]);
    expect(await seats(classId)).toEqual({ remain: 2, held: 1, students: 0 });
    expect(world.store.peekHold(M, classId, cart.cartId, swimmerId)).toEqual({
      hold: { classId, cartId: cart.cartId, accountId, swimmerId, itemId: held.items[0]!.itemId, heldAt: at(0) },
      dueAt: at(HOLD_SECONDS + RECONCILE_AFTER_SECONDS),
    });
  });

  it('refuses a seat of a sold-out class with sold_out on class_id, and writes nothing', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 1);
    const first = await world.aFamily(M);
    await addItem(world.deps, M, (await cartFor(first.accountId)).cartId, register(first.swimmerId, classId));
    const second = await world.aFamily(M);
    const cart = await cartFor(second.accountId);

    // Act
    const refused = addItem(world.deps, M, cart.cartId, register(second.swimmerId, classId));

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'sold_out', field: 'class_id' });
    expect(await seats(classId)).toEqual({ remain: 0, held: 1, students: 0 });
    expect(await world.store.getCart(M, cart.cartId)).toEqual(cart);
  });

  it('answers a repeated item with the cart, holding no second seat', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    const cart = await cartFor(accountId);
    const first = await addItem(world.deps, M, cart.cartId, register(swimmerId, classId));

    // Act
    const again = await addItem(world.deps, M, cart.cartId, register(swimmerId, classId));

    // Assert
    expect(again).toEqual(first);
    expect(await seats(classId)).toEqual({ remain: 2, held: 1, students: 0 });
  });

  it('answers a repeat that raced the first with the cart the first made', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    const cart = await cartFor(accountId);
    afterNextRead(world.store, 'getCart', () => addItem(world.deps, M, cart.cartId, register(swimmerId, classId)));

    // Act
    const repeat = await addItem(world.deps, M, cart.cartId, register(swimmerId, classId));

    // Assert
    expect(repeat.items).toHaveLength(1);
    expect(await seats(classId)).toEqual({ remain: 2, held: 1, students: 0 });
  });

  it('refuses a register of a swimmer already in the class with already_registered', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    await buy(accountId, register(swimmerId, classId));
    const cart = await cartFor(accountId);

    // Act
    const refused = addItem(world.deps, M, cart.cartId, register(swimmerId, classId));

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'already_registered', field: 'swimmer_id' });
    expect(await seats(classId)).toEqual({ remain: 2, held: 0, students: 1 });
  });

  it('refuses a swimmer the account does not have with not_found on swimmer_id', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 3);
    const { accountId } = await world.aFamily(M);
    const cart = await cartFor(accountId);

    // Act
    const refused = addItem(world.deps, M, cart.cartId, register('swm_none', classId));

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'not_found', field: 'swimmer_id' });
    expect(await seats(classId)).toEqual({ remain: 3, held: 0, students: 0 });
  });

  it('refuses a class in another currency than the cart with currency_mismatch on class_id', async () => {
    // Prepare
    const usd = await world.aClass(M, 3);
    const eur = await world.aClass(M, 3, 3000, 'EUR' as Currency);
    const { accountId, swimmerId } = await world.aFamily(M);
    const cart = await cartFor(accountId);
    await addItem(world.deps, M, cart.cartId, register(swimmerId, usd.classId));

    // Act
    const refused = addItem(world.deps, M, cart.cartId, register(swimmerId, eur.classId));

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'currency_mismatch', field: 'class_id' });
    expect(await seats(eur.classId)).toEqual({ remain: 3, held: 0, students: 0 });
  });

  it('refuses an item with cart_locked when a checkout locked the cart between the read and the hold', async () => {
    // Prepare
    const first = await world.aClass(M, 3);
    const other = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    const cart = await cartFor(accountId);
    await addItem(world.deps, M, cart.cartId, register(swimmerId, first.classId));
    afterNextRead(world.store, 'getCart', () => checkout(world.deps, M, cart.cartId, { mode: 'pay_in_store', points: 0 }));

    // Act
    const refused = addItem(world.deps, M, cart.cartId, register(swimmerId, other.classId));

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'cart_locked', field: 'cart_id' });
    expect(await seats(other.classId)).toEqual({ remain: 3, held: 0, students: 0 });
  });

  it('refuses a cancel with not_registered on class_id when the swimmer left the class since it was read', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    await buy(accountId, register(swimmerId, classId));
    const cart = await cartFor(accountId);
    const left = { kind: 'deleteStudent', merchantId: M, classId, accountId, swimmerId } as const;
    afterNextRead(world.store, 'getStudent', () => world.store.commit({ student: left }));

    // Act
    const refused = addItem(world.deps, M, cart.cartId, { action: 'cancel', swimmerId, classId });

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'not_registered', field: 'class_id' });
    expect((await world.store.getCart(M, cart.cartId))?.items).toEqual([]);
  });

  it('refuses a change with not_registered on from_class_id when the swimmer left the class since it was read', async () => {
    // Prepare
    const from = await world.aClass(M, 3);
    const to = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    await buy(accountId, register(swimmerId, from.classId));
    const cart = await cartFor(accountId);
    const left = { kind: 'deleteStudent', merchantId: M, classId: from.classId, accountId, swimmerId } as const;
    afterNextRead(world.store, 'getStudent', () => world.store.commit({ student: left }));

    // Act
    const refused = addItem(world.deps, M, cart.cartId, { action: 'change', swimmerId, fromClassId: from.classId, toClassId: to.classId });

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'not_registered', field: 'from_class_id' });
    expect(await seats(to.classId)).toEqual({ remain: 3, held: 0, students: 0 });
  });

  it('removes an item: the line gone, its hold gone, the seat back; a second removal is not_found on item_id', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 2);
    const { accountId, swimmerId } = await world.aFamily(M);
    const cart = await cartFor(accountId);
    const [item] = (await addItem(world.deps, M, cart.cartId, register(swimmerId, classId))).items;

    // Act
    const removed = await removeItem(world.deps, M, cart.cartId, item!.itemId);
    const again = removeItem(world.deps, M, cart.cartId, item!.itemId);

    // Assert
    await expect(again).rejects.toMatchObject({ code: 'not_found', field: 'item_id' });
    expect(removed.items).toEqual([]);
    expect(await seats(classId)).toEqual({ remain: 2, held: 0, students: 0 });
    expect(world.store.peekHold(M, classId, cart.cartId, swimmerId)).toBeUndefined();
  });

  it('refuses the removal of an item another request removed since the read with not_found on item_id', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 2);
    const { accountId, swimmerId } = await world.aFamily(M);
    const cart = await cartFor(accountId);
    const [item] = (await addItem(world.deps, M, cart.cartId, register(swimmerId, classId))).items;
    afterNextRead(world.store, 'getCart', () => removeItem(world.deps, M, cart.cartId, item!.itemId));

    // Act
    const refused = removeItem(world.deps, M, cart.cartId, item!.itemId);

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'not_found', field: 'item_id' });
    expect(await seats(classId)).toEqual({ remain: 2, held: 0, students: 0 });
  });

  it('cancels a cart: each hold released once, the cart canceled, the account free', async () => {
    // Prepare
    const a = await world.aClass(M, 2);
    const b = await world.aClass(M, 2);
    const { accountId, swimmerId } = await world.aFamily(M);
    const cart = await cartFor(accountId);
    await addItem(world.deps, M, cart.cartId, register(swimmerId, a.classId));
    await addItem(world.deps, M, cart.cartId, register(swimmerId, b.classId));

    // Act
    const canceled = await cancelCart(world.deps, M, cart.cartId);
    const releasedAgain = await releaseHold(world.deps, { merchantId: M, classId: a.classId, cartId: cart.cartId, swimmerId });

    // Assert
    expect(canceled.status).toBe(CartStatus.Canceled);
    expect(releasedAgain).toBe(false);
    expect([await seats(a.classId), await seats(b.classId)]).toEqual([
      { remain: 2, held: 0, students: 0 },
      { remain: 2, held: 0, students: 0 },
    ]);
    expect((await world.store.getAccount(M, accountId))?.activeCartId).toBeUndefined();
    expect((await world.store.listDueCarts(new Date(T0 + 86_400_000), 100)).map((c) => c.cartId)).not.toContain(cart.cartId);
  });

  it('answers a second open of the account’s cart racing the first with the cart the first opened', async () => {
    // Prepare
    const { accountId } = await world.aFamily(M);
    let first: string | undefined;
    afterNextRead(world.store, 'getAccount', async () => {
      first = (await cartFor(accountId)).cartId;
    });

    // Act
    const second = await cartFor(accountId);

    // Assert
    expect(second.cartId).toBe(first);
    expect((await world.store.getAccount(M, accountId))?.activeCartId).toBe(first);
  });

  it('refuses a move from a version the cart has left with concurrent_modification', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 2);
    const { accountId, swimmerId } = await world.aFamily(M);
    const stale = await cartFor(accountId);
    await addItem(world.deps, M, stale.cartId, register(swimmerId, classId));

    // Act
    const refused = move(world.deps, stale, { status: CartStatus.Canceling }, at(60));

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'concurrent_modification' });
    expect((await world.store.getCart(M, stale.cartId))?.status).toBe(CartStatus.Pending);
  });

  it('finishes a cart the account no longer names as its own, the points paid back still credited', async () => {
    // Prepare
    const { accountId } = await world.aFamily(M);
    const cart = await cartFor(accountId);
    const freed = { kind: 'closeAccountCart', merchantId: M, accountId, cartId: cart.cartId, returnPoints: 0 } as const;
    await world.store.commit({ account: freed });

    // Act
    const done = await finish(world.deps, cart, CartStatus.Done, 7);

    // Assert
    expect(await world.store.getCart(M, cart.cartId)).toMatchObject({ status: CartStatus.Done, version: done.version });
    expect(await world.store.getAccount(M, accountId)).toMatchObject({ pointsBalance: 7, pointsReturned: 7 });
  });
});

describe('checking out and fulfilling', () => {
  it('refuses a checkout the points do not cover with insufficient_points, and changes nothing', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 2);
    const { accountId, swimmerId } = await world.aFamily(M);
    await grantPoints(world.deps, M, accountId, { amount: 100, reason: 'welcome' }, 'k1');
    const cart = await cartFor(accountId);
    const held = await addItem(world.deps, M, cart.cartId, register(swimmerId, classId));

    // Act
    const refused = checkout(world.deps, M, cart.cartId, { mode: 'pay_in_store', points: 101 });

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'insufficient_points', field: 'points' });
    expect(await world.store.getCart(M, cart.cartId)).toEqual(held);
    expect(await world.store.getAccount(M, accountId)).toMatchObject({ pointsBalance: 100, pointsSpent: 0 });
  });

  it('refuses a card part under the smallest charge the card network takes, before spending a point', async () => {
    // Prepare: a 30.00 seat, 29.90 of it in points, would leave a 0.10 card charge the provider refuses.
    const { classId } = await world.aClass(M, 2);
    const { accountId, swimmerId } = await world.aFamily(M);
    await grantPoints(world.deps, M, accountId, { amount: 2990, reason: 'welcome' }, 'k1');
    const cart = await cartFor(accountId);
    const held = await addItem(world.deps, M, cart.cartId, register(swimmerId, classId));

    // Act
    const refused = checkout(world.deps, M, cart.cartId, { mode: 'pay_now', paymentMethod: 'pm_card_visa', points: 2990 });

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'validation_failed', field: 'points' });
    expect(await world.store.getCart(M, cart.cartId)).toEqual(held);
    expect(await world.store.getAccount(M, accountId)).toMatchObject({ pointsBalance: 2990, pointsSpent: 0 });
    expect(world.payments.all()).toHaveLength(0);
  });

  it('spends the points with the lock and gives them back when the card is declined', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 2);
    const { accountId, swimmerId } = await world.aFamily(M);
    await grantPoints(world.deps, M, accountId, { amount: 100, reason: 'welcome' }, 'k1');
    const cart = await cartFor(accountId);
    await addItem(world.deps, M, cart.cartId, register(swimmerId, classId));

    // Act
    const locked = await checkout(world.deps, M, cart.cartId, { mode: 'pay_now', paymentMethod: 'pm_card_visa', points: 60 });
    const spent = await world.store.getAccount(M, accountId);
    world.payments.tamper(locked.checkout!.paymentNo!, { status: 'failed', declineCode: 'card_declined' });
    const reopened = await settleCheckout(world.deps, locked);

    // Assert
    expect(spent).toMatchObject({ pointsBalance: 40, pointsSpent: 60 });
    expect(reopened).toMatchObject({ status: CartStatus.Pending, version: locked.version + 1, lastFailure: 'card_declined' });
    expect(await world.store.getAccount(M, accountId)).toMatchObject({
      pointsBalance: 100,
      pointsGranted: 100,
      pointsSpent: 60,
      pointsReturned: 60,
    });
    expect(await seats(classId)).toEqual({ remain: 1, held: 1, students: 0 });
  });

  it('fulfils a register: the seat held -> student at its price, the class on the swimmer, the hold gone', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);

    // Act
    const done = await buy(accountId, register(swimmerId, classId));

    // Assert
    expect(done.status).toBe(CartStatus.Done);
    expect((await world.store.getCart(M, done.cartId))?.items.every((item) => item.fulfilled)).toBe(true);
    expect(await seats(classId)).toEqual({ remain: 2, held: 0, students: 1 });
    expect(await world.store.getStudent(M, classId, accountId, swimmerId)).toEqual({
      classId,
      accountId,
      swimmerId,
      paid: 3000,
      purchaseKey: done.purchaseKey,
      enrolledAt: at(0),
    });
    expect((await world.store.getSwimmer(M, accountId, swimmerId))?.classIds).toEqual([classId]);
    expect(world.store.peekHold(M, classId, done.cartId, swimmerId)).toBeUndefined();
    expect((await world.store.getAccount(M, accountId))?.activeCartId).toBeUndefined();
  });

  it('confirms an in-store payment once: a repeat answers with the done cart and records no second purchase', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    const done = await buy(accountId, register(swimmerId, classId));

    // Act
    const again = await confirmInStore(world.deps, M, done.cartId);

    // Assert
    expect(again).toEqual(await world.store.getCart(M, done.cartId));
    expect(await world.store.listPurchases(M, accountId)).toHaveLength(1);
    expect(await seats(classId)).toEqual({ remain: 2, held: 0, students: 1 });
  });

  it('answers a second settler of a paid checkout with the done cart, registering nothing twice', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    const cart = await cartFor(accountId);
    await addItem(world.deps, M, cart.cartId, register(swimmerId, classId));
    const checking = await checkout(world.deps, M, cart.cartId, { mode: 'pay_now', paymentMethod: 'pm_card_visa', points: 0 });
    world.payments.tamper(checking.checkout!.paymentNo!, { status: 'succeeded', chargeId: 'pi_1', amountCaptured: 3000 });
    await settleCheckout(world.deps, checking);

    // Act
    const second = await settleCheckout(world.deps, checking);

    // Assert
    expect(second).toMatchObject({ status: CartStatus.Done, purchaseKey: 'pi_1' });
    expect(await world.store.listPurchases(M, accountId)).toHaveLength(1);
    expect(await seats(classId)).toEqual({ remain: 2, held: 0, students: 1 });
  });

  it('fulfils a change at the new class’s price: the old seat back to remaining, the new one a student’s', async () => {
    // Prepare
    const from = await world.aClass(M, 3, 3000);
    const to = await world.aClass(M, 3, 3500);
    const { accountId, swimmerId } = await world.aFamily(M);
    await buy(accountId, register(swimmerId, from.classId));

    // Act
    const done = await buy(accountId, { action: 'change', swimmerId, fromClassId: from.classId, toClassId: to.classId });

    // Assert
    expect(done.checkout?.total).toBe(500);
    expect(await seats(from.classId)).toEqual({ remain: 3, held: 0, students: 0 });
    expect(await seats(to.classId)).toEqual({ remain: 2, held: 0, students: 1 });
    expect(await world.store.getStudent(M, from.classId, accountId, swimmerId)).toBeUndefined();
    expect((await world.store.getStudent(M, to.classId, accountId, swimmerId))?.paid).toBe(3500);
    expect((await world.store.getSwimmer(M, accountId, swimmerId))?.classIds).toEqual([to.classId]);
  });

  it('retries a change whose swimmer another item moved between the read and the commit, keeping both changes', async () => {
    // Prepare
    const from = await world.aClass(M, 3);
    const to = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    await buy(accountId, register(swimmerId, from.classId));
    const cart = await cartFor(accountId);
    await addItem(world.deps, M, cart.cartId, { action: 'change', swimmerId, fromClassId: from.classId, toClassId: to.classId });
    const moved = { kind: 'addSwimmerClass', merchantId: M, accountId, swimmerId, classId: 'cls_elsewhere' } as const;
    afterNextRead(world.store, 'getSwimmer', () => world.store.commit({ swimmer: moved }));
    const sent = world.store.commitsSent;

    // Act: a change to a class of the same price costs nothing, so the checkout fulfils it at once.
    const done = await checkout(world.deps, M, cart.cartId, { mode: 'pay_in_store', points: 0 });

    // Assert
    expect(done.status).toBe(CartStatus.Done);
    // lock, apply, the change refused by the swimmer it read, the change again, finish; and the move meanwhile.
    expect(world.store.commitsSent - sent).toBe(6);
    expect((await world.store.getSwimmer(M, accountId, swimmerId))?.classIds).toEqual(['cls_elsewhere', to.classId].sort());
    expect(await seats(to.classId)).toEqual({ remain: 2, held: 0, students: 1 });
  });

  it('fulfils a cancel: the student gone, the seat back, the class off the swimmer, the price back in points', async () => {
    // Prepare
    const gone = await world.aClass(M, 3);
    const kept = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    await buy(accountId, register(swimmerId, gone.classId), register(swimmerId, kept.classId));

    // Act
    await buy(accountId, { action: 'cancel', swimmerId, classId: gone.classId });

    // Assert
    expect(await seats(gone.classId)).toEqual({ remain: 3, held: 0, students: 0 });
    expect(await seats(kept.classId)).toEqual({ remain: 2, held: 0, students: 1 });
    expect((await world.store.getSwimmer(M, accountId, swimmerId))?.classIds).toEqual([kept.classId]);
    expect(await world.store.getAccount(M, accountId)).toMatchObject({ pointsBalance: 3000, pointsReturned: 3000, pointsGranted: 0 });
  });
});

describe('a seat given up twice in one cart', () => {
  /** A swimmer in class `from`, and an open cart with a class `to` to change to. */
  async function aStudent() {
    const from = await world.aClass(M, 3);
    const to = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    await buy(accountId, register(swimmerId, from.classId));
    return { from: from.classId, to: to.classId, swimmerId, cart: await cartFor(accountId) };
  }

  it('is refused when a cancel and a change give up the same seat, the cart left as it was', async () => {
    // Prepare
    const { from, to, swimmerId, cart } = await aStudent();
    const cancelled = await addItem(world.deps, M, cart.cartId, { action: 'cancel', swimmerId, classId: from });

    // Act
    const change = addItem(world.deps, M, cart.cartId, { action: 'change', swimmerId, fromClassId: from, toClassId: to });

    // Assert
    await expect(change).rejects.toMatchObject({ code: 'already_registered', field: 'from_class_id' });
    expect(await world.store.getCart(M, cart.cartId)).toEqual(cancelled);
    expect(await seats(to)).toEqual({ remain: 3, held: 0, students: 0 });
  });

  it('cannot be checked out when two edits raced past that check: nothing spent, nothing locked', async () => {
    // Prepare: the change reads the cart before the cancel is added.
    const { from, to, swimmerId, cart } = await aStudent();
    afterNextRead(world.store, 'getCart', () => addItem(world.deps, M, cart.cartId, { action: 'cancel', swimmerId, classId: from }));
    await addItem(world.deps, M, cart.cartId, { action: 'change', swimmerId, fromClassId: from, toClassId: to });

    // Act
    const paid = checkout(world.deps, M, cart.cartId, { mode: 'pay_in_store', points: 0 });

    // Assert
    await expect(paid).rejects.toMatchObject({ code: 'already_registered', field: 'cart_id' });
    expect(await world.store.getCart(M, cart.cartId)).toMatchObject({ status: CartStatus.Pending, attempt: 0 });
  });
});

describe('a difference paid back to the card, whose refund then fails', () => {
  /** A seat bought for 3000 by card, then given up: the cart's pay-back refund of 3000 to that card, failed. */
  async function failedPayBack() {
    const swimClass = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    const bought = await cartFor(accountId);
    await addItem(world.deps, M, bought.cartId, register(swimmerId, swimClass.classId));
    const paying = await checkout(world.deps, M, bought.cartId, { mode: 'pay_now', paymentMethod: 'pm_card_visa', points: 0 });
    world.payments.tamper(paying.checkout!.paymentNo!, { status: PaymentStatus.Succeeded, chargeId: 'pi_1', amountCaptured: 3000 });
    await settleCheckout(world.deps, paying);
    await buy(accountId, { action: 'cancel', swimmerId, classId: swimClass.classId });
    const [refund] = world.refunds.all();
    await markRefundFailed({ ...world.deps, refunds: world.refunds }, { refund_no: refund!.refundNo, outcome: 'failed', failure_reason: 'expired_or_canceled_card' });
    world.time.advance((RECONCILE_AFTER_SECONDS + 1) * 1000);
    return { accountId, refundNo: refund!.refundNo };
  }

  const reconcileDeps = (): ReconcileDeps => ({
    ...world.deps,
    workflow: world.workflow,
    refunds: world.refunds,
    refundWorkflow: world.workflow,
    payouts: new StrictPayoutStore(),
    payoutWorkflow: world.workflow,
    provider: strictProvider(new StrictStripe({ clock: world.time.clock })),
    maxResumes: 5,
    deployment: 'here',
    leaseSeconds: 60,
    newLeaseOwner: () => 'reconciler',
    onRefundFailed: (refund) => creditFailedPayBack(world.deps, refund),
  });

  it('comes back to the account as points, once, when the reconciler finds that the failure stands', async () => {
    // Prepare
    const { accountId, refundNo } = await failedPayBack();
    const before = await world.store.getAccount(M, accountId);

    // Act
    const first = await reconcileRefunds(reconcileDeps(), 10);
    const credited = await world.store.getAccount(M, accountId);
    await creditFailedPayBack(world.deps, (await world.refunds.get(refundNo))!);

    // Assert
    expect(first).toMatchObject([{ refundNo, decision: 'rechecked' }]);
    expect(credited).toMatchObject({ pointsBalance: before!.pointsBalance + 3000, pointsReturned: before!.pointsReturned + 3000 });
    expect(await world.store.getAccount(M, accountId)).toEqual(credited);
    expect(await reconcileRefunds(reconcileDeps(), 10)).toEqual([]);
  });

  it("owes nothing for a merchant's own refund of a cart's payment that failed", async () => {
    // Prepare
    const { accountId, refundNo } = await failedPayBack();
    const ours = (await world.refunds.get(refundNo))!;
    const before = await world.store.getAccount(M, accountId);

    // Act
    await creditFailedPayBack(world.deps, { ...ours, operatorId: 'op-1' });

    // Assert
    expect(await world.store.getAccount(M, accountId)).toEqual(before);
  });
});

describe('the price a registered seat is recorded at', () => {
  const line = { itemId: 'itm_1', swimmerId: 'swm_1', classId: 'cls_1', heldAt: at(0) } as const;

  it('is the class price the line recorded, whatever the line adds to the total', () => {
    expect(seatPriceOf({ ...line, action: 'register', amount: 3000, seatPrice: 2800 })).toBe(2800);
    expect(seatPriceOf({ ...line, action: 'change', amount: 500, seatPrice: 3600 }, { paid: 3000 })).toBe(3600);
  });

  it('is, for a line from before lines recorded it, what the line paid (a change: the old seat and the difference)', () => {
    expect(seatPriceOf({ ...line, action: 'register', amount: 3000 })).toBe(3000);
    expect(seatPriceOf({ ...line, action: 'change', amount: 500 }, { paid: 3000 })).toBe(3500);
  });
});

describe('commits that meet a concurrent transaction', () => {
  it('sends the commit again after a full-jitter backoff until it commits', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    const cart = await cartFor(accountId);
    world.store.conflictNext(2);

    // Act
    const held = await addItem(world.deps, M, cart.cartId, register(swimmerId, classId));

    // Assert
    expect(held.items).toHaveLength(1);
    expect(world.backoffs).toEqual([0.5 * 15, 0.5 * 30]);
    expect(await seats(classId)).toEqual({ remain: 2, held: 1, students: 0 });
  });

  it('gives up after its retries with a concurrent_modification worth retrying, having written nothing', async () => {
    // Prepare
    const { classId } = await world.aClass(M, 3);
    const { accountId, swimmerId } = await world.aFamily(M);
    const cart = await cartFor(accountId);
    const sent = world.store.commitsSent;
    world.store.conflictNext(7);

    // Act
    const refused = addItem(world.deps, M, cart.cartId, register(swimmerId, classId));

    // Assert
    await expect(refused).rejects.toMatchObject({ code: 'concurrent_modification', retryAfterSeconds: 1 });
    expect(world.store.commitsSent - sent).toBe(7);
    expect(world.backoffs).toEqual([15, 30, 60, 120, 240, 250].map((ceiling) => 0.5 * ceiling));
    expect(await seats(classId)).toEqual({ remain: 3, held: 0, students: 0 });
  });

  it('waits at most 15 ms before the first retry, doubling to at most 250 ms', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(backoffCeilingMs)).toEqual([15, 30, 60, 120, 240, 250, 250]);
  });
});
