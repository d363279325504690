import { type AttributeValue, ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
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
  CartStatus,
  type Purchase,
  type SeatHold,
  type Student,
  type SwimClass,
  type Swimmer,
} from '../../domain/carts/model.ts';
import type {
  CartEdit,
  CartLister,
  CartWrite,
  CommitResult,
  NamedWrites,
  Refusal,
  SchoolStore,
  SchoolWrite,
  SeatPlace,
} from '../../domain/carts/store.ts';
import { DatabaseThrottledError } from '../../domain/errors.ts';
import type { ListPage, ListQuery } from '../../domain/lists.ts';
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
import { dueShardOf, queryDue, queryList } from './table.ts';

type Key = { pk: string; sk: string };
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Values = Record<string, NativeAttributeValue>;
type Names = Record<string, string>;

/** One write as DynamoDB takes it, and how to read back the item its refusal returns. */
interface Entry {
  readonly item: TransactItem;
  readonly decode: (stored: Values) => unknown;
}

const SEAT_ATTRIBUTES: Readonly<Record<SeatPlace, string>> = {
  seatsRemain: 'seats_remain',
  seatsHeld: 'seats_held',
  students: 'students',
};
const EDITABLE_CART = 'attribute_exists(pk) AND merchant_id = :merchant AND #status IN (:active, :pending)';
const decodeClass = (stored: Values) => classFromItem(stored as StoredClass);
const decodeHold = (stored: Values) => holdFromItem(stored as StoredHold);
const decodeStudent = (stored: Values) => studentFromItem(stored as StoredStudent);
const decodeAccount = (stored: Values) => accountFromItem(stored as StoredAccount);
const decodeSwimmer = (stored: Values) => swimmerFromItem(stored as StoredSwimmer);
const decodeCart = (stored: Values) => cartFromItem(stored as StoredCart);

/**
 * The school's store on the single table. Each write of a commit becomes one entry of a
 * TransactWriteItems (a lone write, a plain conditional write) whose ConditionExpression is the
 * write's precondition; a refusal's cancellation reasons come back as the named writes that
 * failed, with their items (ALL_OLD) in domain types. Nothing here decides or retries.
 */
