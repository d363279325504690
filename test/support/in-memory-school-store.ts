import {
  type Account,
  type Cart,
  CartStatus,
  EDITABLE,
  type Purchase,
  type SeatHold,
  type Student,
  type SwimClass,
  type Swimmer,
  lineOrder,
} from '../../functions/domain/carts/model.ts';
import type { CommitResult, NamedWrites, PointsGrant, Refusal, SchoolStore, SchoolWrite } from '../../functions/domain/carts/store.ts';

/**
 * The school's store in memory, as strict as DynamoDB: every write's precondition is checked
 * as the DynamoDB adapter's ConditionExpression checks it, a commit writes all or nothing and
 * reports each refused write with its item as it now is (ALL_OLD), two writes on one item in
 * one commit are an error (DynamoDB's ValidationException), and items are copied in and out,
 * so no caller can change what is stored behind the store's back. The contract suite
 * (test/contracts/school-store.ts) runs the same tests on it and on DynamoDB Local.
 *
 * `conflictNext` makes commits meet a concurrent transaction (DynamoDB's TransactionConflict),
 * which DynamoDB Local never reports.
 */
export class InMemorySchoolStore implements SchoolStore {
  private readonly rows = new Map<string, Row>();
  private conflicts: { left: number; when: (writes: NamedWrites) => boolean } = { left: 0, when: () => false };
  /** Commits sent, whatever their outcome. */
  commitsSent = 0;

  /** The next `times` commits for which `when` holds (every commit, by default) meet a conflict. */
  conflictNext(times = 1, when: (writes: NamedWrites) => boolean = () => true): void {
    this.conflicts = { left: times, when };
  }

  async commit<W extends NamedWrites>(writes: W): Promise<CommitResult<W>> {
    this.commitsSent += 1;
    const plans = Object.entries(writes).flatMap(([name, write]) => (write === undefined ? [] : [{ name, ...this.plan(write) }]));
    const keys = plans.map((plan) => plan.key);
    if (new Set(keys).size !== keys.length) {
      throw new Error(`one commit cannot write one item twice (DynamoDB's ValidationException): ${keys.join(', ')}`);
    }
    if (this.conflicts.left > 0 && this.conflicts.when(writes)) {
      this.conflicts.left -= 1;
      return { status: 'conflict' };
    }
    const refusedPlans = plans.filter((plan) => plan.next === undefined);
    if (refusedPlans.length > 0) {
      const refused = Object.fromEntries(refusedPlans.map((plan) => [plan.name, { current: this.read(plan.key) }]));
      return { status: 'refused', refused: refused as Refusal<W> };
    }
    for (const { key, next } of plans) {
      if (next === 'delete') this.rows.delete(key);
      else if (next !== 'keep' && next !== undefined) this.rows.set(key, copy(next));
    }
    return { status: 'committed' };
  }

  async getClass(merchantId: string, classId: string) {
    return this.read<SwimClass>(key.class(merchantId, classId));
  }

  async countSeats(merchantId: string, classId: string) {
    const count = (prefix: string) => [...this.rows.keys()].filter((k) => k.startsWith(prefix)).length;
    return { held: count(key.hold(merchantId, classId, '')), students: count(key.student(merchantId, classId, '')) };
  }

  async getStudent(merchantId: string, classId: string, accountId: string, swimmerId: string) {
    return this.read<Student>(key.student(merchantId, classId, accountId, swimmerId));
  }

  async getAccount(merchantId: string, accountId: string) {
    return this.read<Account>(key.account(merchantId, accountId));
  }

  async getSwimmer(merchantId: string, accountId: string, swimmerId: string) {
    return this.read<Swimmer>(key.swimmer(merchantId, accountId, swimmerId));
  }

  async listSwimmers(merchantId: string, accountId: string) {
    return this.list<Swimmer>(key.swimmer(merchantId, accountId, '')).sort((a, b) => bytewise(a.swimmerId, b.swimmerId));
  }

