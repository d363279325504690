import { randomBytes } from 'node:crypto';
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { DynamoSchoolStore } from '../../functions/adapters/dynamodb/school-store.ts';
import {
  type Cart,
  type CartItem,
  CartItemAction,
  CartStatus,
  type Purchase,
  itemIdFor,
  newId,
} from '../../functions/domain/carts/model.ts';
import type { CartEdit, CartWrite } from '../../functions/domain/carts/store.ts';
import type { Currency } from '../../functions/domain/money.ts';
import { localClientConfig } from '../../local/runtime/dynamodb-local.ts';
import { USD } from '../support/in-memory-provider.ts';
import { type LocalTable, localTableForThisFile } from './local-table.ts';

/** The DynamoDB adapter of the school's store against DynamoDB Local (see local-table.ts). */

const MERCHANT = 'merchant_school';
const PRICE = 1500;
const T0 = '2026-11-23T10:00:00.000Z';
const T1 = '2026-11-23T10:01:00.000Z';
const HOLDS_EXPIRE = '2026-11-23T10:15:00.000Z';
const HOLD_DUE = '2026-11-23T10:20:00.000Z';

const localTable = localTableForThisFile();
let store: DynamoSchoolStore;
let table: LocalTable;

beforeAll(() => {
  table = localTable();
  store = new DynamoSchoolStore(table.db, table.name);
});

/** A seat hold as stored, read around the store (which has no reason to read one hold). */
async function holdItem(classId: string, cartId: string, swimmerId: string) {
  const { Item } = await table.db.send(
    new GetCommand({ TableName: table.name, Key: { pk: `CLASS#${MERCHANT}#${classId}`, sk: `HOLD#${cartId}#${swimmerId}` } }),
  );
  return Item;
}

/** A swimmer's classes, as the account's swimmers list them. */
async function classesOf(accountId: string, swimmerId: string) {
  return (await store.listSwimmers(MERCHANT, accountId)).find((swimmer) => swimmer.swimmerId === swimmerId)?.classIds;
}

const unique = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

async function newClass(seats: number, currency: Currency = USD) {
  const classId = unique('cls');
  await store.createClass({
    merchantId: MERCHANT,
    classId,
    name: 'Tadpoles',
    seatsTotal: seats,
    seatsRemain: seats,
    seatsHeld: 0,
    students: 0,
    price: PRICE,
    currency,
    createdAt: T0,
  });
  return classId;
}

/** An account with one swimmer. */
async function newFamily() {
  const accountId = unique('acc');
  const swimmerId = unique('swm');
  await store.createAccount(account(accountId));
  await store.addSwimmer(MERCHANT, { accountId, swimmerId, name: 'Nemo', classIds: [], createdAt: T0 });
  return { accountId, swimmerId };
}

function account(accountId: string) {
  return {
    merchantId: MERCHANT,
    accountId,
    email: 'parent@example.com',
    pointsBalance: 0,
    pointsGranted: 0,
    pointsSpent: 0,
    pointsReturned: 0,
    createdAt: T0,
  };
}

async function openCart(accountId: string): Promise<Cart> {
  const cart: Cart = {
    merchantId: MERCHANT,
    cartId: newId('cart'),
    accountId,
    status: CartStatus.Active,
    version: 1,
    items: [],
    attempt: 0,
    createdAt: T0,
    updatedAt: T0,
  };
  return (await store.openCart({ cart, from: { status: CartStatus.Active, version: 0 }, dueAt: T0 })).value;
}

const edit = (cart: Cart, currency: Currency = USD): CartEdit => ({
  merchantId: MERCHANT,
  cartId: cart.cartId,
  now: T1,
  holdsExpireAt: HOLDS_EXPIRE,
  currency,
});

