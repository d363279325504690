/**
 * Change tracking over the fake provider's state, so that saving costs what a request changed
 * and not what the state holds.
 *
 * The state is a tree of plain objects whose arrays are collections of JSON records (the
 * PaymentIntents, refunds, call records, idempotency records). {@link trackState} hands out a
 * view of it made of Proxies: a set, delete or define anywhere inside a record marks that
 * record changed; a push onto a collection adds a record; any other change of a collection's
 * shape (a splice, a reorder, a new array assigned) is worked out at the next save by one pass
 * over that collection. No mutation site says what it changed, so a new one is persisted
 * without anyone touching the store. The alternatives cost more or trust more: diffing the
 * state against the last save is O(state) again, and immutable records replaced through the
 * store would rely on every site going through it.
 *
 * A record is known by a sequence number: its position when tracking began, or the next
 * number when it was added later. Changes name records by it, so records need no id of their
 * own (call records have none), and {@link Replay} rebuilds the same collections from the same
 * starting state.
 *
 * What it cannot see: a change made, after the save that followed its push, through a raw
 * record kept from before the push. The push itself is seen and the record is written whole
 * at that save, so code that builds a record, pushes it and finishes it within the request
 * (as `createPaymentIntent` does) is persisted. The state stays a tree, as JSON reloads it: a
 * value taken from the view and stored elsewhere in it is stored as a copy.
 */

/** What changed in one collection between two saves. */
export interface CollectionChange {
  /** Its whole content, numbered from 0: its order changed other than by pushes and removals. */
  readonly replace?: readonly unknown[];
  /** Records added or changed, as `[sequence number, record]`, in ascending order. */
  readonly upsert?: ReadonlyArray<readonly [number, unknown]>;
  /** Sequence numbers of the records removed. */
  readonly remove?: readonly number[];
}

/** What changed between two saves, by collection path (`ledger.paymentIntents`, `idempotency`). */
export type Changes = Readonly<Record<string, CollectionChange>>;

export interface TrackedState<S> {
  /** The state to read and change: every change made through it is recorded. */
  readonly view: S;
  /**
   * The changes since the last call, or undefined if there were none. They hold the state's
   * own records: serialize them before the state changes again.
   */
  takeChanges(): Changes | undefined;
}

/** Tracks `state`, which must not be changed other than through the view from now on. */
export function trackState<S extends object>(state: S): TrackedState<S> {
  const tracker = new Tracker();
  const view = tracker.holder(state, '') as S;
  return { view, takeChanges: () => tracker.take() };
}

/**
 * Rebuilds a state's collections from the changes tracking gave (a journal's lines), numbering
 * records as the tracker did: `state` must be what that tracking began from.
 */
export class Replay {
  private readonly collections = new Map<string, { holder: Record<string, unknown>; key: string; records: Map<number, unknown> }>();

  constructor(state: object) {
    forEachCollection(state, '', (path, holder, key, records) => {
      this.collections.set(path, { holder, key, records: new Map(records.map((record, seq) => [seq, record])) });
    });
  }

  apply(changes: Changes): void {
    for (const [path, change] of Object.entries(changes)) {
      const collection = this.collections.get(path);
      if (collection === undefined) throw new Error(`the changes name ${path}, which the state does not hold`);
      const { records } = collection;
      if (change.replace !== undefined) {
        records.clear();
        change.replace.forEach((record, seq) => records.set(seq, record));
      }
      for (const seq of change.remove ?? []) records.delete(seq);
      // New numbers only ever grow, so the map's insertion order stays the collection's order.
      for (const [seq, record] of change.upsert ?? []) records.set(seq, record);
    }
  }

  /** Writes the rebuilt collections into the state. */
  finish(): void {
    for (const { holder, key, records } of this.collections.values()) holder[key] = [...records.values()];
  }
}

/**
 * Finds records by a key (an id, the charge a refund belongs to): through an index kept up to
 * date from the tracked changes on a tracked collection, by a scan on a plain array. Make one
 * per key, at module scope: each is an index of its own. `key` must only read.
 */
export class Lookup<T> {
  constructor(private readonly key: (record: T) => string | undefined) {}

  /** The first record whose key is `value`, as `find()` would give it. */
  find(records: readonly T[], value: string): T | undefined {
    return collectionOf.has(records) ? this.all(records, value)[0] : records.find((record) => this.key(record) === value);
  }

  /** Every record whose key is `value`, in the collection's order. */
  all(records: readonly T[], value: string): T[] {
    const collection = collectionOf.get(records);
    if (collection === undefined) return records.filter((record) => this.key(record) === value);
    return collection.view(this, () => new KeyIndex(collection, this.key as (record: unknown) => string | undefined)).all(value) as T[];
  }
}