  async listPurchases(merchantId: string, accountId: string) {
    return this.list<Purchase>(key.purchase(merchantId, accountId, '')).sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || bytewise(a.purchaseKey, b.purchaseKey),
    );
  }

  async getCart(merchantId: string, cartId: string) {
    const cart = this.read<Cart>(key.cart(cartId));
    return cart?.merchantId === merchantId ? cart : undefined;
  }

  async listDueCarts(now: Date, limit: number) {
    return this.due(key.cart(''), now, limit).map((row) => asCart(row.value as Cart));
  }

  async listDueHolds(now: Date, limit: number) {
    return this.due(key.hold(''), now, limit).map((row) => ({ ...(row.value as SeatHold), merchantId: row.merchantId! }));
  }

  /**
   * Everything stored, by kind, with the due times of carts and holds: what a simulation checks
   * after every step. Not copied, for speed: the items as stored, to read and never to change
   * (a commit replaces an item, so what was returned stays as it was).
   */
  contents(): SchoolContents {
    const contents = { classes: [], holds: [], students: [], accounts: [], swimmers: [], purchases: [], grants: [], carts: [] } as {
      -readonly [K in keyof SchoolContents]: SchoolContents[K][number][];
    };
    for (const [k, row] of this.rows) {
      const [kind, keyMerchant] = k.split(SEP) as [string, string];
      // The merchant is the key's second part, for the items whose value does not name it.
      const merchantId = row.merchantId ?? keyMerchant;
      const due = row.dueAt === undefined ? {} : { dueAt: row.dueAt };
      if (kind === 'class') contents.classes.push(row.value as SwimClass);
      else if (kind === 'hold') contents.holds.push({ ...(row.value as SeatHold), merchantId, ...due });
      else if (kind === 'student') contents.students.push({ ...(row.value as Student), merchantId });
      else if (kind === 'account') contents.accounts.push(row.value as Account);
      else if (kind === 'swimmer') contents.swimmers.push({ ...(row.value as Swimmer), merchantId });
      else if (kind === 'purchase') contents.purchases.push(row.value as Purchase);
      else if (kind === 'grant') contents.grants.push({ ...(row.value as PointsGrant), merchantId });
      else if (kind === 'cart') contents.carts.push({ ...asCart(row.value as Cart), ...due });
    }
    return contents;
  }

  /** A hold as stored, with its due time: what no port read returns, for the contract suite. */
  peekHold(merchantId: string, classId: string, cartId: string, swimmerId: string): { hold: SeatHold; dueAt?: string } | undefined {
    const row = this.rows.get(key.hold(merchantId, classId, cartId, swimmerId));
    return row && { hold: copy(row.value as SeatHold), ...(row.dueAt !== undefined && { dueAt: row.dueAt }) };
  }

  private read<T>(k: string): T | undefined {
    const value = copy(this.rows.get(k)?.value);
    return (k.startsWith(key.cart('')) && value ? asCart(value as Cart) : value) as T | undefined;
  }

  private list<T>(prefix: string): T[] {
    return [...this.rows.entries()].filter(([k]) => k.startsWith(prefix)).map(([, row]) => copy(row.value) as T);
  }

  private due(prefix: string, now: Date, limit: number): Row[] {
    return [...this.rows.entries()]
      .filter(([k, row]) => k.startsWith(prefix) && row.dueAt !== undefined && row.dueAt <= now.toISOString())
      .map(([, row]) => copy(row))
      .sort((a, b) => a.dueAt!.localeCompare(b.dueAt!))
      .slice(0, limit);
  }

  /**
   * The item a write is about, and what it becomes: `undefined` when its precondition fails,
   * 'keep' for a check, 'delete' for a delete.
   */
  protected plan(write: SchoolWrite): { key: string; next: Row | 'keep' | 'delete' | undefined } {
    const at = (k: string) => ({ k, row: this.rows.get(k) });
    const put = (k: string, value: object, extra: Partial<Row> = {}) => ({ key: k, next: this.rows.has(k) ? undefined : { value, ...extra } });
    const when = <T>(k: string, test: (value: T, row: Row) => boolean, next: (value: T, row: Row) => Row | 'keep' | 'delete') => {
      const row = this.rows.get(k);
      return { key: k, next: row && test(row.value as T, row) ? next(row.value as T, row) : undefined };
    };
    const exists = () => true;
    switch (write.kind) {
      case 'putClass':
        return put(key.class(write.swimClass.merchantId, write.swimClass.classId), write.swimClass);
      case 'moveSeat':
        return when<SwimClass>(
          key.class(write.merchantId, write.classId),
          (c) => c[write.from] > 0,
          (c) => ({ value: { ...c, [write.from]: c[write.from] - 1, [write.to]: c[write.to] + 1 } }),
        );
      case 'putHold': {
        const { hold, merchantId, dueAt } = write;
        return put(key.hold(merchantId, hold.classId, hold.cartId, hold.swimmerId), hold, { merchantId, dueAt });
      }
      case 'deleteHold':
        return when(key.hold(write.merchantId, write.classId, write.cartId, write.swimmerId), exists, () => 'delete');
      case 'postponeHold':
        return when(key.hold(write.merchantId, write.classId, write.cartId, write.swimmerId), exists, (_, row) => ({ ...row, dueAt: write.dueAt }));
      case 'putStudent':
        return put(key.student(write.merchantId, write.student.classId, write.student.accountId, write.student.swimmerId), write.student);
      case 'deleteStudent':
        return when(key.student(write.merchantId, write.classId, write.accountId, write.swimmerId), exists, () => 'delete');
      case 'requireStudent': {
        const { k, row } = at(key.student(write.merchantId, write.classId, write.accountId, write.swimmerId));
        return { key: k, next: (row !== undefined) === write.present ? 'keep' : undefined };
      }
      case 'putAccount':
        return put(key.account(write.account.merchantId, write.account.accountId), write.account);
      case 'requireAccount':
        return when(key.account(write.merchantId, write.accountId), exists, () => 'keep');
      case 'points': {
        const { points, change } = write;
        const total = ({ grant: 'pointsGranted', spend: 'pointsSpent', return: 'pointsReturned' } as const)[change];
        const balance = change === 'spend' ? -points : points;
        return when<Account>(
          key.account(write.merchantId, write.accountId),
          (a) => change !== 'spend' || a.pointsBalance >= points,
          (a) => ({ value: { ...a, pointsBalance: a.pointsBalance + balance, [total]: a[total] + points } }),
        );
      }
      case 'openAccountCart':
        return when<Account>(
          key.account(write.merchantId, write.accountId),
          (a) => a.activeCartId === undefined,
          (a) => ({ value: { ...a, activeCartId: write.cartId } }),
        );
      case 'closeAccountCart':
        return when<Account>(
          key.account(write.merchantId, write.accountId),
          (a) => a.activeCartId === write.cartId,
          ({ activeCartId: _, ...a }) => ({
            value: { ...a, pointsBalance: a.pointsBalance + write.returnPoints, pointsReturned: a.pointsReturned + write.returnPoints },
          }),
        );
      case 'putSwimmer':
        return put(key.swimmer(write.merchantId, write.swimmer.accountId, write.swimmer.swimmerId), asSwimmer(write.swimmer, write.swimmer.classIds));
      case 'requireSwimmer':
        return when(key.swimmer(write.merchantId, write.accountId, write.swimmerId), exists, () => 'keep');
      case 'addSwimmerClass':
        return when<Swimmer>(key.swimmer(write.merchantId, write.accountId, write.swimmerId), exists, (s) => ({
          value: asSwimmer(s, [...s.classIds, write.classId]),
        }));
      case 'removeSwimmerClass':
        return when<Swimmer>(key.swimmer(write.merchantId, write.accountId, write.swimmerId), exists, (s) => ({
          value: asSwimmer(s, s.classIds.filter((classId) => classId !== write.classId)),
        }));
      case 'replaceSwimmerClasses':
        return when<Swimmer>(
          key.swimmer(write.merchantId, write.accountId, write.swimmerId),
          (s) => sameSet(s.classIds, write.read),
          (s) => ({ value: asSwimmer(s, write.classIds) }),
        );
      case 'putGrant':
        return put(key.grant(write.merchantId, write.grant.accountId, write.grant.grantNo), write.grant);
      case 'putPurchase': {
        const { purchase } = write;
        return put(key.purchase(purchase.merchantId, purchase.accountId, purchase.purchaseKey), purchase);
      }
      case 'putCart':
        return put(key.cart(write.cart.cartId), write.cart, write.dueAt === undefined ? {} : { dueAt: write.dueAt });
      case 'addLine': {
        const { edit, item } = write;
        return when<Cart>(
          key.cart(edit.cartId),
          (c) =>
            editableBy(c, edit.merchantId) &&
            !c.items.some((line) => line.itemId === item.itemId) &&
            (edit.currency === undefined || c.currency === undefined || c.currency === edit.currency),
          (c, row) => {
            const holdsExpireAt = c.holdsExpireAt ?? edit.holdsExpireAt;
            return {
              value: {
                ...c,
                items: [...c.items, item],
                status: CartStatus.Pending,
                updatedAt: edit.now,
                version: c.version + 1,
                ...(edit.currency !== undefined && { currency: c.currency ?? edit.currency }),
                ...(holdsExpireAt !== undefined && { holdsExpireAt }),
              },
              // A hold makes the cart due when its holds expire (the first hold's expiry).
              ...(row.dueAt !== undefined && { dueAt: row.dueAt }),
              ...(edit.holdsExpireAt !== undefined && { dueAt: holdsExpireAt }),
            };
          },
        );
      }
      case 'removeLine':
        return when<Cart>(
          key.cart(write.cartId),
          (c) => editableBy(c, write.merchantId) && c.items.some((line) => line.itemId === write.itemId),
          (c, row) => ({
            ...row,
            value: { ...c, items: c.items.filter((line) => line.itemId !== write.itemId), updatedAt: write.now, version: c.version + 1 },
          }),
        );
      case 'markFulfilled':
        return when<Cart>(
          key.cart(write.cartId),
          (c) => c.status === CartStatus.Applied && c.items.some((line) => line.itemId === write.itemId && !line.fulfilled),
          (c, row) => ({
            ...row,
            value: {
              ...c,
              items: c.items.map((line) => (line.itemId === write.itemId ? { ...line, fulfilled: true } : line)),
              updatedAt: write.now,
            },
          }),
        );
      case 'updateCart': {
        const { cart, from, dueAt } = write.write;
        return when<Cart>(
          key.cart(cart.cartId),
          (c) => c.status === from.status && c.version === from.version,
          (c) => ({
            value: {
              // The header only: the lines, the currency and the cart's identity stay as stored.
              ...cart,
              merchantId: c.merchantId,
              cartId: c.cartId,
              accountId: c.accountId,
              currency: c.currency,
              items: c.items,
              createdAt: c.createdAt,
            },
            ...(dueAt !== undefined && { dueAt }),
          }),
        );
      }
    }
  }
}