function line(action: CartItem['action'], swimmerId: string, classId: string, extra: Partial<CartItem> = {}): CartItem {
  return {
    itemId: itemIdFor(action, swimmerId, classId),
    action,
    swimmerId,
    classId,
    amount: action === CartItemAction.Cancel ? -PRICE : PRICE,
    ...(action !== CartItemAction.Cancel && { heldAt: T1 }),
    ...extra,
  };
}

async function hold(cart: Cart, accountId: string, item: CartItem) {
  await store.holdSeat(edit(cart), accountId, item, HOLD_DUE);
  return item;
}

async function read(cartId: string): Promise<Cart> {
  const cart = await store.getCart(cartId);
  if (!cart) throw new Error(`no cart ${cartId}`);
  return cart;
}

/** The cart moved on from how it is stored now to `changes`. */
async function transition(cartId: string, changes: Partial<Cart>, dueAt?: string): Promise<CartWrite> {
  const cart = await read(cartId);
  return {
    cart: { ...cart, ...changes, version: cart.version + 1, updatedAt: T1 },
    from: { status: cart.status, version: cart.version },
    ...(dueAt !== undefined && { dueAt }),
  };
}

const checkingOut = (cartId: string, points = 0) =>
  transition(
    cartId,
    {
      status: CartStatus.Checking,
      attempt: 1,
      checkout: {
        mode: 'pay_in_store',
        points,
        pointValue: 1,
        total: PRICE,
        cardAmount: PRICE - points,
        deadline: '2026-11-24T10:00:00.000Z',
        startedAt: T1,
      },
    },
    '2026-11-24T10:00:00.000Z',
  );

/** The cart checked out, paid, every item fulfilled and the cart done: what a purchase does. */
async function buy(cartId: string): Promise<Purchase> {
  await store.lockForCheckout(await checkingOut(cartId), 0);
  const checking = await read(cartId);
  const purchase: Purchase = {
    merchantId: MERCHANT,
    accountId: checking.accountId,
    purchaseKey: `in_store:${cartId}:1`,
    cartId,
    attempt: 1,
    currency: USD,
    total: PRICE,
    cardAmount: PRICE,
    points: 0,
    items: checking.items,
    createdAt: T1,
  };
  const applying = await transition(cartId, { status: CartStatus.Applied, purchaseKey: purchase.purchaseKey }, T1);
  await store.applyPurchase(applying, purchase);
  const applied = await read(cartId);
  for (const item of applied.items) await store.fulfilItem(applied, item, purchase, T1);
  await store.finishCart(await transition(cartId, { status: CartStatus.Done }), 0);
  return purchase;
}

/** The class's counters, checked against the seat invariant and against its hold and student items. */
async function seats(classId: string) {
  const swimClass = await store.getClass(MERCHANT, classId);
  const counted = await store.countSeats(MERCHANT, classId);
  expect(swimClass!.seatsRemain + swimClass!.seatsHeld + swimClass!.students).toBe(swimClass!.seatsTotal);
  expect(counted).toEqual({ held: swimClass!.seatsHeld, students: swimClass!.students });
  return { remain: swimClass!.seatsRemain, held: swimClass!.seatsHeld, students: swimClass!.students };
}