/**
 * The records a test holds for, in the collection's order: on a tracked collection kept up to
 * date from the tracked changes, so that finding the few open ones among many costs the few.
 * Make one per test, at module scope. `test` must only read.
 */
export class Selection<T> {
  constructor(private readonly test: (record: T) => boolean) {}

  of(records: readonly T[]): T[] {
    const collection = collectionOf.get(records);
    if (collection === undefined) return records.filter(this.test);
    return collection.view(this, () => new Subset(collection, this.test as (record: unknown) => boolean)).records() as T[];
  }
}

/** The tracked collection behind a collection of a view. */
const collectionOf = new WeakMap<object, Collection>();

interface Wrapped {
  readonly raw: object;
  /** The record the value belongs to: a change to it is a change to that record. */
  readonly owner: object;
  readonly collection: Collection;
  readonly proxy: object;
}

class Tracker {
  private readonly collections: Collection[] = [];
  private readonly byRaw = new WeakMap<object, Wrapped>();
  private readonly byProxy = new WeakMap<object, Wrapped>();

  holder(raw: object, prefix: string): object {
    const entries = new Map<string, Collection | object>();
    for (const [key, value] of Object.entries(raw)) {
      if (Array.isArray(value)) {
        const collection = new Collection(`${prefix}${key}`, value, this);
        this.collections.push(collection);
        entries.set(key, collection);
      } else if (isObject(value)) {
        entries.set(key, this.holder(value, `${prefix}${key}.`));
      }
    }
    return new Proxy(raw, new HolderHandler(prefix, entries));
  }

  take(): Changes | undefined {
    let changes: Record<string, CollectionChange> | undefined;
    for (const collection of this.collections) {
      const change = collection.take();
      if (change !== undefined) (changes ??= {})[collection.path] = change;
    }
    return changes;
  }

  /** The view of `raw`, a record of `collection` or a value inside its record `owner`. */
  wrap(raw: object, owner: object, collection: Collection): object {
    const known = this.byRaw.get(raw);
    if (known !== undefined && known.owner === owner && known.collection === collection) return known.proxy;
    const proxy = new Proxy(raw, new RecordHandler(this, collection, owner));
    const wrapped = { raw, owner, collection, proxy };
    this.byRaw.set(raw, wrapped);
    this.byProxy.set(proxy, wrapped);
    return proxy;
  }

  unwrap(value: unknown): Wrapped | undefined {
    return isObject(value) ? this.byProxy.get(value) : undefined;
  }

  /**
   * What to store for `value`: views inside it are replaced by copies of what they show, so
   * the state never holds a proxy (structuredClone could not copy it) nor a value twice.
   */
  detach(value: unknown): unknown {
    if (!isObject(value)) return value;
    const wrapped = this.byProxy.get(value);
    if (wrapped !== undefined) return structuredClone(wrapped.raw);
    const fields = value as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      const inner = fields[key];
      const kept = this.detach(inner);
      if (kept !== inner) fields[key] = kept;
    }
    return value;
  }
}

/** Something kept up to date from a collection's changes: an index, a subset. */
abstract class View {
  private stale = true;
  private readonly pending = new Set<unknown>();

  constructor(protected readonly collection: Collection) {}

  changed(raw: unknown): void {
    if (!this.stale) this.pending.add(raw);
  }

  invalidate(): void {
    this.stale = true;
    this.pending.clear();
  }

  protected refresh(): void {
    if (this.stale) {
      this.collection.reconcile();
      this.clear();
      for (const raw of this.collection.records) this.put(raw);
      this.stale = false;
    } else {
      for (const raw of this.pending) {
        this.drop(raw);
        if (this.collection.members.has(raw)) this.put(raw);
      }
    }
    this.pending.clear();
  }

  protected abstract clear(): void;
  protected abstract put(raw: unknown): void;
  protected abstract drop(raw: unknown): void;
}

class KeyIndex extends View {
  private readonly byKey = new Map<string, Set<unknown>>();
  private readonly keyOf = new Map<unknown, string>();

  constructor(collection: Collection, private readonly key: (record: unknown) => string | undefined) {
    super(collection);
  }

  all(value: string): unknown[] {
    this.refresh();
    const found = this.byKey.get(value);
    return found === undefined ? [] : this.collection.inOrder(found);
  }

  protected clear(): void {
    this.byKey.clear();
    this.keyOf.clear();
  }

  protected put(raw: unknown): void {
    const key = this.key(raw);
    if (key === undefined) return;
    this.keyOf.set(raw, key);
    let records = this.byKey.get(key);
    if (records === undefined) this.byKey.set(key, (records = new Set()));
    records.add(raw);
  }

  protected drop(raw: unknown): void {
    const key = this.keyOf.get(raw);
    if (key === undefined) return;
    this.keyOf.delete(raw);
    const records = this.byKey.get(key);
    records?.delete(raw);
    if (records?.size === 0) this.byKey.delete(key);
  }
}

