import { createHash } from 'node:crypto';
import { IdempotencyKeyMismatchError, RequestInProgressError, ignoreUnlessProcessExit, isProcessExit } from './errors.ts';
import type { Clock } from './ports.ts';

/**
 * Idempotency keys for the API's create routes. A key names one request for 24 hours: its
 * first answer is stored and replayed to every repeat with the same parameters; a repeat
 * with other parameters is refused, naming the field; a repeat that arrives while the first
 * is still running waits for its answer. A key whose request was never answered (it failed,
 * or died and its lease lapsed) protects nothing: the next request gets it, whatever its
 * parameters, so a corrected retry is never refused.
 *
 * The layer sits in front of operations that are idempotent on their own business keys (a
 * payment's order_no, a refund's derived refund_no), so a lease that lapses, or a record that
 * expires, can at worst run the operation twice to the same effect: never two payments.
 */
export interface IdempotencyRequest {
  readonly merchantId: string;
  /** Which route's keys: the same key on two routes names two requests. */
  readonly scope: string;
  /** The key itself; only its digest is stored or logged. */
  readonly key: string;
  /**
   * The key as the client knows it, for a refusal's message: `this Idempotency-Key` when it
   * sent one, else the business key it was derived from (`order_no o-1`).
   */
  readonly keyName: string;
  /** The request field the key is (`Idempotency-Key`, or the business key's field: `order_no`). */
  readonly keyField: string;
  /** The request's parameters by their API names; a repeat must match every one. */
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** An answer as the API gave it, kept for replays. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
}