describe('DynamoSchoolStore: classes, accounts, swimmers, points', () => {
  it('creates a class once: a replay returns the class first stored', async () => {
    // Prepare
    const classId = await newClass(5);

    // Act
    const replay = await store.createClass({ ...(await store.getClass(MERCHANT, classId))!, name: 'Another name' });

    // Assert
    expect(replay.created).toBe(false);
    expect(replay.value).toMatchObject({ classId, name: 'Tadpoles', seatsTotal: 5, seatsRemain: 5, currency: USD });
  });

  it('creates an account once with zero points, and a replay returns it', async () => {
    // Prepare
    const accountId = unique('acc');

    // Act
    const first = await store.createAccount({ ...account(accountId), pointsBalance: 99 });
    const replay = await store.createAccount({ ...account(accountId), email: 'other@example.com' });

    // Assert
    expect(first).toEqual({ created: true, value: { ...account(accountId), pointsBalance: 0 } });
    expect(replay).toEqual({ created: false, value: account(accountId) });
  });

  it('adds a swimmer once, and refuses one for an account that does not exist', async () => {
    // Prepare
    const { accountId, swimmerId } = await newFamily();

    // Act
    const replay = await store.addSwimmer(MERCHANT, { accountId, swimmerId, name: 'Dory', classIds: [], createdAt: T1 });
    const orphan = store.addSwimmer(MERCHANT, { accountId: 'acc_none', swimmerId, name: 'Dory', classIds: [], createdAt: T1 });

    // Assert
    expect(replay).toEqual({ created: false, value: { accountId, swimmerId, name: 'Nemo', classIds: [], createdAt: T0 } });
    await expect(orphan).rejects.toMatchObject({ name: 'NotFoundError', field: 'account_id' });
    expect(await store.listSwimmers(MERCHANT, accountId)).toHaveLength(1);
  });

  it('grants points once per grant_no, the balance and the total together', async () => {
    // Prepare
    const { accountId } = await newFamily();
    const grant = { grantNo: unique('grant'), accountId, amount: 300, reason: 'welcome', createdAt: T1 };

    // Act
    const first = await store.grantPoints(MERCHANT, grant);
    const replay = await store.grantPoints(MERCHANT, { ...grant, amount: 999 });
    const orphan = store.grantPoints(MERCHANT, { ...grant, grantNo: unique('grant'), accountId: 'acc_none' });

    // Assert
    expect(first).toEqual({ created: true, value: grant });
    expect(replay).toEqual({ created: false, value: grant });
    await expect(orphan).rejects.toMatchObject({ name: 'NotFoundError', field: 'account_id' });
    expect(await store.getAccount(MERCHANT, accountId)).toMatchObject({ pointsBalance: 300, pointsGranted: 300 });
  });
});

