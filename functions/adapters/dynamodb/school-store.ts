import { type AttributeValue, ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type NativeAttributeValue, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  type Account,
  type Cart,
  type CartItem,
  CartItemAction,
  CartStatus,
  editRefusal,
  type Purchase,
  type SeatHold,
  type Student,
  type SwimClass,
  type Swimmer,
} from '../../domain/carts/model.ts';
import type { CartEdit, CartWrite, Created, PointsGrant, SchoolStore } from '../../domain/carts/store.ts';
import {
  AlreadyExistsError,
  AlreadyRegisteredError,
  ChargeonceError,
  ConcurrentModificationError,
  CurrencyMismatchError,
  DatabaseThrottledError,
  InsufficientPointsError,
  NotFoundError,
  NotRegisteredError,
  SoldOutError,
} from '../../domain/errors.ts';
import { translateDynamoError } from './client.ts';
import {
  accountFromItem,
  accountPk,
  accountToItem,
  cartFromItem,
  cartToItem,
  checkoutToMap,
  classFromItem,
  classPk,
  classToItem,
  grantFromItem,
  grantToItem,
  holdFromItem,
  holdToItem,
  keys,
  lineToMap,
  purchaseFromItem,
  purchaseToItem,
  type StoredAccount,
  type StoredCart,
  type StoredClass,
  type StoredGrant,
  type StoredHold,
  type StoredPurchase,
  type StoredStudent,
  type StoredSwimmer,
  studentFromItem,
  studentToItem,
  swimmerFromItem,
  swimmerToItem,
} from './school-items.ts';
import { dueShardOf, queryDue } from './table.ts';

type Key = { pk: string; sk: string };
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Values = Record<string, NativeAttributeValue>;
type Names = Record<string, string>;
/** Where a class's seat is: each move takes one from a place and gives it to another. */
type SeatPlace = 'seats_remain' | 'seats_held' | 'students';
/** The items of a refused transaction whose condition failed, by name, each as it was (undefined: absent). */
type Refused<K extends string> = Partial<Record<K, { readonly item: Values | undefined }>>;
/** What fulfilling one item writes besides the cart, each with its own condition. */
type FulfilmentWrite = 'hold' | 'class' | 'student' | 'fromStudent' | 'fromClass' | 'swimmer';

const DEFAULT_CONFLICT_RETRIES = 6;
const FIRST_BACKOFF_MS = 15;
const MAX_BACKOFF_MS = 250;
const EDITABLE_CART = 'attribute_exists(pk) AND merchant_id = :merchant AND #status IN (:active, :pending)';