/** Who is processing a key's first request, and until when the claim holds without them. */
export interface KeyLease {
  readonly owner: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

export interface IdempotencyRecord {
  /** The digest of (merchant, scope, key). */
  readonly id: string;
  /** Each parameter's digest, by API field name. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly lease?: KeyLease;
  /** Present once the first request finished. */
  readonly response?: StoredResponse;
  /** Seconds since the epoch; DynamoDB's TTL deletes the record some time after. */
  readonly expiresAt: number;
}

export interface IdempotencyStore {
  /** The record as stored (strongly consistent), expired or not. */
  get(id: string): Promise<IdempotencyRecord | undefined>;
  /**
   * Writes `record` unless a record of its id exists that has not expired at `nowSeconds`;
   * returns that record instead when one does.
   */
  claim(record: IdempotencyRecord, nowSeconds: number): Promise<IdempotencyRecord | undefined>;
  /**
   * Gives an unfinished record whose lease `lapsed` to `lease`, with the taker's `parameters`
   * (a repeat must now match those); false when another got there first.
   */
  takeOver(id: string, lapsed: KeyLease, lease: KeyLease, parameters: Readonly<Record<string, string>>): Promise<boolean>;
  /** Stores the answer and ends the lease, if `owner` still holds it; false otherwise. */
  complete(id: string, owner: string, response: StoredResponse): Promise<boolean>;
  /** Deletes the record, if `owner` still holds its lease: the key is free again. */
  release(id: string, owner: string): Promise<void>;
}

export interface IdempotencyDeps {
  readonly store: IdempotencyStore;
  readonly clock: Clock;
  /** How long a claim holds if its owner never finishes (it crashed, or timed out). */
  readonly leaseMs: number;
  /** How long a repeat waits for the first request's answer before `request_in_progress`. */
  readonly waitMs: number;
  readonly newOwner: () => string;
  readonly sleep: (ms: number) => Promise<void>;
}

/** How an answer came about, for the API's header and the metrics. */
export interface IdempotentAnswer {
  readonly response: StoredResponse;
  /** The stored answer of an earlier request, not this one's. */
  readonly replayed: boolean;
  /** How long this request waited for another with the same key, when it did. */
  readonly waitedMs?: number;
  /** This request took over the claim of one that never finished. */
  readonly tookOver: boolean;
}

/** Key records live for 24 hours, as the API promises. */
export const KEY_RETENTION_SECONDS = 24 * 3600;

const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 400;

/** The digest that stands for a key wherever it is stored or logged. */
export function idempotencyId(merchantId: string, scope: string, key: string): string {
  return digest(`${merchantId}\u0000${scope}\u0000${key}`);
}

/**
 * Runs `operation` once per key: replays the stored answer of a finished first request,
 * waits (up to `waitMs`) for one still running, takes over one whose lease lapsed. A failed
 * operation frees the key so the client may retry with it, corrected or not; a process death
 * leaves the claim to lapse.
 */
export async function runIdempotently(
  deps: IdempotencyDeps,
  request: IdempotencyRequest,
  operation: () => Promise<StoredResponse>,
): Promise<IdempotentAnswer> {
  const id = idempotencyId(request.merchantId, request.scope, request.key);
  const parameters = Object.fromEntries(
    Object.entries(request.parameters).map(([field, value]) => [field, digest(canonical(value))]),
  );
  const startedAt = deps.clock().getTime();
  const waited = () => deps.clock().getTime() - startedAt;
  let pollMs = FIRST_POLL_MS;
  // Whether this request slept for another: the store's own latency is no wait.
  let slept = false;
  // The leases this request asked for: a claim or take-over that timed out may still have
  // landed (the SDK then retries it and finds it taken), and finding one's own lease is holding it.
  // Each owner this request asked for, and whether by a take-over.
  const mine = new Map<string, boolean>();
  const newLease = (now: number, takingOver: boolean) => {
    const lease = { owner: deps.newOwner(), expiresAt: now + deps.leaseMs };
    mine.set(lease.owner, takingOver);
    return lease;
  };
  let seen = await deps.store.get(id);
  for (;;) {
    const now = deps.clock().getTime();
    if (seen === undefined || seen.expiresAt <= now / 1000) {
      const lease = newLease(now, false);
      const record = { id, parameters, lease, expiresAt: Math.floor(now / 1000) + KEY_RETENTION_SECONDS };
      seen = await deps.store.claim(record, Math.floor(now / 1000));
      if (seen === undefined) return { ...(await runAs(deps, id, lease.owner, operation)), tookOver: false };
      continue;
    }
    const held = seen.lease === undefined ? undefined : mine.get(seen.lease.owner);
    if (seen.response === undefined && held !== undefined) {
      return { ...(await runAs(deps, id, seen.lease!.owner, operation)), tookOver: held };
    }
    const differing = Object.keys({ ...parameters, ...seen.parameters }).find(
      (field) => parameters[field] !== seen?.parameters[field],
    );
    const mismatch = (field: string) =>
      new IdempotencyKeyMismatchError(field, `${request.keyName} was already used with another ${field}`);
    if (seen.response !== undefined) {
      if (differing !== undefined) throw mismatch(differing);
      return { response: seen.response, replayed: true, tookOver: false, ...(slept && { waitedMs: waited() }) };
    }
    const lease = seen.lease;
    if (lease !== undefined && lease.expiresAt <= now) {
      // Its request died unanswered: no client holds an answer to protect, so the key goes to
      // this request whatever its parameters. What the dead one may have written is guarded
      // by the operation's own business keys.
      const taken = newLease(now, true);
      if (await deps.store.takeOver(id, lease, taken, parameters)) {
        return { ...(await runAs(deps, id, taken.owner, operation)), tookOver: true };
      }
    } else if (differing !== undefined) {
      // Still running, for all we know: its client may yet get an answer for other parameters.
      throw mismatch(differing);
    } else if (waited() >= deps.waitMs) {
      const retryAfter = Math.max(1, Math.ceil(((lease?.expiresAt ?? now) - now) / 1000));
      throw new RequestInProgressError(request.keyName, request.keyField, Math.min(retryAfter, Math.ceil(deps.leaseMs / 1000)));
    } else {
      await deps.sleep(Math.min(pollMs, deps.waitMs - waited()));
      slept = true;
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
    }
    seen = await deps.store.get(id);
  }
}

async function runAs(
  deps: IdempotencyDeps,
  id: string,
  owner: string,
  operation: () => Promise<StoredResponse>,
): Promise<Omit<IdempotentAnswer, 'tookOver'>> {
  let response: StoredResponse;
  try {
    response = await operation();
  } catch (error) {
    // A failure answers the client with an error, which is no answer to keep: the key is
    // freed for its retry, corrected or not, and whatever the operation wrote first is found
    // again by its business keys. A dead process runs no code, so a crash frees nothing (the
    // lease lapses); a failed release leaves the same claim to lapse, and one that dies dies.
    if (!isProcessExit(error)) await deps.store.release(id, owner).catch(ignoreUnlessProcessExit);
    throw error;
  }
  // Lost to a takeover (we outlived our lease): the answer stands, the operation being
  // idempotent by itself, and the other owner stores the same one.
  await deps.store.complete(id, owner, response);
  return { response, replayed: false };
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A value as text, object keys sorted, so equal parameters always digest the same. */
function canonical(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