describe('DynamoSchoolStore: carts and seats', () => {
  it('opens one cart per account: a second open returns the first', async () => {
    // Prepare
    const { accountId } = await newFamily();
    const first = await openCart(accountId);

    // Act
    const second = await openCart(accountId);

    // Assert
    expect(second.cartId).toBe(first.cartId);
    expect((await store.getAccount(MERCHANT, accountId))?.activeCartId).toBe(first.cartId);
    expect((await store.listDueCarts(new Date(T1), 1000)).map((cart) => cart.cartId)).toContain(first.cartId);
  });

  it('refuses a cart for an account that does not exist', async () => {
    await expect(openCart('acc_none')).rejects.toMatchObject({ name: 'NotFoundError', field: 'account_id' });
  });

  it('holds a seat: the line in the cart, a seat from remaining to held, the hold written', async () => {
    // Prepare
    const classId = await newClass(3);
    const { accountId, swimmerId } = await newFamily();
    const cart = await openCart(accountId);
    const item = line(CartItemAction.Register, swimmerId, classId);

    // Act
    await hold(cart, accountId, item);

    // Assert
    expect(await seats(classId)).toEqual({ remain: 2, held: 1, students: 0 });
    expect(await read(cart.cartId)).toMatchObject({
      status: CartStatus.Pending,
      version: 2,
      currency: USD,
      holdsExpireAt: HOLDS_EXPIRE,
      items: [item],
    });
    expect(await holdItem(classId, cart.cartId, swimmerId)).toMatchObject({
      class_id: classId,
      cart_id: cart.cartId,
      account_id: accountId,
      swimmer_id: swimmerId,
      item_id: item.itemId,
      held_at: T1,
    });
    const dueHolds = await store.listDueHolds(new Date(HOLD_DUE), 1000);
    expect(dueHolds.filter((due) => due.cartId === cart.cartId)).toEqual([
      expect.objectContaining({ classId, swimmerId, merchantId: MERCHANT }),
    ]);
  });

  it('refuses a seat of a sold-out class with sold_out on class_id', async () => {
    // Prepare
    const classId = await newClass(1);
    const first = await newFamily();
    await hold(await openCart(first.accountId), first.accountId, line(CartItemAction.Register, first.swimmerId, classId));
    const second = await newFamily();
    const cart = await openCart(second.accountId);

    // Act
    const refused = hold(cart, second.accountId, line(CartItemAction.Register, second.swimmerId, classId));

    // Assert
    await expect(refused).rejects.toMatchObject({ name: 'SoldOutError', code: 'sold_out', field: 'class_id' });
    expect(await seats(classId)).toEqual({ remain: 0, held: 1, students: 0 });
    expect((await read(cart.cartId)).items).toEqual([]);
  });

  it('refuses the same swimmer and class twice with already_registered', async () => {
    // Prepare
    const classId = await newClass(5);
    const { accountId, swimmerId } = await newFamily();
    const cart = await openCart(accountId);
    await hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId));

    // Act
    const again = hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId));

    // Assert
    await expect(again).rejects.toMatchObject({ name: 'AlreadyRegisteredError', field: 'swimmer_id' });
    expect(await seats(classId)).toEqual({ remain: 4, held: 1, students: 0 });
  });

  it('refuses a swimmer the account does not have with not_found on swimmer_id', async () => {
    // Prepare
    const classId = await newClass(5);
    const { accountId } = await newFamily();
    const cart = await openCart(accountId);

    // Act
    const refused = hold(cart, accountId, line(CartItemAction.Register, 'swm_none', classId));

    // Assert
    await expect(refused).rejects.toMatchObject({ name: 'NotFoundError', field: 'swimmer_id' });
    expect(await seats(classId)).toEqual({ remain: 5, held: 0, students: 0 });
  });

  it('refuses a class in another currency than the cart with currency_mismatch', async () => {
    // Prepare
    const usd = await newClass(5);
    const eur = await newClass(5, 'EUR' as Currency);
    const { accountId, swimmerId } = await newFamily();
    const cart = await openCart(accountId);
    await hold(cart, accountId, line(CartItemAction.Register, swimmerId, usd));

    // Act
    const euros = line(CartItemAction.Register, swimmerId, eur);
    const refused = store.holdSeat(edit(cart, 'EUR' as Currency), accountId, euros, HOLD_DUE);

    // Assert
    await expect(refused).rejects.toMatchObject({ name: 'CurrencyMismatchError', field: 'class_id' });
    expect(await seats(eur)).toEqual({ remain: 5, held: 0, students: 0 });
  });

  it('refuses an edit of a cart checking out with cart_locked', async () => {
    // Prepare
    const classId = await newClass(5);
    const { accountId, swimmerId } = await newFamily();
    const cart = await openCart(accountId);
    await hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId));
    await store.lockForCheckout(await checkingOut(cart.cartId), 0);
    const other = await newClass(5);

    // Act
    const refused = hold(cart, accountId, line(CartItemAction.Register, swimmerId, other));

    // Assert
    await expect(refused).rejects.toMatchObject({ name: 'CartLockedError', field: 'cart_id' });
    expect(await seats(other)).toEqual({ remain: 5, held: 0, students: 0 });
  });

  it('gives 30 buyers racing for 10 seats exactly 10 seats and 20 sold_out', async () => {
    // Prepare
    const classId = await newClass(10);
    const buyers = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const family = await newFamily();
        return { ...family, cart: await openCart(family.accountId) };
      }),
    );

    // Act
    const outcomes = await Promise.allSettled(
      buyers.map(({ cart, accountId, swimmerId }) => hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId))),
    );

    // Assert
    const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as Error] : []));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(10);
    expect(refusals).toHaveLength(20);
    expect(refusals.every((error) => error.name === 'SoldOutError')).toBe(true);
    expect(await seats(classId)).toEqual({ remain: 0, held: 10, students: 0 });
  });

  it('releases an item: the line gone, its hold gone, the seat back to remaining', async () => {
    // Prepare
    const classId = await newClass(2);
    const { accountId, swimmerId } = await newFamily();
    const cart = await openCart(accountId);
    const item = await hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId));

    // Act
    await store.releaseItem(edit(cart), item);
    const again = store.releaseItem(edit(cart), item);

    // Assert
    await expect(again).rejects.toMatchObject({ name: 'NotFoundError', field: 'item_id' });
    expect(await seats(classId)).toEqual({ remain: 2, held: 0, students: 0 });
    expect((await read(cart.cartId)).items).toEqual([]);
    expect(await holdItem(classId, cart.cartId, swimmerId)).toBeUndefined();
  });

  it('releases a hold exactly once', async () => {
    // Prepare
    const classId = await newClass(2);
    const { accountId, swimmerId } = await newFamily();
    const cart = await openCart(accountId);
    await hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId));
    const seatHold = { classId, cartId: cart.cartId, swimmerId };

    // Act
    const first = await store.releaseHold(seatHold, MERCHANT);
    const second = await store.releaseHold(seatHold, MERCHANT);

    // Assert
    expect([first, second]).toEqual([true, false]);
    expect(await seats(classId)).toEqual({ remain: 2, held: 0, students: 0 });
  });
});