class Subset extends View {
  private readonly members = new Set<unknown>();

  constructor(collection: Collection, private readonly test: (record: unknown) => boolean) {
    super(collection);
  }

  records(): unknown[] {
    this.refresh();
    return this.collection.inOrder(this.members);
  }

  protected clear(): void {
    this.members.clear();
  }

  protected put(raw: unknown): void {
    if (this.test(raw)) this.members.add(raw);
  }

  protected drop(raw: unknown): void {
    this.members.delete(raw);
  }
}

class Collection {
  /** Each record of the collection and its sequence number; up to date once reconciled. */
  readonly members = new Map<unknown, number>();
  readonly proxy: unknown[];
  private next: number;
  private readonly dirty = new Set<unknown>();
  private readonly removed: number[] = [];
  private replaced = false;
  /** Something other than a push changed the collection's shape; {@link reconcile} works out what. */
  private restructured = false;
  private readonly views = new Map<object, View>();

  constructor(
    readonly path: string,
    readonly records: unknown[],
    private readonly tracker: Tracker,
  ) {
    records.forEach((record, seq) => this.members.set(record, seq));
    this.next = records.length;
    this.proxy = new Proxy(records, new CollectionHandler(this));
    collectionOf.set(this.proxy, this);
  }

  changed(raw: unknown): void {
    this.dirty.add(raw);
    for (const view of this.views.values()) view.changed(raw);
  }

  pushed(raw: unknown): void {
    this.members.set(raw, this.next++);
    this.changed(raw);
  }

  restructure(): void {
    this.restructured = true;
    for (const view of this.views.values()) view.invalidate();
  }

  /** The record or value as the view shows it. */
  viewOf(raw: unknown): unknown {
    return isObject(raw) ? this.tracker.wrap(raw, raw, this) : raw;
  }

  /** What to store as a record: a record of this collection moves; anything else is detached. */
  adopt(value: unknown): unknown {
    const wrapped = this.tracker.unwrap(value);
    if (wrapped !== undefined && wrapped.collection === this && wrapped.owner === wrapped.raw) return wrapped.raw;
    return this.tracker.detach(value);
  }

  replaceWith(value: unknown): void {
    if (!Array.isArray(value)) throw new TypeError(`${this.path} can only be replaced by an array`);
    const records = Array.from(value as unknown[], (record) => this.adopt(record));
    this.records.length = 0;
    for (const record of records) this.records.push(record);
    this.restructure();
  }

  view<V extends View>(definition: object, create: () => V): V {
    let view = this.views.get(definition) as V | undefined;
    if (view === undefined) this.views.set(definition, (view = create()));
    return view;
  }

  /** The views of records of the collection, in its order. */
  inOrder(raws: Iterable<unknown>): unknown[] {
    return [...raws].sort((a, b) => (this.members.get(a) ?? 0) - (this.members.get(b) ?? 0)).map((raw) => this.viewOf(raw));
  }

  /**
   * After a change other than a push, one pass over the collection finds the records it
   * lost and those it gained. Pushes and removals keep the numbers ascending along the
   * collection; anything else (a reorder) has the whole collection written again, renumbered.
   */
  reconcile(): void {
    if (!this.restructured) return;
    this.restructured = false;
    const present = new Set<unknown>();
    let last = -1;
    let ordered = true;
    this.records.forEach((held, index) => {
      // A record held twice would be two records once reloaded: it is one now.
      const record = present.has(held) ? (this.records[index] = structuredClone(held)) : held;
      let seq = this.members.get(record);
      if (seq === undefined) {
        seq = this.next++;
        this.members.set(record, seq);
        this.dirty.add(record);
      }
      if (seq <= last) ordered = false;
      last = seq;
      present.add(record);
    });
    for (const [record, seq] of this.members) {
      if (present.has(record)) continue;
      this.members.delete(record);
      this.dirty.delete(record);
      this.removed.push(seq);
    }
    if (ordered) return;
    this.replaced = true;
    this.renumber();
  }

  /** Numbers the records by their positions, as a replay of `replace` does. */
  private renumber(): void {
    this.members.clear();
    this.records.forEach((record, seq) => this.members.set(record, seq));
    this.next = this.records.length;
  }

  take(): CollectionChange | undefined {
    this.reconcile();
    let change: CollectionChange | undefined;
    if (this.replaced) {
      // Records may have come and gone since the pass that found the disorder.
      this.renumber();
      change = { replace: [...this.records] };
    } else {
      const upsert: Array<readonly [number, unknown]> = [];
      for (const record of this.dirty) {
        const seq = this.members.get(record);
        if (seq !== undefined) upsert.push([seq, record]);
      }
      upsert.sort((a, b) => a[0] - b[0]);
      if (upsert.length > 0 || this.removed.length > 0) {
        change = {
          ...(upsert.length > 0 && { upsert }),
          ...(this.removed.length > 0 && { remove: [...this.removed] }),
        };
      }
    }
    this.replaced = false;
    this.dirty.clear();
    this.removed.length = 0;
    return change;
  }
}