export class DynamoSchoolStore implements SchoolStore {
  private readonly conflictRetries: number;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: { conflictRetries?: number } = {},
  ) {
    this.conflictRetries = options.conflictRetries ?? DEFAULT_CONFLICT_RETRIES;
  }

  async createClass(swimClass: SwimClass): Promise<Created<SwimClass>> {
    const existing = await this.putNew(`class ${swimClass.classId}`, classToItem(swimClass));
    return existing ? { created: false, value: classFromItem(existing as StoredClass) } : { created: true, value: swimClass };
  }

  async getClass(merchantId: string, classId: string): Promise<SwimClass | undefined> {
    const item = await this.get<StoredClass>(keys.class(merchantId, classId));
    return item && classFromItem(item);
  }

  async countSeats(merchantId: string, classId: string): Promise<{ held: number; students: number }> {
    const count = async (prefix: string) => {
      let total = 0;
      for await (const page of this.query({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': classPk(merchantId, classId), ':prefix': prefix },
        Select: 'COUNT',
      })) {
        total += page.Count ?? 0;
      }
      return total;
    };
    const [held, students] = await Promise.all([count('HOLD#'), count('STUDENT#')]);
    return { held, students };
  }

  async getStudent(merchantId: string, classId: string, accountId: string, swimmerId: string): Promise<Student | undefined> {
    const item = await this.get<StoredStudent>(keys.student(merchantId, classId, accountId, swimmerId));
    return item && studentFromItem(item);
  }

  async createAccount(account: Account): Promise<Created<Account>> {
    const existing = await this.putNew(`account ${account.accountId}`, accountToItem(account));
    return existing
      ? { created: false, value: accountFromItem(existing as StoredAccount) }
      : { created: true, value: accountFromItem(accountToItem(account)) };
  }

  async getAccount(merchantId: string, accountId: string): Promise<Account | undefined> {
    const item = await this.get<StoredAccount>(keys.account(merchantId, accountId));
    return item && accountFromItem(item);
  }

  async addSwimmer(merchantId: string, swimmer: Swimmer): Promise<Created<Swimmer>> {
    const refused = await this.transact(`swimmer ${swimmer.swimmerId}`, {
      swimmer: this.put(swimmerToItem(merchantId, swimmer)),
      account: this.check(keys.account(merchantId, swimmer.accountId), 'attribute_exists(pk)'),
    });
    if (!refused) return { created: true, value: swimmer };
    if (refused.swimmer?.item) return { created: false, value: swimmerFromItem(refused.swimmer.item as StoredSwimmer) };
    if (refused.account) throw noAccount(swimmer.accountId);
    throw unexplained(`swimmer ${swimmer.swimmerId}`, refused);
  }

  async listSwimmers(merchantId: string, accountId: string): Promise<Swimmer[]> {
    return (await this.queryItems<StoredSwimmer>(accountPk(merchantId, accountId), 'SWIMMER#')).map(swimmerFromItem);
  }

  async grantPoints(merchantId: string, grant: PointsGrant): Promise<Created<PointsGrant>> {
    const refused = await this.transact(`points grant ${grant.grantNo}`, {
      grant: this.put(grantToItem(merchantId, grant)),
      account: this.update(
        keys.account(merchantId, grant.accountId),
        'SET points_balance = points_balance + :amount, points_granted = points_granted + :amount, version = version + :one',
        { ':amount': grant.amount, ':one': 1 },
      ),
    });
    if (!refused) return { created: true, value: grant };
    if (refused.grant?.item) return { created: false, value: grantFromItem(refused.grant.item as StoredGrant) };
    if (refused.account) throw noAccount(grant.accountId);
    throw unexplained(`points grant ${grant.grantNo}`, refused);
  }

  async listPurchases(merchantId: string, accountId: string): Promise<Purchase[]> {
    return (await this.queryItems<StoredPurchase>(accountPk(merchantId, accountId), 'PURCHASE#'))
      .map(purchaseFromItem)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async openCart(write: CartWrite): Promise<Created<Cart>> {
    const { cart } = write;
    const refused = await this.transact(`cart ${cart.cartId}`, {
      cart: this.put(cartToItem(cart, write.dueAt)),
      account: this.update(
        keys.account(cart.merchantId, cart.accountId),
        'SET active_cart_id = :cart, version = version + :one',
        { ':cart': cart.cartId, ':one': 1 },
        'attribute_exists(pk) AND attribute_not_exists(active_cart_id)',
      ),
    });
    if (!refused) return { created: true, value: cart };
    if (refused.account) {
      const account = refused.account.item as StoredAccount | undefined;
      if (!account) throw noAccount(cart.accountId);
      if (account.active_cart_id === undefined) throw unexplained(`cart ${cart.cartId}`, refused);
      const activeCartId = account.active_cart_id;
      const active = await this.getCart(activeCartId);
      // The account names a cart that is not there: it was written in between; read again.
      if (!active) throw new ConcurrentModificationError(`account ${cart.accountId}'s active cart ${activeCartId} is missing`);
      return { created: false, value: active };
    }
    throw new AlreadyExistsError(
      'cart_id',
      `cart ${cart.cartId} exists already and is not account ${cart.accountId}'s open cart`,
    );
  }

  async getCart(cartId: string): Promise<Cart | undefined> {
    const item = await this.get<StoredCart>(keys.cart(cartId));
    return item && cartFromItem(item);
  }

  async holdSeat(edit: CartEdit, accountId: string, item: CartItem, holdDueAt: string): Promise<void> {
    if (edit.holdsExpireAt === undefined) throw new Error(`holding a seat in cart ${edit.cartId} needs holdsExpireAt`);
    const change = item.action === CartItemAction.Change;
    if (change && item.fromClassId === undefined) throw new Error(`change item ${item.itemId} has no fromClassId`);
    const classField = change ? 'to_class_id' : 'class_id';
    const hold: SeatHold = {
      classId: item.classId,
      cartId: edit.cartId,
      accountId,
      swimmerId: item.swimmerId,
      itemId: item.itemId,
      heldAt: item.heldAt ?? edit.now,
    };
    const refused = await this.transact(`hold of a seat in class ${item.classId}`, {
      cart: this.addLine(edit, item, {
        // Operands read the cart as it was: the due time stays the first hold's expiry.
        set:
          'holds_expire_at = if_not_exists(holds_expire_at, :expires), ' +
          'due_at = if_not_exists(holds_expire_at, :expires), due_shard = :shard',
        values: { ':expires': edit.holdsExpireAt, ':shard': dueShardOf(edit.cartId, 'cart') },
      }),
      class: this.moveSeat(edit.merchantId, item.classId, 'seats_remain', 'seats_held'),
      hold: this.put(holdToItem(edit.merchantId, hold, holdDueAt)),
      student: this.check(keys.student(edit.merchantId, item.classId, accountId, item.swimmerId), 'attribute_not_exists(pk)'),
      swimmer: this.check(keys.swimmer(edit.merchantId, accountId, item.swimmerId), 'attribute_exists(pk)'),
      fromStudent:
        change && item.fromClassId !== undefined
          ? this.check(keys.student(edit.merchantId, item.fromClassId, accountId, item.swimmerId), 'attribute_exists(pk)')
          : undefined,
    });
    if (!refused) return;
    if (refused.cart) throw lineRefused(edit, item, refused.cart.item as StoredCart | undefined);
    if (refused.swimmer) throw new NotFoundError(`no swimmer ${item.swimmerId} in account ${accountId}`, { field: 'swimmer_id' });
    if (refused.class && !refused.class.item) throw new NotFoundError(`no class ${item.classId}`, { field: classField });
    if (refused.student) {
      throw new AlreadyRegisteredError('swimmer_id', `swimmer ${item.swimmerId} is already in class ${item.classId}`);
    }
    if (refused.hold) {
      throw new AlreadyRegisteredError(
        'swimmer_id',
        `cart ${edit.cartId} already holds a seat in class ${item.classId} for swimmer ${item.swimmerId}`,
      );
    }
    if (refused.fromStudent) {
      throw new NotRegisteredError('from_class_id', `swimmer ${item.swimmerId} is not in class ${item.fromClassId}`);
    }
    if (refused.class) throw new SoldOutError(classField, `class ${item.classId} has no seat left`);
    throw unexplained(`hold of a seat in class ${item.classId}`, refused);
  }

  async addCancel(edit: CartEdit, accountId: string, item: CartItem): Promise<void> {
    const refused = await this.transact(`cancel of class ${item.classId}`, {
      cart: this.addLine(edit, item),
      student: this.check(keys.student(edit.merchantId, item.classId, accountId, item.swimmerId), 'attribute_exists(pk)'),
    });
    if (!refused) return;
    if (refused.cart) throw lineRefused(edit, item, refused.cart.item as StoredCart | undefined);
    if (refused.student) throw new NotRegisteredError('class_id', `swimmer ${item.swimmerId} is not in class ${item.classId}`);
    throw unexplained(`cancel of class ${item.classId}`, refused);
  }

  async releaseItem(edit: CartEdit, item: CartItem): Promise<void> {
    const holdsSeat = item.action !== CartItemAction.Cancel;
    const refused = await this.transact(`release of item ${item.itemId}`, {
      cart: this.update(
        keys.cart(edit.cartId),
        'REMOVE #items.#item SET updated_at = :now, version = version + :one',
        { ...editableValues(edit), ':now': edit.now, ':one': 1 },
        `${EDITABLE_CART} AND attribute_exists(#items.#item)`,
        { '#status': 'status', '#items': 'items', '#item': item.itemId },
      ),
      hold: holdsSeat ? this.delete(keys.hold(edit.merchantId, item.classId, edit.cartId, item.swimmerId)) : undefined,
      class: holdsSeat ? this.moveSeat(edit.merchantId, item.classId, 'seats_held', 'seats_remain') : undefined,
    });
    if (!refused) return;
    if (refused.cart) {
      const old = refused.cart.item as StoredCart | undefined;
      throw cartRefused(edit, old) ?? new NotFoundError(`no item ${item.itemId} in cart ${edit.cartId}`, { field: 'item_id' });
    }
    throw unexplained(`release of item ${item.itemId}`, refused);
  }

  async releaseHold(hold: Pick<SeatHold, 'classId' | 'cartId' | 'swimmerId'>, merchantId: string): Promise<boolean> {
    const refused = await this.transact(`release of the hold of cart ${hold.cartId} in class ${hold.classId}`, {
      hold: this.delete(keys.hold(merchantId, hold.classId, hold.cartId, hold.swimmerId)),
      class: this.moveSeat(merchantId, hold.classId, 'seats_held', 'seats_remain'),
    });
    if (!refused) return true;
    // The hold's own condition is what makes a seat come back once only.
    if (refused.hold) return false;
    throw unexplained(`release of the hold of cart ${hold.cartId} in class ${hold.classId}`, refused);
  }

  async moveCart(write: CartWrite): Promise<void> {
    try {
      await this.againOnConflict(`cart ${write.cart.cartId}`, () =>
        this.db.send(new UpdateCommand(headerUpdate(this.tableName, write))),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw cartMoved(write, wire(error.Item) as StoredCart | undefined);
      return translateDynamoError(error);
    }
  }

  async lockForCheckout(write: CartWrite, points: number): Promise<void> {
    const { cart } = write;
    const refused = await this.transact(`checkout of cart ${cart.cartId}`, {
      cart: { Update: headerUpdate(this.tableName, write) },
      account:
        points > 0
          ? this.update(
              keys.account(cart.merchantId, cart.accountId),
              'SET points_balance = points_balance - :points, points_spent = points_spent + :points, version = version + :one',
              { ':points': points, ':one': 1 },
              'points_balance >= :points',
            )
          : undefined,
    });
    if (!refused) return;
    if (refused.cart) {
      const old = refused.cart.item as StoredCart | undefined;
      throw (old && editRefusal(cart.cartId, old.status)) ?? cartMoved(write, old);
    }
    if (refused.account) {
      const account = refused.account.item as StoredAccount | undefined;
      if (!account) throw noAccount(cart.accountId);
      throw new InsufficientPointsError(
        'points',
        `account ${cart.accountId} has ${account.points_balance} points, not ${points}`,
      );
    }
    throw unexplained(`checkout of cart ${cart.cartId}`, refused);
  }

  async reopen(write: CartWrite, points: number): Promise<void> {
    const { cart } = write;
    const refused = await this.transact(`reopening of cart ${cart.cartId}`, {
      cart: { Update: headerUpdate(this.tableName, write) },
      account:
        points > 0
          ? this.update(
              keys.account(cart.merchantId, cart.accountId),
              'SET points_balance = points_balance + :points, points_returned = points_returned + :points, ' +
                'version = version + :one',
              { ':points': points, ':one': 1 },
            )
          : undefined,
    });
    if (!refused) return;
    if (refused.cart) throw cartMoved(write, refused.cart.item as StoredCart | undefined);
    if (refused.account) throw noAccount(cart.accountId);
    throw unexplained(`reopening of cart ${cart.cartId}`, refused);
  }

  async applyPurchase(write: CartWrite, purchase: Purchase): Promise<void> {
    const { cart } = write;
    const refused = await this.transact(`purchase ${purchase.purchaseKey}`, {
      cart: { Update: headerUpdate(this.tableName, write) },
      purchase: this.put(purchaseToItem(purchase)),
    });
    if (!refused) return;
    // A repeat: the same purchase applied the cart before, and the cart has moved on from `from`.
    const stored = await this.getCart(cart.cartId);
    const paid = stored?.status === CartStatus.Applied || stored?.status === CartStatus.Done;
    if (paid && stored?.purchaseKey === purchase.purchaseKey) return;
    if (refused.cart) throw cartMoved(write, refused.cart.item as StoredCart | undefined);
    throw new ConcurrentModificationError(
      `purchase ${purchase.purchaseKey} exists already but cart ${cart.cartId} is ${stored?.status ?? 'missing'} ` +
        `with purchase ${stored?.purchaseKey ?? 'none'}`,
    );
  }

  async fulfilItem(cart: Cart, item: CartItem, purchase: Purchase, now: string): Promise<void> {
    if (item.fulfilled) return;
    const what = `fulfilment of item ${item.itemId} of cart ${cart.cartId}`;
    for (let attempt = 0; ; attempt += 1) {
      const writes = await this.fulfilment(cart, item, purchase, now);
      if (writes === 'fulfilled') return;
      const refused = await this.transact(what, {
        cart: this.update(
          keys.cart(cart.cartId),
          'SET #items.#item.fulfilled = :true, updated_at = :now',
          { ':true': true, ':now': now, ':applied': CartStatus.Applied },
          '#status = :applied AND attribute_exists(#items.#item) AND attribute_not_exists(#items.#item.fulfilled)',
          { '#status': 'status', '#items': 'items', '#item': item.itemId },
        ),
        ...writes,
      });
      if (!refused) return;
      if (refused.cart) {
        const old = refused.cart.item as StoredCart | undefined;
        if (old?.items[item.itemId]?.fulfilled) return;
        throw new ConcurrentModificationError(
          `${what}: the cart is ${old ? `${old.status}${old.items[item.itemId] ? '' : ' without the item'}` : 'missing'}`,
        );
      }
      // A change replaces the swimmer's classes as read: another item of the swimmer may have changed them since.
      const swimmerMoved = refused.swimmer?.item !== undefined && Object.keys(refused).length === 1;
      if (swimmerMoved && attempt < this.conflictRetries) continue;
      throw new ConcurrentModificationError(`${what} refused: ${fulfilmentRefusal(refused, item)}`);
    }
  }

  async finishCart(write: CartWrite, pointsCredit: number): Promise<void> {
    const { cart } = write;
    const account = keys.account(cart.merchantId, cart.accountId);
    const credit = pointsCredit > 0 ? ' ADD points_balance :credit, points_returned :credit' : '';
    const creditValues = pointsCredit > 0 ? { ':credit': pointsCredit } : {};
    const refused = await this.transact(`finishing cart ${cart.cartId}`, {
      cart: { Update: headerUpdate(this.tableName, write) },
      account: this.update(
        account,
        `REMOVE active_cart_id SET version = version + :one${credit}`,
        { ':cart': cart.cartId, ':one': 1, ...creditValues },
        'active_cart_id = :cart',
      ),
    });
    if (!refused) return;
    if (refused.cart) throw cartMoved(write, refused.cart.item as StoredCart | undefined);
    // The account has no longer (or never had) this cart as its open one: finish the cart
    // without freeing the account, any credit still in the same transaction.
    const again = await this.transact(`finishing cart ${cart.cartId}`, {
      cart: { Update: headerUpdate(this.tableName, write) },
      account: this.update(account, `SET version = version + :one${credit}`, { ':one': 1, ...creditValues }, 'attribute_exists(pk)'),
    });
    if (again?.cart) throw cartMoved(write, again.cart.item as StoredCart | undefined);
    if (again) throw new ConcurrentModificationError(`account ${cart.accountId} of cart ${cart.cartId} is gone`);
  }

  async listDueCarts(now: Date, limit: number): Promise<Cart[]> {
    return (await queryDue<StoredCart>(this.db, this.tableName, 'cart', now, limit)).map(cartFromItem);
  }

  async listDueHolds(now: Date, limit: number): Promise<(SeatHold & { merchantId: string })[]> {
    return (await queryDue<StoredHold>(this.db, this.tableName, 'hold', now, limit)).map((item) => ({
      ...holdFromItem(item),
      merchantId: item.merchant_id,
    }));
  }

  async postponeHold(hold: SeatHold & { merchantId: string }, dueAt: string): Promise<void> {
    try {
      await this.againOnConflict(`hold of cart ${hold.cartId} in class ${hold.classId}`, () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.hold(hold.merchantId, hold.classId, hold.cartId, hold.swimmerId),
            UpdateExpression: 'SET due_at = :due',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':due': dueAt },
          }),
        ),
      );
    } catch (error) {
      // Released meanwhile: nothing left to look at later.
      if (error instanceof ConditionalCheckFailedException) return;
      return translateDynamoError(error);
    }
  }

  /**
   * The writes that register one item, besides marking it fulfilled; 'fulfilled' when a read
   * they need shows the item was fulfilled already.
   */
  private async fulfilment(
    cart: Cart,
    item: CartItem,
    purchase: Purchase,
    now: string,
  ): Promise<Partial<Record<FulfilmentWrite, TransactItem>> | 'fulfilled'> {
    const { merchantId, accountId, cartId } = cart;
    const swimmerKey = keys.swimmer(merchantId, accountId, item.swimmerId);
    const leave = (classId: string) => ({
      fromStudent: this.delete(keys.student(merchantId, classId, accountId, item.swimmerId)),
      fromClass: this.moveSeat(merchantId, classId, 'students', 'seats_remain'),
    });
    const enrol = (paid: number) => ({
      hold: this.delete(keys.hold(merchantId, item.classId, cartId, item.swimmerId)),
      class: this.moveSeat(merchantId, item.classId, 'seats_held', 'students'),
      student: this.put(
        studentToItem(merchantId, {
          classId: item.classId,
          accountId,
          swimmerId: item.swimmerId,
          paid,
          purchaseKey: purchase.purchaseKey,
          enrolledAt: now,
        }),
      ),
    });
    switch (item.action) {
      case CartItemAction.Register:
        return {
          ...enrol(item.seatPrice ?? item.amount),
          swimmer: this.update(swimmerKey, 'ADD class_ids :classes', { ':classes': new Set([item.classId]) }),
        };
      case CartItemAction.Cancel:
        return {
          ...leave(item.classId),
          swimmer: this.update(swimmerKey, 'DELETE class_ids :classes', { ':classes': new Set([item.classId]) }),
        };
      case CartItemAction.Change: {
        if (item.fromClassId === undefined) throw new Error(`change item ${item.itemId} has no fromClassId`);
        const [swimmer, left] = await Promise.all([
          this.get<StoredSwimmer>(swimmerKey),
          this.get<StoredStudent>(keys.student(merchantId, item.fromClassId, accountId, item.swimmerId)),
        ]);
        if (!left) {
          if ((await this.getCart(cartId))?.items.find((line) => line.itemId === item.itemId)?.fulfilled) return 'fulfilled';
          throw new ConcurrentModificationError(`swimmer ${item.swimmerId} is no longer in class ${item.fromClassId}`);
        }
        // A set cannot be ADDed to and DELETEd from in one update expression: write it whole,
        // on condition that it is still the set read.
        const classes = new Set(swimmer?.class_ids ?? []);
        classes.delete(item.fromClassId);
        classes.add(item.classId);
        return {
          // The new seat's price: the item's, or what the old one cost plus the item's difference.
          ...enrol(item.seatPrice ?? left.paid + item.amount),
          ...leave(item.fromClassId),
          swimmer: swimmer?.class_ids
            ? this.update(
                swimmerKey,
                'SET class_ids = :classes',
                { ':classes': classes, ':read': swimmer.class_ids },
                'class_ids = :read',
              )
            : this.update(
                swimmerKey,
                'SET class_ids = :classes',
                { ':classes': classes },
                'attribute_exists(pk) AND attribute_not_exists(class_ids)',
              ),
        };
      }
    }
  }

  /** The cart update adding a line to an editable cart, and the cart `pending`. */
  private addLine(edit: CartEdit, item: CartItem, holds?: { set: string; values: Values }): TransactItem {
    const currency = edit.currency !== undefined;
    return this.update(
      keys.cart(edit.cartId),
      [
        'SET #items.#item = :line, #status = :pending, updated_at = :now, version = version + :one',
        ...(currency ? ['currency = if_not_exists(currency, :currency)'] : []),
        ...(holds ? [holds.set] : []),
      ].join(', '),
      {
        ...editableValues(edit),
        ':line': lineToMap(item),
        ':now': edit.now,
        ':one': 1,
        ...(currency && { ':currency': edit.currency }),
        ...holds?.values,
      },
      `${EDITABLE_CART} AND attribute_not_exists(#items.#item)` +
        (currency ? ' AND (attribute_not_exists(currency) OR currency = :currency)' : ''),
      { '#status': 'status', '#items': 'items', '#item': item.itemId },
    );
  }

  /** One seat of a class moved between two places, never taking a place below zero. */
  private moveSeat(merchantId: string, classId: string, from: SeatPlace, to: SeatPlace): TransactItem {
    return this.update(
      keys.class(merchantId, classId),
      `SET ${from} = ${from} - :one, ${to} = ${to} + :one, version = version + :one`,
      { ':one': 1, ':zero': 0 },
      `attribute_exists(pk) AND ${from} > :zero`,
    );
  }

  private put(item: Key & Values): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  private delete(key: Key): TransactItem {
    return { Delete: { TableName: this.tableName, Key: key, ConditionExpression: 'attribute_exists(pk)' } };
  }

  private check(key: Key, condition: string): TransactItem {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: key,
        ConditionExpression: condition,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /** An update of an item that exists, unless `condition` says otherwise. */
  private update(key: Key, expression: string, values: Values, condition = 'attribute_exists(pk)', names?: Names): TransactItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: key,
        UpdateExpression: expression,
        ConditionExpression: condition,
        ...(names && { ExpressionAttributeNames: names }),
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /**
   * Writes `items` in one transaction. Undefined when it committed; when a condition refused
   * it, the items whose condition failed, by name, as they were.
   */
  private async transact<K extends string>(
    what: string,
    items: Partial<Record<K, TransactItem>>,
  ): Promise<Refused<K> | undefined> {
    const named = (Object.entries(items) as [K, TransactItem | undefined][]).filter(
      (entry): entry is [K, TransactItem] => entry[1] !== undefined,
    );
    try {
      await this.againOnConflict(what, () =>
        this.db.send(new TransactWriteCommand({ TransactItems: named.map(([, item]) => item) })),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) return translateDynamoError(error);
      const reasons = error.CancellationReasons ?? [];
      if (reasons.some((reason) => reason.Code === 'ThrottlingError' || reason.Code === 'ProvisionedThroughputExceeded')) {
        throw new DatabaseThrottledError(`DynamoDB throttled the ${what}`, { cause: error });
      }
      if (!reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) return translateDynamoError(error);
      const refused: Refused<K> = {};
      named.forEach(([name], index) => {
        const reason = reasons[index];
        if (reason?.Code === 'ConditionalCheckFailed') refused[name] = { item: wire(reason.Item) };
      });
      return refused;
    }
  }

  /**
   * Sends again, after a full-jitter backoff, what lost to a concurrent transaction on one of
   * its items: many buyers racing for one class's seats all touch the class item, and each
   * of them should end with a seat or sold out, not with a conflict.
   */
  private async againOnConflict<T>(what: string, send: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await send();
      } catch (error) {
        if (!isConflict(error)) throw error;
        if (attempt >= this.conflictRetries) {
          throw new ConcurrentModificationError(`the ${what} kept meeting concurrent transactions`, {
            cause: error,
            retryAfterSeconds: 1,
          });
        }
        const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
  }

  /** Inserts `item` unless its key is taken; returns the item that holds it then. */
  private async putNew(what: string, item: Key & Values): Promise<Values | undefined> {
    try {
      await this.againOnConflict(what, () =>
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) return wire(error.Item);
      return translateDynamoError(error);
    }
  }

  private async get<T>(key: Key): Promise<T | undefined> {
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))
      .catch(translateDynamoError);
    return Item as T | undefined;
  }

  private async *query(input: Omit<QueryCommandInput, 'TableName' | 'ConsistentRead' | 'ExclusiveStartKey'>) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db
        .send(new QueryCommand({ ...input, TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }))
        .catch(translateDynamoError);
      yield page;
      start = page.LastEvaluatedKey;
    } while (start);
  }

  private async queryItems<T>(pk: string, prefix: string): Promise<T[]> {
    const items: T[] = [];
    for await (const page of this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
    })) {
      items.push(...((page.Items ?? []) as T[]));
    }
    return items;
  }
}