describe('DynamoSchoolStore: checkout', () => {
  it('refuses a checkout the points do not cover, and changes nothing', async () => {
    // Prepare
    const classId = await newClass(2);
    const { accountId, swimmerId } = await newFamily();
    await store.grantPoints(MERCHANT, { grantNo: unique('grant'), accountId, amount: 100, reason: 'welcome', createdAt: T0 });
    const cart = await openCart(accountId);
    await hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId));
    const before = await read(cart.cartId);

    // Act
    const refused = store.lockForCheckout(await checkingOut(cart.cartId, 101), 101);

    // Assert
    await expect(refused).rejects.toMatchObject({ name: 'InsufficientPointsError', field: 'points' });
    expect(await read(cart.cartId)).toEqual(before);
    expect(await store.getAccount(MERCHANT, accountId)).toMatchObject({ pointsBalance: 100, pointsSpent: 0 });
  });

  it('spends the points with the lock and gives them back with a reopen', async () => {
    // Prepare
    const classId = await newClass(2);
    const { accountId, swimmerId } = await newFamily();
    await store.grantPoints(MERCHANT, { grantNo: unique('grant'), accountId, amount: 100, reason: 'welcome', createdAt: T0 });
    const cart = await openCart(accountId);
    await hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId));

    // Act
    await store.lockForCheckout(await checkingOut(cart.cartId, 60), 60);
    const locked = await store.getAccount(MERCHANT, accountId);
    const reopening = await transition(cart.cartId, { status: CartStatus.Pending, lastFailure: 'card_declined' }, HOLDS_EXPIRE);
    await store.reopen(reopening, 60);

    // Assert
    expect(locked).toMatchObject({ pointsBalance: 40, pointsSpent: 60 });
    expect(await store.getAccount(MERCHANT, accountId)).toMatchObject({
      pointsBalance: 100,
      pointsGranted: 100,
      pointsSpent: 60,
      pointsReturned: 60,
    });
    expect(await read(cart.cartId)).toMatchObject({ status: CartStatus.Pending, version: 4, lastFailure: 'card_declined' });
  });

  it('refuses a move from a version the cart has left with concurrent_modification', async () => {
    // Prepare
    const classId = await newClass(2);
    const { accountId, swimmerId } = await newFamily();
    const cart = await openCart(accountId);
    const stale = await transition(cart.cartId, { status: CartStatus.Canceling });
    await hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId));

    // Act
    const refused = store.moveCart(stale);

    // Assert
    await expect(refused).rejects.toMatchObject({ name: 'ConcurrentModification', code: 'concurrent_modification' });
    expect((await read(cart.cartId)).status).toBe(CartStatus.Pending);
  });

  it('applies a purchase once: a repeat of the same purchase passes', async () => {
    // Prepare
    const classId = await newClass(2);
    const { accountId, swimmerId } = await newFamily();
    const cart = await openCart(accountId);
    await hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId));
    await store.lockForCheckout(await checkingOut(cart.cartId), 0);
    const purchaseKey = `in_store:${cart.cartId}:1`;
    const write = await transition(cart.cartId, { status: CartStatus.Applied, purchaseKey }, T1);
    const purchase: Purchase = {
      merchantId: MERCHANT,
      accountId,
      purchaseKey,
      cartId: cart.cartId,
      attempt: 1,
      currency: USD,
      total: PRICE,
      cardAmount: PRICE,
      points: 0,
      items: write.cart.items,
      createdAt: T1,
    };

    // Act
    await store.applyPurchase(write, purchase);
    await store.applyPurchase(write, purchase);

    // Assert
    expect(await read(cart.cartId)).toMatchObject({ status: CartStatus.Applied, purchaseKey });
    expect(await store.listPurchases(MERCHANT, accountId)).toEqual([purchase]);
  });

  it('fulfils a register: seat held -> student, the class on the swimmer, once', async () => {
    // Prepare
    const classId = await newClass(3);
    const { accountId, swimmerId } = await newFamily();
    const cart = await openCart(accountId);
    await hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId));

    // Act
    const purchase = await buy(cart.cartId);
    const done = await read(cart.cartId);
    await store.fulfilItem({ ...done, status: CartStatus.Applied }, { ...done.items[0]!, fulfilled: false }, purchase, T1);

    // Assert
    expect(await seats(classId)).toEqual({ remain: 2, held: 0, students: 1 });
    expect(done.items[0]?.fulfilled).toBe(true);
    expect(await store.getStudent(MERCHANT, classId, accountId, swimmerId)).toEqual({
      classId,
      accountId,
      swimmerId,
      paid: PRICE,
      purchaseKey: purchase.purchaseKey,
      enrolledAt: T1,
    });
    expect(await classesOf(accountId, swimmerId)).toEqual([classId]);
    expect(await holdItem(classId, cart.cartId, swimmerId)).toBeUndefined();
  });

  it('fulfils a change: a seat held -> student in the new class, the old seat back to remaining', async () => {
    // Prepare
    const from = await newClass(3);
    const to = await newClass(3);
    const { accountId, swimmerId } = await newFamily();
    await hold(await openCart(accountId), accountId, line(CartItemAction.Register, swimmerId, from));
    await buy((await store.getAccount(MERCHANT, accountId))!.activeCartId!);
    const cart = await openCart(accountId);
    const change = line(CartItemAction.Change, swimmerId, to, { fromClassId: from, amount: 200 });
    await hold(cart, accountId, change);
    expect(await seats(to)).toEqual({ remain: 2, held: 1, students: 0 });

    // Act
    await buy(cart.cartId);

    // Assert
    expect(await seats(from)).toEqual({ remain: 3, held: 0, students: 0 });
    expect(await seats(to)).toEqual({ remain: 2, held: 0, students: 1 });
    expect(await store.getStudent(MERCHANT, from, accountId, swimmerId)).toBeUndefined();
    expect((await store.getStudent(MERCHANT, to, accountId, swimmerId))?.paid).toBe(PRICE + 200);
    expect(await classesOf(accountId, swimmerId)).toEqual([to]);
  });

  it('fulfils a cancel: the student gone, the seat back to remaining, the class off the swimmer', async () => {
    // Prepare
    const classId = await newClass(3);
    const kept = await newClass(3);
    const { accountId, swimmerId } = await newFamily();
    const first = await openCart(accountId);
    await hold(first, accountId, line(CartItemAction.Register, swimmerId, classId));
    await hold(first, accountId, line(CartItemAction.Register, swimmerId, kept));
    await buy(first.cartId);
    const cart = await openCart(accountId);
    await store.addCancel(edit(cart), accountId, line(CartItemAction.Cancel, swimmerId, classId));

    // Act
    await buy(cart.cartId);

    // Assert
    expect(await seats(classId)).toEqual({ remain: 3, held: 0, students: 0 });
    expect(await seats(kept)).toEqual({ remain: 2, held: 0, students: 1 });
    expect(await classesOf(accountId, swimmerId)).toEqual([kept]);
  });

  it('refuses a cancel of a class the swimmer is not in with not_registered', async () => {
    // Prepare
    const classId = await newClass(3);
    const { accountId, swimmerId } = await newFamily();
    const cart = await openCart(accountId);

    // Act
    const refused = store.addCancel(edit(cart), accountId, line(CartItemAction.Cancel, swimmerId, classId));

    // Assert
    await expect(refused).rejects.toMatchObject({ name: 'NotRegisteredError', field: 'class_id' });
  });

  it('finishes a cart: out of the due index, and the account free to open another', async () => {
    // Prepare
    const classId = await newClass(3);
    const { accountId, swimmerId } = await newFamily();
    const cart = await openCart(accountId);
    await hold(cart, accountId, line(CartItemAction.Register, swimmerId, classId));

    // Act
    await buy(cart.cartId);

    // Assert
    expect((await store.getAccount(MERCHANT, accountId))?.activeCartId).toBeUndefined();
    const due = await store.listDueCarts(new Date('2027-01-01T00:00:00.000Z'), 1000);
    expect(due.map((unfinished) => unfinished.cartId)).not.toContain(cart.cartId);
    expect((await openCart(accountId)).cartId).not.toBe(cart.cartId);
  });

  it('credits the points a finished cart pays back in the same write, once', async () => {
    // Prepare
    const { accountId } = await newFamily();
    const cart = await openCart(accountId);
    const finishing = await transition(cart.cartId, { status: CartStatus.Done });

    // Act
    await store.finishCart(finishing, 7);
    const repeated = store.finishCart(finishing, 7);

    // Assert
    await expect(repeated).rejects.toMatchObject({ code: 'concurrent_modification' });
    expect(await store.getAccount(MERCHANT, accountId)).toMatchObject({
      pointsBalance: 7,
      pointsReturned: 7,
      pointsGranted: 0,
      pointsSpent: 0,
    });
    expect((await store.getAccount(MERCHANT, accountId))?.activeCartId).toBeUndefined();
  });
});