export class DynamoSchoolStore implements SchoolStore, CartLister {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async commit<W extends NamedWrites>(writes: W): Promise<CommitResult<W>> {
    const named = Object.entries(writes).flatMap(([name, write]) =>
      write === undefined ? [] : [[name, this.entry(write)] as const],
    );
    const [lone] = named;
    if (named.length === 1 && lone && lone[1].item.ConditionCheck === undefined) return this.commitOne(lone[0], lone[1]);
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: named.map(([, entry]) => entry.item) }));
      return { status: 'committed' };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) return translateDynamoError(error);
      const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code);
      if (codes.includes('ThrottlingError') || codes.includes('ProvisionedThroughputExceeded')) {
        throw new DatabaseThrottledError('DynamoDB throttled a transaction', { cause: error });
      }
      if (codes.includes('ConditionalCheckFailed')) {
        const refused: Record<string, { current: unknown }> = {};
        named.forEach(([name, entry], index) => {
          const reason = error.CancellationReasons?.[index];
          if (reason?.Code === 'ConditionalCheckFailed') refused[name] = { current: decoded(entry, reason.Item) };
        });
        return { status: 'refused', refused: refused as Refusal<W> };
      }
      if (codes.includes('TransactionConflict')) return { status: 'conflict' };
      return translateDynamoError(error);
    }
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

  async getAccount(merchantId: string, accountId: string): Promise<Account | undefined> {
    const item = await this.get<StoredAccount>(keys.account(merchantId, accountId));
    return item && accountFromItem(item);
  }

  async getSwimmer(merchantId: string, accountId: string, swimmerId: string): Promise<Swimmer | undefined> {
    const item = await this.get<StoredSwimmer>(keys.swimmer(merchantId, accountId, swimmerId));
    return item && swimmerFromItem(item);
  }

  async listSwimmers(merchantId: string, accountId: string): Promise<Swimmer[]> {
    return (await this.queryItems<StoredSwimmer>(accountPk(merchantId, accountId), 'SWIMMER#')).map(swimmerFromItem);
  }

  async listPurchases(merchantId: string, accountId: string): Promise<Purchase[]> {
    return (await this.queryItems<StoredPurchase>(accountPk(merchantId, accountId), 'PURCHASE#'))
      .map(purchaseFromItem)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async getCart(merchantId: string, cartId: string): Promise<Cart | undefined> {
    // Cart ids are ours, so the key carries no merchant: the item's own says whose it is.
    const item = await this.get<StoredCart>(keys.cart(cartId));
    return item?.merchant_id === merchantId ? cartFromItem(item) : undefined;
  }

  async listForMerchant(merchantId: string, query: ListQuery<{ readonly status?: CartStatus }>): Promise<ListPage<Cart>> {
    const { status } = query.filters;
    const page = await queryList<StoredCart>(
      this.db,
      this.tableName,
      { kind: 'cart', merchantId, tableKeyOf: keys.cart },
      query,
      status === undefined ? undefined : { expression: '#status = :status', names: { '#status': 'status' }, values: { ':status': status } },
    );
    return { data: page.data.map(cartFromItem), hasMore: page.hasMore };
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

  /** A lone write as a plain conditional write: the same condition, one request cheaper than a transaction. */
  private async commitOne<W extends NamedWrites>(name: string, entry: Entry): Promise<CommitResult<W>> {
    const { Put, Update, Delete } = entry.item;
    try {
      if (Put) await this.db.send(new PutCommand(Put));
      else if (Update) await this.db.send(new UpdateCommand(Update));
      else if (Delete) await this.db.send(new DeleteCommand(Delete));
      return { status: 'committed' };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return { status: 'refused', refused: { [name]: { current: decoded(entry, error.Item) } } as Refusal<W> };
      }
      // The item is being written by a transaction.
      if (error instanceof Error && error.name === 'TransactionConflictException') return { status: 'conflict' };
      return translateDynamoError(error);
    }
  }

  /** The write as one transaction entry, its precondition its ConditionExpression. */
  private entry(write: SchoolWrite): Entry {
    switch (write.kind) {
      case 'putClass':
        return { item: this.put(classToItem(write.swimClass)), decode: decodeClass };
      case 'moveSeat': {
        const [from, to] = [SEAT_ATTRIBUTES[write.from], SEAT_ATTRIBUTES[write.to]];
        return {
          item: this.update(
            keys.class(write.merchantId, write.classId),
            `SET ${from} = ${from} - :one, ${to} = ${to} + :one, version = version + :one`,
            { ':one': 1, ':zero': 0 },
            `attribute_exists(pk) AND ${from} > :zero`,
          ),
          decode: decodeClass,
        };
      }
      case 'putHold':
        return { item: this.put(holdToItem(write.merchantId, write.hold, write.dueAt)), decode: decodeHold };
      case 'deleteHold':
        return { item: this.delete(keys.hold(write.merchantId, write.classId, write.cartId, write.swimmerId)), decode: decodeHold };
      case 'postponeHold':
        return {
          item: this.update(keys.hold(write.merchantId, write.classId, write.cartId, write.swimmerId), 'SET due_at = :due', {
            ':due': write.dueAt,
          }),
          decode: decodeHold,
        };
      case 'putStudent':
        return { item: this.put(studentToItem(write.merchantId, write.student)), decode: decodeStudent };
      case 'deleteStudent':
        return {
          item: this.delete(keys.student(write.merchantId, write.classId, write.accountId, write.swimmerId)),
          decode: decodeStudent,
        };
      case 'requireStudent':
        return {
          item: this.check(
            keys.student(write.merchantId, write.classId, write.accountId, write.swimmerId),
            write.present ? 'attribute_exists(pk)' : 'attribute_not_exists(pk)',
          ),
          decode: decodeStudent,
        };
      case 'putAccount':
        return { item: this.put(accountToItem(write.account)), decode: decodeAccount };
      case 'requireAccount':
        return { item: this.check(keys.account(write.merchantId, write.accountId), 'attribute_exists(pk)'), decode: decodeAccount };
      case 'points': {
        const { total, sign, condition } = POINT_CHANGES[write.change];
        return {
          item: this.update(
            keys.account(write.merchantId, write.accountId),
            `SET points_balance = points_balance ${sign} :points, ${total} = ${total} + :points, version = version + :one`,
            { ':points': write.points, ':one': 1 },
            condition,
          ),
          decode: decodeAccount,
        };
      }
      case 'openAccountCart':
        return {
          item: this.update(
            keys.account(write.merchantId, write.accountId),
            'SET active_cart_id = :cart, version = version + :one',
            { ':cart': write.cartId, ':one': 1 },
            'attribute_exists(pk) AND attribute_not_exists(active_cart_id)',
          ),
          decode: decodeAccount,
        };
      case 'closeAccountCart':
        return {
          item: this.update(
            keys.account(write.merchantId, write.accountId),
            'SET points_balance = points_balance + :back, points_returned = points_returned + :back, version = version + :one ' +
              'REMOVE active_cart_id',
            { ':cart': write.cartId, ':back': write.returnPoints, ':one': 1 },
            'active_cart_id = :cart',
          ),
          decode: decodeAccount,
        };
      case 'putSwimmer':
        return { item: this.put(swimmerToItem(write.merchantId, write.swimmer)), decode: decodeSwimmer };
      case 'requireSwimmer':
        return {
          item: this.check(keys.swimmer(write.merchantId, write.accountId, write.swimmerId), 'attribute_exists(pk)'),
          decode: decodeSwimmer,
        };
      case 'addSwimmerClass':
      case 'removeSwimmerClass':
        // A string set takes one class in or out without reading the others.
        return {
          item: this.update(
            keys.swimmer(write.merchantId, write.accountId, write.swimmerId),
            `${write.kind === 'addSwimmerClass' ? 'ADD' : 'DELETE'} class_ids :classes`,
            { ':classes': new Set([write.classId]) },
          ),
          decode: decodeSwimmer,
        };
      case 'replaceSwimmerClasses': {
        // DynamoDB stores no empty set: an empty one is an absent attribute.
        const read = write.read.length > 0;
        const next = write.classIds.length > 0;
        return {
          item: this.update(
            keys.swimmer(write.merchantId, write.accountId, write.swimmerId),
            next ? 'SET class_ids = :classes' : 'REMOVE class_ids',
            { ...(next && { ':classes': new Set(write.classIds) }), ...(read && { ':read': new Set(write.read) }) },
            read ? 'class_ids = :read' : 'attribute_exists(pk) AND attribute_not_exists(class_ids)',
          ),
          decode: decodeSwimmer,
        };
      }
      case 'putGrant':
        return { item: this.put(grantToItem(write.merchantId, write.grant)), decode: (stored) => grantFromItem(stored as StoredGrant) };
      case 'putPurchase':
        return { item: this.put(purchaseToItem(write.purchase)), decode: (stored) => purchaseFromItem(stored as StoredPurchase) };
      case 'putCart':
        return { item: this.put(cartToItem(write.cart, write.dueAt)), decode: decodeCart };
      case 'addLine':
        return { item: this.addLine(write.edit, write.item), decode: decodeCart };
      case 'removeLine':
        return {
          item: this.update(
            keys.cart(write.cartId),
            'REMOVE #items.#item SET updated_at = :now, version = version + :one',
            { ...editable(write.merchantId), ':now': write.now, ':one': 1 },
            `${EDITABLE_CART} AND attribute_exists(#items.#item)`,
            { '#status': 'status', '#items': 'items', '#item': write.itemId },
          ),
          decode: decodeCart,
        };
      case 'markFulfilled':
        return {
          item: this.update(
            keys.cart(write.cartId),
            'SET #items.#item.fulfilled = :true, updated_at = :now',
            { ':true': true, ':false': false, ':now': write.now, ':applied': CartStatus.Applied },
            '#status = :applied AND attribute_exists(#items.#item) AND ' +
              '(attribute_not_exists(#items.#item.fulfilled) OR #items.#item.fulfilled = :false)',
            { '#status': 'status', '#items': 'items', '#item': write.itemId },
          ),
          decode: decodeCart,
        };
      case 'updateCart':
        return { item: { Update: headerUpdate(this.tableName, write.write) }, decode: decodeCart };
    }
  }

  /** The cart update adding a line to an editable cart, and the cart `pending`. */
  private addLine(edit: CartEdit, item: CartItem): TransactItem {
    const currency = edit.currency !== undefined;
    const holds = edit.holdsExpireAt !== undefined;
    return this.update(
      keys.cart(edit.cartId),
      [
        'SET #items.#item = :line, #status = :pending, updated_at = :now, version = version + :one',
        ...(currency ? ['currency = if_not_exists(currency, :currency)'] : []),
        // Operands read the cart as it was: the due time stays the first hold's expiry.
        ...(holds
          ? [
              'holds_expire_at = if_not_exists(holds_expire_at, :expires)',
              'due_at = if_not_exists(holds_expire_at, :expires), due_shard = :shard',
            ]
          : []),
      ].join(', '),
      {
        ...editable(edit.merchantId),
        ':line': lineToMap(item),
        ':now': edit.now,
        ':one': 1,
        ...(currency && { ':currency': edit.currency }),
        ...(holds && { ':expires': edit.holdsExpireAt, ':shard': dueShardOf(edit.cartId, 'cart') }),
      },
      `${EDITABLE_CART} AND attribute_not_exists(#items.#item)` +
        (currency ? ' AND (attribute_not_exists(currency) OR currency = :currency)' : ''),
      { '#status': 'status', '#items': 'items', '#item': item.itemId },
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
    return {
      Delete: {
        TableName: this.tableName,
        Key: key,
        ConditionExpression: 'attribute_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
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
        // DynamoDB refuses an empty map of values.
        ...(Object.keys(values).length > 0 && { ExpressionAttributeValues: values }),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
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

/** Each change of points: which total moves with the balance, which way, and on what condition. */
const POINT_CHANGES = {
  grant: { total: 'points_granted', sign: '+', condition: 'attribute_exists(pk)' },
  spend: { total: 'points_spent', sign: '-', condition: 'points_balance >= :points' },
  return: { total: 'points_returned', sign: '+', condition: 'attribute_exists(pk)' },
} as const;

/** A failed condition's item, in domain types. It arrives in DynamoDB's wire format: the document client does not convert it. */
function decoded(entry: Entry, item: Record<string, AttributeValue> | undefined): unknown {
  return item && entry.decode(unmarshall(item));
}

function editable(merchantId: string): Values {
  return { ':merchant': merchantId, ':active': CartStatus.Active, ':pending': CartStatus.Pending };
}

/**
 * The update of a cart's header to `write.cart` (never its lines, currency or identity),
 * provided it is still at the status and version the caller read.
 */
function headerUpdate(tableName: string, write: CartWrite) {
  const { cart, from, dueAt } = write;
  const set = ['#status = :status', 'version = :version', 'attempt = :attempt', 'updated_at = :now'];
  const remove: string[] = [];
  const values: Values = {
    ':status': cart.status,
    ':version': cart.version,
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
