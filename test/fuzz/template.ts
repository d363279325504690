import { toStringMethod } from 'fast-check';
import { type Json, RawNumber, isObject } from './json-text.ts';

/**
 * Generated requests name the things they act on by kind and index, and values that must be
 * new by kind: they are resolved against the world when the request is sent. So a shrunk
 * counterexample stays readable, and a valid request stays valid on every run.
 */
export type RefKind = 'payment' | 'refund' | 'payout' | 'class' | 'account' | 'cart' | 'item' | 'swimmer' | 'settlement' | 'event' | 'endpoint';

/** Something that exists: the fuzzing merchant's, or the other merchant's. */
export class Ref {
  constructor(
    readonly kind: RefKind,
    readonly index: number,
    readonly owner: 'merchant' | 'other' = 'merchant',
  ) {}
  [toStringMethod]() {
    return `ref(${this.owner === 'other' ? 'other ' : ''}${this.kind} ${this.index})`;
  }
}

/** A value no request used before: an order_no, a client id, an operator, an Idempotency-Key. */
export class Fresh {
  constructor(readonly kind: 'order' | 'id' | 'operator' | 'key') {}
  [toStringMethod]() {
    return `fresh(${this.kind})`;
  }
}

export type Template = Json | Ref | Fresh | Template[] | { [key: string]: Template };

/** What exists, per merchant; every answer the fuzzer gets adds to it. */
export interface Things {
  /** Succeeded payments with plenty left to refund. */
  readonly payments: string[];
  readonly refunds: string[];
  readonly payouts: string[];
  readonly classes: string[];
  readonly accounts: string[];
  /** With the status the last answer showed, and how many requests had been sent then. */
  readonly carts: { cartId: string; accountId: string; status?: string; seenAt?: number }[];
  readonly swimmers: Map<string, string[]>;
  readonly items: Map<string, string[]>;
}

export const emptyThings = (): Things => ({
  payments: [],
  refunds: [],
  payouts: [],
  classes: [],
  accounts: [],
  carts: [],
  swimmers: new Map(),
  items: new Map(),
});

export interface World {
  readonly merchant: Things;
  readonly other: Things;
  /** Unique per run, so fresh values never meet an earlier run's against a long-lived stack. */
  readonly runId: string;
  sequence: number;
  /** Requests sent so far. */
  requests: number;
}

/** The cart (and so the account) a request's path names, for refs that must belong to it. */
export interface Scope {
  readonly cartId?: string;
  readonly accountId?: string;
}

/** Picks from the newest end, so requests keep meeting carts that are still open. */
function newest<T>(list: readonly T[], index: number): T | undefined {
  return list.length === 0 ? undefined : list[list.length - 1 - (index % list.length)];
}

/** Ids of the right form that name nothing: what a ref resolves to when the world has none of its kind (yet). */
const NOTHING: Readonly<Record<RefKind, string>> = {
  payment: `pay_${'f'.repeat(24)}`,
  refund: `re_${'f'.repeat(24)}`,
  payout: `po_${'f'.repeat(24)}`,
  class: 'no-such-class',
  account: 'no-such-account',
  cart: `cart_${'f'.repeat(24)}`,
  item: `itm_${'f'.repeat(16)}`,
  swimmer: 'no-such-swimmer',
  settlement: `stl_${Buffer.from('merchant_nobody|2026-12-01|USD').toString('base64url')}`,
  event: `evt_${'f'.repeat(24)}`,
  endpoint: `we_${'f'.repeat(24)}`,
};

export function resolveRef(world: World, ref: Ref, scope: Scope = {}): string {
  const things = world[ref.owner];
  const cart = scope.cartId ?? newest(things.carts, ref.index)?.cartId;
  const accountId = scope.accountId ?? things.carts.find((c) => c.cartId === cart)?.accountId;
  const mine = <T>(own: T[] | undefined, all: () => T[]) => (own !== undefined && own.length > 0 ? own : all());
  const found = {
    payment: () => newest(things.payments, ref.index),
    refund: () => newest(things.refunds, ref.index),
    payout: () => newest(things.payouts, ref.index),
    class: () => newest(things.classes, ref.index),
    account: () => newest(things.accounts, ref.index),
    // Every other ref names a cart that can still be edited, so requests get past `cart_closed`.
    cart: () => newest(ref.index % 2 === 0 ? mine(things.carts.filter(isOpen), () => things.carts) : things.carts, ref.index)?.cartId,
    item: () => newest(mine(cart === undefined ? undefined : things.items.get(cart), () => [...things.items.values()].flat()), ref.index),
    swimmer: () => newest(mine(accountId === undefined ? undefined : things.swimmers.get(accountId), () => [...things.swimmers.values()].flat()), ref.index),
    // No request makes one: the schedule does, for days that ended, which a fuzz run never sees.
    settlement: () => undefined,
    // The world does not track them yet: their routes are fuzzed with ids that name nothing, and garbage.
    event: () => undefined,
    endpoint: () => undefined,
  }[ref.kind]();
  return found ?? NOTHING[ref.kind];
}

const isOpen = (cart: Things['carts'][number]) => cart.status === undefined || cart.status === 'active' || cart.status === 'pending';

export function freshValue(world: World, fresh: Fresh): string {
  world.sequence += 1;
  const value = `fz-${world.runId}-${world.sequence}`;
  return fresh.kind === 'key' ? `key ${value}` : value;
}

/** The template with every ref and fresh value replaced; the same Fresh instance gets the same value. */
export function resolve(world: World, template: Template, scope: Scope = {}, chosen = new Map<Fresh, string>()): Json {
  if (template instanceof Ref) return resolveRef(world, template, scope);
  if (template instanceof Fresh) {
    if (!chosen.has(template)) chosen.set(template, freshValue(world, template));
    return chosen.get(template)!;
  }
  if (template instanceof RawNumber) return template;
  if (Array.isArray(template)) return template.map((item) => resolve(world, item, scope, chosen));
  if (isObject(template)) {
    return Object.fromEntries(Object.entries(template).map(([key, value]) => [key, resolve(world, value, scope, chosen)]));
  }
  return template as Json;
}