class CollectionHandler implements ProxyHandler<unknown[]> {
  constructor(private readonly collection: Collection) {}

  get(target: unknown[], key: string | symbol): unknown {
    const value = Reflect.get(target, key);
    return isObject(value) && Object.hasOwn(target, key) ? this.collection.viewOf(value) : value;
  }

  set(target: unknown[], key: string | symbol, value: unknown): boolean {
    const collection = this.collection;
    if (key === 'length') {
      if (Number(value) < target.length) collection.restructure();
      return Reflect.set(target, key, value);
    }
    if (!isIndex(key)) return Reflect.set(target, key, value);
    const record = collection.adopt(value);
    const pushed = Number(key) === target.length && !collection.members.has(record);
    if (!Reflect.set(target, key, record)) return false;
    if (pushed) collection.pushed(record);
    else collection.restructure();
    return true;
  }

  deleteProperty(target: unknown[], key: string | symbol): boolean {
    if (isIndex(key)) this.collection.restructure();
    return Reflect.deleteProperty(target, key);
  }

  defineProperty(target: unknown[], key: string | symbol, descriptor: PropertyDescriptor): boolean {
    if (!isIndex(key)) return Reflect.defineProperty(target, key, descriptor);
    this.collection.restructure();
    const adopted = 'value' in descriptor ? { ...descriptor, value: this.collection.adopt(descriptor.value) } : descriptor;
    return Reflect.defineProperty(target, key, adopted);
  }
}

class RecordHandler implements ProxyHandler<object> {
  constructor(
    private readonly tracker: Tracker,
    private readonly collection: Collection,
    private readonly owner: object,
  ) {}

  get(target: object, key: string | symbol): unknown {
    const value: unknown = Reflect.get(target, key);
    // A frozen value cannot change, and a Proxy must hand it out as it is.
    if (!isObject(value) || !Object.hasOwn(target, key) || Object.isFrozen(value)) return value;
    return this.tracker.wrap(value, this.owner, this.collection);
  }

  set(target: object, key: string | symbol, value: unknown): boolean {
    return this.changed(Reflect.set(target, key, this.tracker.detach(value)));
  }

  deleteProperty(target: object, key: string | symbol): boolean {
    return this.changed(Reflect.deleteProperty(target, key));
  }

  defineProperty(target: object, key: string | symbol, descriptor: PropertyDescriptor): boolean {
    const detached = 'value' in descriptor ? { ...descriptor, value: this.tracker.detach(descriptor.value) } : descriptor;
    return this.changed(Reflect.defineProperty(target, key, detached));
  }

  private changed(done: boolean): boolean {
    if (done) this.collection.changed(this.owner);
    return done;
  }
}

/** The plain objects above the collections: their collections can be replaced, nothing else changed. */
class HolderHandler implements ProxyHandler<object> {
  constructor(
    private readonly prefix: string,
    private readonly entries: ReadonlyMap<string, Collection | object>,
  ) {}

  get(target: object, key: string | symbol): unknown {
    const entry = typeof key === 'string' ? this.entries.get(key) : undefined;
    if (entry instanceof Collection) return entry.proxy;
    return entry ?? Reflect.get(target, key);
  }

  set(_target: object, key: string | symbol, value: unknown): boolean {
    this.collection(key).replaceWith(value);
    return true;
  }

  deleteProperty(_target: object, key: string | symbol): boolean {
    throw this.refusal(key);
  }

  defineProperty(_target: object, key: string | symbol): boolean {
    throw this.refusal(key);
  }

  private collection(key: string | symbol): Collection {
    const entry = typeof key === 'string' ? this.entries.get(key) : undefined;
    if (entry instanceof Collection) return entry;
    throw this.refusal(key);
  }

  private refusal(key: string | symbol): TypeError {
    return new TypeError(
      `${this.prefix}${String(key)} is not a collection of the persisted state: only a collection can be assigned, and nothing removed or added here`,
    );
  }
}

function forEachCollection(
  state: object,
  prefix: string,
  visit: (path: string, holder: Record<string, unknown>, key: string, records: unknown[]) => void,
): void {
  for (const [key, value] of Object.entries(state)) {
    if (Array.isArray(value)) visit(`${prefix}${key}`, state as Record<string, unknown>, key, value);
    else if (isObject(value)) forEachCollection(value, `${prefix}${key}.`, visit);
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isIndex(key: string | symbol): key is string {
  return typeof key === 'string' && /^(0|[1-9]\d*)$/.test(key);
}
