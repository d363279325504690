import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type Account,
  type Cart,
  type CartItem,
  CartStatus,
  type Purchase,
  type SeatHold,
  type SwimClass,
  itemIdFor,
  lineOrder,
} from '../../functions/domain/carts/model.ts';
import type { CartEdit, CartWrite, CommitResult, NamedWrites, SchoolStore } from '../../functions/domain/carts/store.ts';
import type { Currency } from '../../functions/domain/money.ts';

/**
 * The SchoolStore's contract: every kind of write's precondition and effect, refusals reported
 * per write with the item as it now is, all-or-nothing commits. The DynamoDB adapter runs it on
 * DynamoDB Local (test/adapters/), the in-memory store in the unit project: passing the same
 * suite is what makes the in-memory store as strict as DynamoDB.
 */
export interface SchoolStoreUnderTest {
  readonly store: SchoolStore;
  /** A hold as stored, with its due time: no port read returns one. */
  peekHold(merchantId: string, classId: string, cartId: string, swimmerId: string): Promise<{ hold: SeatHold; dueAt?: string } | undefined>;
}

const MERCHANT = 'merchant_contract';
const OTHER_MERCHANT = 'merchant_other';
const USD = 'USD' as Currency;
const EUR = 'EUR' as Currency;
const T0 = '2026-11-23T10:00:00.000Z';
const T1 = '2026-11-23T10:01:00.000Z';
const EXPIRES = '2026-11-23T10:30:00.000Z';
const LATER = '2026-11-23T11:00:00.000Z';