/** What the store holds; holds and carts with when they are due to the schedule. */
export interface SchoolContents {
  readonly classes: readonly SwimClass[];
  readonly holds: readonly (SeatHold & { readonly merchantId: string; readonly dueAt?: string })[];
  readonly students: readonly (Student & { readonly merchantId: string })[];
  readonly accounts: readonly Account[];
  readonly swimmers: readonly (Swimmer & { readonly merchantId: string })[];
  readonly purchases: readonly Purchase[];
  readonly grants: readonly (PointsGrant & { readonly merchantId: string })[];
  readonly carts: readonly (Cart & { readonly dueAt?: string })[];
}

/** A stored item: its value in domain types, and when it is due to the schedule (carts, holds). */
interface Row {
  readonly value: object;
  readonly dueAt?: string;
  readonly merchantId?: string;
}

const SEP = '\u0000';
const key = {
  class: (merchantId: string, classId: string) => ['class', merchantId, classId].join(SEP),
  hold: (...ids: string[]) => ['hold', ...ids].join(SEP),
  student: (...ids: string[]) => ['student', ...ids].join(SEP),
  account: (merchantId: string, accountId: string) => ['account', merchantId, accountId].join(SEP),
  swimmer: (merchantId: string, accountId: string, swimmerId: string) => ['swimmer', merchantId, accountId, swimmerId].join(SEP),
  grant: (merchantId: string, accountId: string, grantNo: string) => ['grant', merchantId, accountId, grantNo].join(SEP),
  purchase: (merchantId: string, accountId: string, purchaseKey: string) => ['purchase', merchantId, accountId, purchaseKey].join(SEP),
  cart: (cartId: string) => ['cart', cartId].join(SEP),
};

/** A deep copy without the fields set to undefined: DynamoDB stores no undefined attribute either. */
function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function editableBy(cart: Cart, merchantId: string): boolean {
  return cart.merchantId === merchantId && EDITABLE.has(cart.status);
}

function asCart(cart: Cart): Cart {
  return { ...cart, items: [...cart.items].sort(lineOrder) };
}

/** Classes are a set: no repeats, in order. */
function asSwimmer(swimmer: Swimmer, classIds: readonly string[]): Swimmer {
  return { ...swimmer, classIds: [...new Set(classIds)].sort() };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((value) => right.has(value));
}

/** DynamoDB orders sort keys by their bytes, not by locale. */
function bytewise(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