describe('DynamoSchoolStore: transactions that meet another in flight', () => {
  // DynamoDB Local runs transactions one at a time and never reports a conflict: a mocked client does.
  const conflict = () =>
    new TransactionCanceledException({
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
      $metadata: {},
      CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
    });
  const mocked = () => {
    const db = createDocumentClient(new DynamoDBClient({ ...localClientConfig, endpoint: 'http://127.0.0.1:9' }));
    return { db, mock: mockClient(db) };
  };
  const seatHold = { classId: 'cls_1', cartId: 'cart_1', swimmerId: 'swm_1' };

  it('sends the transaction again until it commits', async () => {
    // Prepare
    const { db, mock } = mocked();
    mock.on(TransactWriteCommand).rejectsOnce(conflict()).rejectsOnce(conflict()).resolves({});

    // Act
    const released = await new DynamoSchoolStore(db, 'table').releaseHold(seatHold, MERCHANT);

    // Assert
    expect(released).toBe(true);
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('gives up after conflictRetries with a concurrent_modification worth retrying', async () => {
    // Prepare
    const { db, mock } = mocked();
    mock.on(TransactWriteCommand).rejects(conflict());

    // Act
    const refused = new DynamoSchoolStore(db, 'table', { conflictRetries: 2 }).releaseHold(seatHold, MERCHANT);

    // Assert
    await expect(refused).rejects.toMatchObject({ name: 'ConcurrentModification', retryAfterSeconds: 1 });
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });
});