export function describeSchoolStoreContract(name: string, setUp: () => SchoolStoreUnderTest): void {
  let subject: SchoolStoreUnderTest;
  let store: SchoolStore;

  beforeEach(() => {
    subject = setUp();
    store = subject.store;
  });

  const unique = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

  async function committed(writes: NamedWrites): Promise<void> {
    expect(await store.commit(writes)).toEqual({ status: 'committed' });
  }

  async function refused<W extends NamedWrites>(writes: W) {
    const result: CommitResult<W> = await store.commit(writes);
    if (result.status !== 'refused') throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
    return result.refused;
  }

  async function aClass(seats: number, fields: Partial<SwimClass> = {}): Promise<SwimClass> {
    const swimClass: SwimClass = {
      merchantId: MERCHANT,
      classId: unique('cls'),
      name: 'Tadpoles',
      seatsTotal: seats,
      seatsRemain: seats,
      seatsHeld: 0,
      students: 0,
      price: 1500,
      currency: USD,
      createdAt: T0,
      ...fields,
    };
    await committed({ class: { kind: 'putClass', swimClass } });
    return swimClass;
  }

  async function anAccount(fields: Partial<Account> = {}): Promise<Account> {
    const account: Account = {
      merchantId: MERCHANT,
      accountId: unique('acc'),
      email: 'parent@example.com',
      pointsBalance: 0,
      pointsGranted: 0,
      pointsSpent: 0,
      pointsReturned: 0,
      createdAt: T0,
      ...fields,
    };
    await committed({ account: { kind: 'putAccount', account } });
    return account;
  }

  async function aSwimmer(accountId: string, classIds: string[] = []) {
    const swimmer = { accountId, swimmerId: unique('swm'), name: 'Nemo', classIds, createdAt: T0 };
    await committed({ swimmer: { kind: 'putSwimmer', merchantId: MERCHANT, swimmer } });
    return swimmer;
  }

  async function aCart(fields: Partial<Cart> = {}, dueAt: string | undefined = T0): Promise<Cart> {
    const cart: Cart = {
      merchantId: MERCHANT,
      cartId: unique('cart'),
      accountId: unique('acc'),
      status: CartStatus.Active,
      version: 1,
      items: [],
      attempt: 0,
      createdAt: T0,
      updatedAt: T0,
      ...fields,
    };
    await committed({ cart: { kind: 'putCart', cart, dueAt } });
    return cart;
  }

  const line = (classId: string, fields: Partial<CartItem> = {}): CartItem => ({
    itemId: itemIdFor('register', 'swm_1', classId),
    action: 'register',
    swimmerId: 'swm_1',
    classId,
    amount: 1500,
    seatPrice: 1500,
    heldAt: T1,
    ...fields,
  });

  const edit = (cart: Cart, fields: Partial<CartEdit> = {}): CartEdit => ({
    merchantId: cart.merchantId,
    cartId: cart.cartId,
    now: T1,
    holdsExpireAt: EXPIRES,
    currency: USD,
    ...fields,
  });

  const aHold = (swimClass: SwimClass, cartId = unique('cart')): SeatHold => ({
    classId: swimClass.classId,
    cartId,
    accountId: 'acc_1',
    swimmerId: unique('swm'),
    itemId: 'itm_1',
    heldAt: T1,
  });

  const seatsOf = async (swimClass: SwimClass) => {
    const stored = await store.getClass(MERCHANT, swimClass.classId);
    return stored && { remain: stored.seatsRemain, held: stored.seatsHeld, students: stored.students };
  };

  const dueCartIds = async (now = LATER) => (await store.listDueCarts(new Date(now), 10_000)).map((cart) => cart.cartId);

  describe(`SchoolStore contract (${name}): classes and seats`, () => {
    it('puts a class once: a second put is refused with the class stored, and writes nothing', async () => {
      const swimClass = await aClass(5);

      const again = await refused({ class: { kind: 'putClass', swimClass: { ...swimClass, name: 'Sharks' } } });

      expect(again).toEqual({ class: { current: swimClass } });
      expect(await store.getClass(MERCHANT, swimClass.classId)).toEqual(swimClass);
    });

    it('moves a seat from one place of a class to another', async () => {
      const swimClass = await aClass(3);

      await committed({ seat: { kind: 'moveSeat', merchantId: MERCHANT, classId: swimClass.classId, from: 'seatsRemain', to: 'seatsHeld' } });
      await committed({ seat: { kind: 'moveSeat', merchantId: MERCHANT, classId: swimClass.classId, from: 'seatsHeld', to: 'students' } });

      expect(await seatsOf(swimClass)).toEqual({ remain: 2, held: 0, students: 1 });
    });

    it('refuses to move a seat from an empty place, reporting the class as it is', async () => {
      const swimClass = await aClass(1);

      const empty = await refused({ seat: { kind: 'moveSeat', merchantId: MERCHANT, classId: swimClass.classId, from: 'seatsHeld', to: 'seatsRemain' } });

      expect(empty).toEqual({ seat: { current: swimClass } });
      expect(await seatsOf(swimClass)).toEqual({ remain: 1, held: 0, students: 0 });
    });

    it('refuses to move a seat of a class that does not exist, or of another merchant, reporting it absent', async () => {
      const swimClass = await aClass(1);

      const missing = await refused({ seat: { kind: 'moveSeat', merchantId: MERCHANT, classId: 'cls_none', from: 'seatsRemain', to: 'seatsHeld' } });
      const foreign = await refused({
        seat: { kind: 'moveSeat', merchantId: OTHER_MERCHANT, classId: swimClass.classId, from: 'seatsRemain', to: 'seatsHeld' },
      });

      expect(missing).toEqual({ seat: { current: undefined } });
      expect(foreign).toEqual({ seat: { current: undefined } });
      expect(await store.getClass(OTHER_MERCHANT, swimClass.classId)).toBeUndefined();
    });
  });

  describe(`SchoolStore contract (${name}): holds`, () => {
    it('puts a hold once, due to the schedule at its due time, counted in its class', async () => {
      const swimClass = await aClass(3);
      const hold = aHold(swimClass);

      await committed({ hold: { kind: 'putHold', merchantId: MERCHANT, hold, dueAt: T1 } });
      const again = await refused({ hold: { kind: 'putHold', merchantId: MERCHANT, hold: { ...hold, itemId: 'itm_2' }, dueAt: LATER } });

      expect(again).toEqual({ hold: { current: hold } });
      expect(await subject.peekHold(MERCHANT, swimClass.classId, hold.cartId, hold.swimmerId)).toEqual({ hold, dueAt: T1 });
      expect(await store.countSeats(MERCHANT, swimClass.classId)).toEqual({ held: 1, students: 0 });
      const due = await store.listDueHolds(new Date(T1), 10_000);
      expect(due.filter((each) => each.cartId === hold.cartId)).toEqual([{ ...hold, merchantId: MERCHANT }]);
    });

    it('deletes a hold that exists, off the schedule; refuses to delete it twice, reporting it absent', async () => {
      const swimClass = await aClass(3);
      const hold = aHold(swimClass);
      await committed({ hold: { kind: 'putHold', merchantId: MERCHANT, hold, dueAt: T1 } });
      const key = { merchantId: MERCHANT, classId: swimClass.classId, cartId: hold.cartId, swimmerId: hold.swimmerId };

      await committed({ hold: { kind: 'deleteHold', ...key } });
      const twice = await refused({ hold: { kind: 'deleteHold', ...key } });

      expect(twice).toEqual({ hold: { current: undefined } });
      expect(await subject.peekHold(MERCHANT, swimClass.classId, hold.cartId, hold.swimmerId)).toBeUndefined();
      expect((await store.listDueHolds(new Date(LATER), 10_000)).filter((each) => each.cartId === hold.cartId)).toEqual([]);
    });

    it('postpones a hold that exists; refuses one that was released', async () => {
      const swimClass = await aClass(3);
      const hold = aHold(swimClass);
      await committed({ hold: { kind: 'putHold', merchantId: MERCHANT, hold, dueAt: T1 } });
      const key = { merchantId: MERCHANT, classId: swimClass.classId, cartId: hold.cartId, swimmerId: hold.swimmerId };

      await committed({ hold: { kind: 'postponeHold', ...key, dueAt: LATER } });
      const released = await refused({ hold: { kind: 'postponeHold', ...key, cartId: 'cart_none', dueAt: LATER } });

      expect(released).toEqual({ hold: { current: undefined } });
      expect(await subject.peekHold(MERCHANT, swimClass.classId, hold.cartId, hold.swimmerId)).toEqual({ hold, dueAt: LATER });
      expect((await store.listDueHolds(new Date(T1), 10_000)).filter((each) => each.cartId === hold.cartId)).toEqual([]);
    });
  });

  describe(`SchoolStore contract (${name}): students`, () => {
    it('puts a student once, requires it present or absent, and deletes it once', async () => {
      const swimClass = await aClass(3);
      const student = { classId: swimClass.classId, accountId: 'acc_1', swimmerId: unique('swm'), paid: 1500, purchaseKey: 'pi_1', enrolledAt: T1 };
      const key = { merchantId: MERCHANT, classId: swimClass.classId, accountId: 'acc_1', swimmerId: student.swimmerId };

      const absentBefore = await refused({ student: { kind: 'requireStudent', ...key, present: true } });
      await committed({ student: { kind: 'putStudent', merchantId: MERCHANT, student } });
      const twice = await refused({ student: { kind: 'putStudent', merchantId: MERCHANT, student: { ...student, paid: 1 } } });
      await committed({ student: { kind: 'requireStudent', ...key, present: true } });
      const present = await refused({ student: { kind: 'requireStudent', ...key, present: false } });
      const counted = await store.countSeats(MERCHANT, swimClass.classId);
      await committed({ student: { kind: 'deleteStudent', ...key } });
      const deletedTwice = await refused({ student: { kind: 'deleteStudent', ...key } });

      expect(absentBefore).toEqual({ student: { current: undefined } });
      expect(twice).toEqual({ student: { current: student } });
      expect(present).toEqual({ student: { current: student } });
      expect(counted).toEqual({ held: 0, students: 1 });
      expect(deletedTwice).toEqual({ student: { current: undefined } });
      expect(await store.getStudent(MERCHANT, swimClass.classId, 'acc_1', student.swimmerId)).toBeUndefined();
      await committed({ student: { kind: 'requireStudent', ...key, present: false } });
    });
  });

  describe(`SchoolStore contract (${name}): accounts and points`, () => {
    it('puts an account as given, once: a second put is refused with the first', async () => {
      const account = await anAccount({ pointsBalance: 7, pointsGranted: 7 });

      const again = await refused({ account: { kind: 'putAccount', account: { ...account, email: 'other@example.com' } } });

      expect(again).toEqual({ account: { current: account } });
      expect(await store.getAccount(MERCHANT, account.accountId)).toEqual(account);
      expect(await store.getAccount(OTHER_MERCHANT, account.accountId)).toBeUndefined();
    });

    it('grants, spends and returns points, each moving the balance and its own total', async () => {
      const { accountId } = await anAccount();
      const points = (change: 'grant' | 'spend' | 'return', amount: number) =>
        ({ account: { kind: 'points', merchantId: MERCHANT, accountId, change, points: amount } }) as const;

      await committed(points('grant', 100));
      await committed(points('spend', 60));
      await committed(points('return', 25));
      await committed(points('spend', 65));

      expect(await store.getAccount(MERCHANT, accountId)).toMatchObject({
        pointsBalance: 0,
        pointsGranted: 100,
        pointsSpent: 125,
        pointsReturned: 25,
      });
    });

    it('refuses a spend the balance does not cover, reporting the account as it is', async () => {
      const account = await anAccount({ pointsBalance: 50, pointsGranted: 50 });

      const short = await refused({ account: { kind: 'points', merchantId: MERCHANT, accountId: account.accountId, change: 'spend', points: 51 } });

      expect(short).toEqual({ account: { current: account } });
      expect(await store.getAccount(MERCHANT, account.accountId)).toEqual(account);
    });

    it.each(['grant', 'spend', 'return'] as const)('refuses to %s points of an account that does not exist', async (change) => {
      const missing = await refused({ account: { kind: 'points', merchantId: MERCHANT, accountId: 'acc_none', change, points: 0 } });
      const absent = await refused({ account: { kind: 'requireAccount', merchantId: MERCHANT, accountId: 'acc_none' } });

      expect(missing).toEqual({ account: { current: undefined } });
      expect(absent).toEqual({ account: { current: undefined } });
    });

    it("opens an account's cart only when it names none, and closes it only when it names that cart", async () => {
      const account = await anAccount();
      const { accountId } = account;

      await committed({ account: { kind: 'openAccountCart', merchantId: MERCHANT, accountId, cartId: 'cart_1' } });
      const second = await refused({ account: { kind: 'openAccountCart', merchantId: MERCHANT, accountId, cartId: 'cart_2' } });
      const notThat = await refused({ account: { kind: 'closeAccountCart', merchantId: MERCHANT, accountId, cartId: 'cart_2', returnPoints: 0 } });
      await committed({ account: { kind: 'closeAccountCart', merchantId: MERCHANT, accountId, cartId: 'cart_1', returnPoints: 9 } });
      const closedTwice = await refused({
        account: { kind: 'closeAccountCart', merchantId: MERCHANT, accountId, cartId: 'cart_1', returnPoints: 9 },
      });
      const noAccount = await refused({ account: { kind: 'openAccountCart', merchantId: MERCHANT, accountId: 'acc_none', cartId: 'cart_1' } });

      expect(second).toEqual({ account: { current: { ...account, activeCartId: 'cart_1' } } });
      expect(notThat).toEqual({ account: { current: { ...account, activeCartId: 'cart_1' } } });
      expect(closedTwice).toEqual({ account: { current: { ...account, pointsBalance: 9, pointsReturned: 9 } } });
      expect(noAccount).toEqual({ account: { current: undefined } });
      expect(await store.getAccount(MERCHANT, accountId)).toEqual({ ...account, pointsBalance: 9, pointsReturned: 9 });
    });
  });

  describe(`SchoolStore contract (${name}): swimmers, grants, purchases`, () => {
    it('puts a swimmer once and requires one to exist', async () => {
      const { accountId } = await anAccount();
      const swimmer = await aSwimmer(accountId, ['cls_b', 'cls_a']);

      const again = await refused({ swimmer: { kind: 'putSwimmer', merchantId: MERCHANT, swimmer: { ...swimmer, name: 'Dory' } } });
      const missing = await refused({ swimmer: { kind: 'requireSwimmer', merchantId: MERCHANT, accountId, swimmerId: 'swm_none' } });
      await committed({ swimmer: { kind: 'requireSwimmer', merchantId: MERCHANT, accountId, swimmerId: swimmer.swimmerId } });

      const stored = { ...swimmer, classIds: ['cls_a', 'cls_b'] };
      expect(again).toEqual({ swimmer: { current: stored } });
      expect(missing).toEqual({ swimmer: { current: undefined } });
      expect(await store.getSwimmer(MERCHANT, accountId, swimmer.swimmerId)).toEqual(stored);
    });

    it('lists the swimmers of an account by id', async () => {
      const { accountId } = await anAccount();
      const swimmers = [await aSwimmer(accountId), await aSwimmer(accountId), await aSwimmer(accountId)];

      const listed = await store.listSwimmers(MERCHANT, accountId);

      expect(listed.map((s) => s.swimmerId)).toEqual(swimmers.map((s) => s.swimmerId).sort());
      expect(await store.listSwimmers(OTHER_MERCHANT, accountId)).toEqual([]);
    });

    it("adds and removes one class of a swimmer's, and refuses both for a swimmer that does not exist", async () => {
      const { accountId } = await anAccount();
      const { swimmerId } = await aSwimmer(accountId, ['cls_a']);
      const key = { merchantId: MERCHANT, accountId, swimmerId };

      await committed({ swimmer: { kind: 'addSwimmerClass', ...key, classId: 'cls_b' } });
      await committed({ swimmer: { kind: 'addSwimmerClass', ...key, classId: 'cls_b' } });
      const both = (await store.getSwimmer(MERCHANT, accountId, swimmerId))?.classIds;
      await committed({ swimmer: { kind: 'removeSwimmerClass', ...key, classId: 'cls_a' } });
      await committed({ swimmer: { kind: 'removeSwimmerClass', ...key, classId: 'cls_b' } });
      const missingAdd = await refused({ swimmer: { kind: 'addSwimmerClass', ...key, swimmerId: 'swm_none', classId: 'cls_a' } });
      const missingRemove = await refused({ swimmer: { kind: 'removeSwimmerClass', ...key, swimmerId: 'swm_none', classId: 'cls_a' } });

      expect(both).toEqual(['cls_a', 'cls_b']);
      expect((await store.getSwimmer(MERCHANT, accountId, swimmerId))?.classIds).toEqual([]);
      expect(missingAdd).toEqual({ swimmer: { current: undefined } });
      expect(missingRemove).toEqual({ swimmer: { current: undefined } });
    });

    it("replaces a swimmer's classes only while they are the set read, in any order", async () => {
      const { accountId } = await anAccount();
      const swimmer = await aSwimmer(accountId, ['cls_a', 'cls_b']);
      const key = { merchantId: MERCHANT, accountId, swimmerId: swimmer.swimmerId };

      const stale = await refused({ swimmer: { kind: 'replaceSwimmerClasses', ...key, read: ['cls_a'], classIds: ['cls_c'] } });
      await committed({ swimmer: { kind: 'replaceSwimmerClasses', ...key, read: ['cls_b', 'cls_a'], classIds: ['cls_c', 'cls_a'] } });
      const replaced = (await store.getSwimmer(MERCHANT, accountId, swimmer.swimmerId))?.classIds;
      await committed({ swimmer: { kind: 'replaceSwimmerClasses', ...key, read: ['cls_a', 'cls_c'], classIds: [] } });
      const emptyStale = await refused({ swimmer: { kind: 'replaceSwimmerClasses', ...key, read: ['cls_a'], classIds: ['cls_d'] } });
      await committed({ swimmer: { kind: 'replaceSwimmerClasses', ...key, read: [], classIds: ['cls_d'] } });
      const missing = await refused({ swimmer: { kind: 'replaceSwimmerClasses', ...key, swimmerId: 'swm_none', read: [], classIds: ['cls_d'] } });

      expect(stale).toEqual({ swimmer: { current: { ...swimmer, classIds: ['cls_a', 'cls_b'] } } });
      expect(replaced).toEqual(['cls_a', 'cls_c']);
      expect(emptyStale).toEqual({ swimmer: { current: { ...swimmer, classIds: [] } } });
      expect(missing).toEqual({ swimmer: { current: undefined } });
      expect((await store.getSwimmer(MERCHANT, accountId, swimmer.swimmerId))?.classIds).toEqual(['cls_d']);
    });

    it('puts a points grant once, refusing a second with the first', async () => {
      const { accountId } = await anAccount();
      const grant = { grantNo: unique('pts'), accountId, amount: 300, reason: 'welcome', createdAt: T1 };

      await committed({ grant: { kind: 'putGrant', merchantId: MERCHANT, grant } });
      const again = await refused({ grant: { kind: 'putGrant', merchantId: MERCHANT, grant: { ...grant, amount: 1 } } });

      expect(again).toEqual({ grant: { current: grant } });
    });

    it('puts a purchase once, refusing a second with the first, and lists purchases oldest first', async () => {
      const { accountId } = await anAccount();
      const purchase = (purchaseKey: string, createdAt: string): Purchase => ({
        merchantId: MERCHANT,
        accountId,
        purchaseKey,
        cartId: 'cart_1',
        attempt: 1,
        paymentNo: 'pay_1',
        currency: USD,
        total: 1500,
        cardAmount: 1000,
        points: 500,
        items: [line('cls_1', { fulfilled: true })],
        createdAt,
      });
      const [newer, older] = [purchase('pi_a', LATER), purchase('pi_b', T1)];

      await committed({ purchase: { kind: 'putPurchase', purchase: newer } });
      await committed({ purchase: { kind: 'putPurchase', purchase: older } });
      const again = await refused({ purchase: { kind: 'putPurchase', purchase: { ...newer, total: 1 } } });

      expect(again).toEqual({ purchase: { current: newer } });
      expect(await store.listPurchases(MERCHANT, accountId)).toEqual([older, newer]);
      expect(await store.listPurchases(OTHER_MERCHANT, accountId)).toEqual([]);
    });
  });

  describe(`SchoolStore contract (${name}): carts`, () => {
    it("puts a cart once, due when asked; another merchant's cart reads as absent", async () => {
      const cart = await aCart({}, T1);

      const again = await refused({ cart: { kind: 'putCart', cart: { ...cart, status: CartStatus.Done } } });

      expect(again).toEqual({ cart: { current: cart } });
      expect(await store.getCart(MERCHANT, cart.cartId)).toEqual(cart);
      expect(await store.getCart(OTHER_MERCHANT, cart.cartId)).toBeUndefined();
      expect(await dueCartIds(T1)).toContain(cart.cartId);
      expect(await dueCartIds(T0)).not.toContain(cart.cartId);
    });

    it('adds a line holding a seat: the cart pending, its version up, its currency and hold expiry set once, due then', async () => {
      const cart = await aCart({}, LATER);
      const first = line('cls_1');
      const second = line('cls_2', { heldAt: T0 });

      await committed({ cart: { kind: 'addLine', edit: edit(cart), item: first } });
      await committed({ cart: { kind: 'addLine', edit: edit(cart, { holdsExpireAt: LATER, now: LATER }), item: second } });

      expect(await store.getCart(MERCHANT, cart.cartId)).toEqual({
        ...cart,
        status: CartStatus.Pending,
        version: 3,
        currency: USD,
        holdsExpireAt: EXPIRES,
        items: [second, first],
        updatedAt: LATER,
      });
      expect(await dueCartIds(EXPIRES)).toContain(cart.cartId);
    });

    it('adds a line holding no seat without touching the due time or the hold expiry', async () => {
      const cart = await aCart({}, LATER);
      const cancel = line('cls_1', { action: 'cancel', amount: -1500, heldAt: undefined, seatPrice: undefined });

      await committed({ cart: { kind: 'addLine', edit: edit(cart, { holdsExpireAt: undefined, currency: undefined }), item: cancel } });

      expect(await store.getCart(MERCHANT, cart.cartId)).toEqual({ ...cart, status: CartStatus.Pending, version: 2, items: [cancel], updatedAt: T1 });
      expect(await dueCartIds(EXPIRES)).not.toContain(cart.cartId);
      expect(await dueCartIds(LATER)).toContain(cart.cartId);
    });

    it('refuses a line for a cart that is missing, of another merchant, not editable, with the line, or in another currency', async () => {
      const item = line('cls_1');
      const priced = await aCart({ currency: EUR });
      const withLine = await aCart({ status: CartStatus.Pending, items: [item] });
      const foreign = await aCart({ merchantId: OTHER_MERCHANT });
      const locked = await aCart({ status: CartStatus.Checking });
      const ended = await aCart({ status: CartStatus.Expired });

      const refusals = [
        await refused({ cart: { kind: 'addLine', edit: edit({ ...priced, cartId: 'cart_none' }), item } }),
        await refused({ cart: { kind: 'addLine', edit: edit({ ...foreign, merchantId: MERCHANT }), item } }),
        await refused({ cart: { kind: 'addLine', edit: edit(locked), item } }),
        await refused({ cart: { kind: 'addLine', edit: edit(ended), item } }),
        await refused({ cart: { kind: 'addLine', edit: edit(withLine), item } }),
        await refused({ cart: { kind: 'addLine', edit: edit(priced), item } }),
      ];

      expect(refusals).toEqual([undefined, foreign, locked, ended, withLine, priced].map((current) => ({ cart: { current } })));
      expect(await store.getCart(MERCHANT, priced.cartId)).toEqual(priced);
      await committed({ cart: { kind: 'addLine', edit: edit(priced, { currency: EUR }), item } });
    });

    it('removes a line of an editable cart; refuses a line it lacks, or a cart not editable', async () => {
      const item = line('cls_1');
      const cart = await aCart({ status: CartStatus.Pending, items: [item] });
      const locked = await aCart({ status: CartStatus.Checking, items: [item] });
      const removal = (target: Cart, merchantId = MERCHANT) =>
        ({ cart: { kind: 'removeLine', merchantId, cartId: target.cartId, itemId: item.itemId, now: T1 } }) as const;

      const foreign = await refused(removal(cart, OTHER_MERCHANT));
      await committed(removal(cart));
      const twice = await refused(removal(cart));
      const notEditable = await refused(removal(locked));

      const removed = { ...cart, items: [], version: 2, updatedAt: T1 };
      expect(foreign).toEqual({ cart: { current: cart } });
      expect(twice).toEqual({ cart: { current: removed } });
      expect(notEditable).toEqual({ cart: { current: locked } });
      expect(await store.getCart(MERCHANT, cart.cartId)).toEqual(removed);
    });

    it('marks a line fulfilled once, only in an applied cart, leaving the version alone', async () => {
      const item = line('cls_1');
      const applied = await aCart({ status: CartStatus.Applied, version: 4, items: [item, line('cls_2')] });
      const checking = await aCart({ status: CartStatus.Checking, items: [item] });
      const mark = (cart: Cart, itemId = item.itemId) => ({ cart: { kind: 'markFulfilled', cartId: cart.cartId, itemId, now: T1 } }) as const;

      await committed(mark(applied));
      const fulfilled = await store.getCart(MERCHANT, applied.cartId);
      const twice = await refused(mark(applied));
      const notApplied = await refused(mark(checking));
      const noLine = await refused(mark(applied, 'itm_none'));

      expect(fulfilled).toEqual({ ...applied, items: [{ ...item, fulfilled: true }, line('cls_2')].sort(lineOrder), updatedAt: T1 });
      expect(twice).toEqual({ cart: { current: fulfilled } });
      expect(notApplied).toEqual({ cart: { current: checking } });
      expect(noLine).toEqual({ cart: { current: fulfilled } });
    });

    it('marks a line fulfilled whose mark says false', async () => {
      const item = line('cls_1', { fulfilled: false });
      const applied = await aCart({ status: CartStatus.Applied, items: [item] });

      await committed({ cart: { kind: 'markFulfilled', cartId: applied.cartId, itemId: item.itemId, now: T1 } });

      expect((await store.getCart(MERCHANT, applied.cartId))?.items).toEqual([{ ...item, fulfilled: true }]);
    });

    it("updates a cart's header at the status and version read, never its lines; refuses a stale one with the cart as it is", async () => {
      const item = line('cls_1');
      const cart = await aCart({ status: CartStatus.Pending, version: 2, currency: USD, items: [item], holdsExpireAt: EXPIRES, lastFailure: 'card_declined' });
      const checking: Cart = {
        ...cart,
        status: CartStatus.Checking,
        version: 3,
        attempt: 1,
        items: [],
        currency: EUR,
        holdsExpireAt: undefined,
        lastFailure: undefined,
        checkout: { mode: 'pay_in_store', points: 0, pointValue: 1, total: 1500, cardAmount: 1500, deadline: LATER, startedAt: T1 },
        updatedAt: T1,
      };
      const write: CartWrite = { cart: checking, from: { status: CartStatus.Pending, version: 2 }, dueAt: EXPIRES };

      await committed({ cart: { kind: 'updateCart', write } });
      const stale = await refused({ cart: { kind: 'updateCart', write } });
      const missing = await refused({ cart: { kind: 'updateCart', write: { ...write, cart: { ...checking, cartId: 'cart_none' } } } });

      const { holdsExpireAt: _h, lastFailure: _l, ...rest } = checking;
      const stored = { ...rest, items: [item], currency: USD };
      expect(await store.getCart(MERCHANT, cart.cartId)).toEqual(stored);
      expect(stale).toEqual({ cart: { current: stored } });
      expect(missing).toEqual({ cart: { current: undefined } });
      expect(await dueCartIds(EXPIRES)).toContain(cart.cartId);
    });

    it('refuses a header update at the status read when an edit has moved the version on', async () => {
      const cart = await aCart({ status: CartStatus.Pending, version: 2 });
      const write: CartWrite = { cart: { ...cart, status: CartStatus.Canceling, version: 3 }, from: { status: CartStatus.Pending, version: 2 } };
      await committed({ cart: { kind: 'addLine', edit: edit(cart), item: line('cls_1') } });
      const edited = await store.getCart(MERCHANT, cart.cartId);

      const stale = await refused({ cart: { kind: 'updateCart', write } });

      expect(edited).toMatchObject({ status: CartStatus.Pending, version: 3 });
      expect(stale).toEqual({ cart: { current: edited } });
      expect(await store.getCart(MERCHANT, cart.cartId)).toEqual(edited);
    });

    it('takes a cart updated without a due time off the schedule', async () => {
      const cart = await aCart({}, T0);

      await committed({ cart: { kind: 'updateCart', write: { cart: { ...cart, status: CartStatus.Done, version: 2 }, from: { status: cart.status, version: 1 } } } });

      expect(await dueCartIds()).not.toContain(cart.cartId);
      expect(await store.getCart(MERCHANT, cart.cartId)).toMatchObject({ status: CartStatus.Done, version: 2 });
    });

    it('lists due carts oldest first, at most the limit', async () => {
      const [a, b, c] = ['2001-01-01T00:00:03.000Z', '2001-01-01T00:00:01.000Z', '2001-01-01T00:00:02.000Z'];
      const carts = [await aCart({}, a), await aCart({}, b), await aCart({}, c)];

      const due = await store.listDueCarts(new Date('2001-01-01T00:00:02.500Z'), 10);
      const first = await store.listDueCarts(new Date('2001-01-02T00:00:00.000Z'), 1);

      expect(due.map((cart) => cart.cartId)).toEqual([carts[1]!.cartId, carts[2]!.cartId]);
      expect(first.map((cart) => cart.cartId)).toEqual([carts[1]!.cartId]);
    });
  });

  describe(`SchoolStore contract (${name}): commits`, () => {
    it('writes nothing when one write is refused, and reports every refused write and only those', async () => {
      const swimClass = await aClass(1);
      const account = await anAccount();
      const hold = aHold(swimClass);
      const taken = aHold(swimClass);
      await committed({ hold: { kind: 'putHold', merchantId: MERCHANT, hold: taken, dueAt: T1 } });

      const result = await refused({
        seat: { kind: 'moveSeat', merchantId: MERCHANT, classId: swimClass.classId, from: 'seatsRemain', to: 'seatsHeld' },
        hold: { kind: 'putHold', merchantId: MERCHANT, hold, dueAt: T1 },
        taken: { kind: 'putHold', merchantId: MERCHANT, hold: taken, dueAt: T1 },
        points: { kind: 'points', merchantId: MERCHANT, accountId: account.accountId, change: 'spend', points: 1 },
        none: undefined,
      });

      expect(result).toEqual({
        taken: { current: taken },
        points: { current: account },
      });
      expect(await seatsOf(swimClass)).toEqual({ remain: 1, held: 0, students: 0 });
      expect(await subject.peekHold(MERCHANT, swimClass.classId, hold.cartId, hold.swimmerId)).toBeUndefined();
    });

    it('writes every write of a commit together', async () => {
      const swimClass = await aClass(1);
      const hold = aHold(swimClass);
      const { accountId } = await anAccount();

      await committed({
        seat: { kind: 'moveSeat', merchantId: MERCHANT, classId: swimClass.classId, from: 'seatsRemain', to: 'seatsHeld' },
        hold: { kind: 'putHold', merchantId: MERCHANT, hold, dueAt: T1 },
        account: { kind: 'points', merchantId: MERCHANT, accountId, change: 'grant', points: 5 },
      });

      expect(await seatsOf(swimClass)).toEqual({ remain: 0, held: 1, students: 0 });
      expect(await subject.peekHold(MERCHANT, swimClass.classId, hold.cartId, hold.swimmerId)).toEqual({ hold, dueAt: T1 });
      expect((await store.getAccount(MERCHANT, accountId))?.pointsBalance).toBe(5);
    });

    it('refuses two writes on one item in one commit, as DynamoDB does', async () => {
      const swimClass = await aClass(2);
      const move = { kind: 'moveSeat', merchantId: MERCHANT, classId: swimClass.classId, from: 'seatsRemain', to: 'seatsHeld' } as const;

      await expect(store.commit({ once: move, twice: move })).rejects.toThrow();

      expect(await seatsOf(swimClass)).toEqual({ remain: 2, held: 0, students: 0 });
    });

    it('gives 30 commits racing for 10 seats exactly 10 seats and 20 refusals', async () => {
      const swimClass = await aClass(10);

      const results = await Promise.all(
        Array.from({ length: 30 }, () =>
          store.commit({
            seat: { kind: 'moveSeat', merchantId: MERCHANT, classId: swimClass.classId, from: 'seatsRemain', to: 'seatsHeld' },
            hold: { kind: 'putHold', merchantId: MERCHANT, hold: aHold(swimClass), dueAt: T1 },
          }),
        ),
      );

      expect(results.filter((result) => result.status === 'committed')).toHaveLength(10);
      expect(results.filter((result) => result.status === 'refused')).toHaveLength(20);
      expect(await seatsOf(swimClass)).toEqual({ remain: 0, held: 10, students: 0 });
      expect(await store.countSeats(MERCHANT, swimClass.classId)).toEqual({ held: 10, students: 0 });
    });
  });
}