function isConflict(error: unknown): boolean {
  if (error instanceof TransactionCanceledException) {
    const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code);
    return codes.includes('TransactionConflict') && !codes.includes('ConditionalCheckFailed');
  }
  // A single-item write on an item that a transaction is writing.
  return error instanceof Error && error.name === 'TransactionConflictException';
}

/** A failed condition's item arrives in DynamoDB's wire format; the document client does not convert it. */
function wire(item: Record<string, AttributeValue> | undefined): Values | undefined {
  return item && unmarshall(item);
}

function editableValues(edit: CartEdit): Values {
  return { ':merchant': edit.merchantId, ':active': CartStatus.Active, ':pending': CartStatus.Pending };
}

/**
 * The update of a cart's header to `write.cart` (never its items), provided it is still at
 * the status and version the caller read.
 */
function headerUpdate(tableName: string, write: CartWrite) {
  const { cart, from, dueAt } = write;
  const set = ['#status = :status', 'version = :next', 'attempt = :attempt', 'updated_at = :now'];
  const remove: string[] = [];
  const values: Values = {
    ':status': cart.status,
    ':next': from.version + 1,
    ':attempt': cart.attempt,
    ':now': cart.updatedAt,
    ':fromStatus': from.status,
    ':fromVersion': from.version,
  };
  const optional = (attribute: string, value: unknown) => {
    if (value === undefined) {
      remove.push(attribute);
    } else {
      set.push(`${attribute} = :${attribute}`);
      values[`:${attribute}`] = value;
    }
  };
  optional('checkout', cart.checkout && checkoutToMap(cart.checkout));
  optional('purchase_key', cart.purchaseKey);
  optional('holds_expire_at', cart.holdsExpireAt);
  optional('last_failure', cart.lastFailure);
  optional('due_shard', dueAt && dueShardOf(cart.cartId, 'cart'));
  optional('due_at', dueAt);
  return {
    TableName: tableName,
    Key: keys.cart(cart.cartId),
    UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ConditionExpression: '#status = :fromStatus AND version = :fromVersion',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/** Why an editable-cart condition failed on the cart itself; undefined when the cart is editable. */
function cartRefused(edit: CartEdit, old: StoredCart | undefined): ChargeonceError | undefined {
  if (!old || old.merchant_id !== edit.merchantId) return new NotFoundError(`no cart ${edit.cartId}`, { field: 'cart_id' });
  return editRefusal(edit.cartId, old.status);
}

/** Why adding a line was refused by the cart. */
function lineRefused(edit: CartEdit, item: CartItem, old: StoredCart | undefined): ChargeonceError {
  const refusal = cartRefused(edit, old);
  if (refusal) return refusal;
  if (old?.items[item.itemId]) {
    return new AlreadyRegisteredError(
      'swimmer_id',
      `cart ${edit.cartId} already has swimmer ${item.swimmerId} for class ${item.classId}`,
    );
  }
  if (edit.currency !== undefined && old?.currency !== undefined && old.currency !== edit.currency) {
    return new CurrencyMismatchError(
      'class_id',
      `cart ${edit.cartId} is priced in ${old.currency}, class ${item.classId} in ${edit.currency}`,
    );
  }
  return new ConcurrentModificationError(`cart ${edit.cartId} changed while adding item ${item.itemId}`);
}

function cartMoved(write: CartWrite, old: StoredCart | undefined): ChargeonceError {
  const { cart, from } = write;
  if (!old) return new NotFoundError(`no cart ${cart.cartId}`, { field: 'cart_id' });
  return new ConcurrentModificationError(
    `cart ${cart.cartId} is ${old.status} at version ${old.version}, no longer ${from.status} at version ${from.version}`,
  );
}

function noAccount(accountId: string): NotFoundError {
  return new NotFoundError(`no account ${accountId}`, { field: 'account_id' });
}

/** A refusal no condition explains: items changed in ways the caller should read again. */
function unexplained(what: string, refused: Refused<string>): ConcurrentModificationError {
  return new ConcurrentModificationError(`the ${what} was refused by ${Object.keys(refused).join(', ')}`);
}

function fulfilmentRefusal(refused: Refused<FulfilmentWrite>, item: CartItem): string {
  const reasons: Record<FulfilmentWrite, string> = {
    hold: `no seat held in class ${item.classId}`,
    class: `class ${item.classId} has no seat to move`,
    student: `swimmer ${item.swimmerId} is already in class ${item.classId}`,
    fromStudent: `swimmer ${item.swimmerId} is not in class ${item.fromClassId ?? item.classId}`,
    fromClass: `class ${item.fromClassId ?? item.classId} has no student to remove`,
    swimmer: `swimmer ${item.swimmerId} is missing or kept changing`,
  };
  return (Object.keys(refused) as FulfilmentWrite[]).map((name) => reasons[name]).join('; ');
}
