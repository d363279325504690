import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { idempotencyLeaseSeconds, idempotencyWaitMs } from '../../config/env.ts';
import { Metric } from '../../config/metrics.ts';
import { IdempotencyKeyMismatchError, RequestInProgressError, ValidationError } from '../../domain/errors.ts';
import { withFinishedKeyCache } from '../../domain/finished-key-cache.ts';
import { type IdempotencyDeps, idempotencyId, runIdempotently } from '../../domain/idempotency.ts';
import { once, systemClock } from '../shared/once.ts';
import { idempotencyStore } from '../shared/persistence.ts';
import type { ApiRequest, ApiResult } from './http.ts';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** A create route, in the pieces the idempotency layer needs to put itself around it. */
export interface CreateRoute<I> {
  /** Which route's keys (a key on two routes names two requests). */
  readonly scope: string;
  /** Validates the request; a request that fails here never touches its key. */
  parse(event: APIGatewayProxyEvent): I;
  /**
   * The key of a request sent without an Idempotency-Key, and how a refusal names it to the
   * client (the business key it comes from: `order_no o-1`); a route without one requires the
   * header (a request that has no natural key of its own: 400 naming Idempotency-Key).
   */
  defaultKey?(input: I): { readonly key: string; readonly name: string; readonly field: string };
  /**
   * A route whose request has no natural key, where a request sent without the header is a new
   * one each time (Stripe's POSTs): it runs unguarded, under a key of its own. Absent: a route
   * without a `defaultKey` requires the header.
   */
  readonly keyOptional?: boolean;
  /**
   * The `defaultKey` is the business key of an item the run writes with a condition that it is
   * new, and the run answers a repeat with the first answer rebuilt from that item: for a
   * request without the header that write is the claim, so the layer writes no record of its
   * own (two writes less per request: its claim and its answer). Everything the record gives
   * holds without it: a repeat gets the first answer, a repeat with other parameters is refused
   * naming the field, and a repeat in flight needs no wait, since nothing after that write can
   * fail the request.
   */
  readonly defaultKeyClaimedByRun?: true;
  /** The parameters a repeat must match, by API field name. */
  parameters(input: I): Record<string, unknown>;
  /** `key` is the request's idempotency key as the layer knows it (header or derived). */
  run(input: I, request: ApiRequest, key: string): Promise<ApiResult>;
}

/** Finished keys this instance remembers; a few MB at most. */
const FINISHED_KEYS_KEPT = 2000;

const idempotencyDeps = /* @__PURE__ */ once(
  (): IdempotencyDeps => ({
    store: withFinishedKeyCache(idempotencyStore(), FINISHED_KEYS_KEPT),
    clock: systemClock,
    leaseMs: idempotencyLeaseSeconds() * 1000,
    waitMs: idempotencyWaitMs(),
    newOwner: randomUUID,
    sleep: (ms) => sleep(ms),
  }),
);

/**
 * The route behind the idempotency layer: a replay answers 200 with the first answer's body
 * and `Idempotent-Replayed: true`; a mismatch or a request still in progress answers 409.
 */
export function idempotentRoute<I>(route: CreateRoute<I>): (request: ApiRequest) => Promise<ApiResult> {
  return async (request) => {
    const { event, merchantId, metrics, log } = request;
    const input = route.parse(event);
    const keyed = keyOf(route, input, event);
    if (keyed === undefined) return route.run(input, request, unkeyed());
    if (keyed.derived && route.defaultKeyClaimedByRun === true) return route.run(input, request, keyed.key);
    const { key, name: keyName, field: keyField } = keyed;
    const keyHash = idempotencyId(merchantId, route.scope, key);
    metrics.add(Metric.IdempotentRequest);
    try {
      const answer = await runIdempotently(
        idempotencyDeps(),
        { merchantId, scope: route.scope, key, keyName, keyField, parameters: route.parameters(input) },
        () => route.run(input, { ...request, log: { ...log, idempotency_key_hash: keyHash } }, key),
      );
      if (answer.waitedMs !== undefined) {
        metrics.add(Metric.InFlightWait);
        metrics.add(Metric.InFlightWaitDuration, answer.waitedMs);
      }
      if (answer.tookOver) metrics.add(Metric.LeaseTakeover);
      if (!answer.replayed) return answer.response;
      metrics.add(Metric.IdempotentReplay);
      return { status: 200, body: answer.response.body, headers: { [REPLAYED_HEADER]: 'true' } };
    } catch (error) {
      if (error instanceof IdempotencyKeyMismatchError) metrics.add(Metric.IdempotencyKeyMismatch);
      if (error instanceof RequestInProgressError) metrics.add(Metric.RequestInProgress);
      throw error;
    }
  };
}

/** The route without the layer: what a baseline (or a caller with its own layer) wraps. */
export function plainRoute<I>(route: CreateRoute<I>): (request: ApiRequest) => Promise<ApiResult> {
  return (request) => {
    const input = route.parse(request.event);
    return route.run(input, request, keyOf(route, input, request.event)?.key ?? unkeyed());
  };
}

/** A request's key, apart from every client's and derived one: never repeated. */
const unkeyed = () => `unkeyed:${randomUUID()}`;

/**
 * Apart, so a client's key can never collide with a key derived from another request's fields;
 * undefined for a request of a `keyOptional` route sent without one.
 */
function keyOf<I>(
  route: CreateRoute<I>,
  input: I,
  event: APIGatewayProxyEvent,
): { key: string; name: string; field: string; derived: boolean } | undefined {
  const header = idempotencyKeyOf(event);
  if (header !== undefined) {
    return { key: `header:${header}`, name: `this ${IDEMPOTENCY_KEY_HEADER}`, field: IDEMPOTENCY_KEY_HEADER, derived: false };
  }
  if (route.defaultKey === undefined) {
    if (route.keyOptional === true) return undefined;
    throw new ValidationError(IDEMPOTENCY_KEY_HEADER, 'is required on this route');
  }
  const derived = route.defaultKey(input);
  return { ...derived, key: `derived:${derived.key}`, derived: true };
}

export const PRINTABLE = /^[\x20-\x7e]{1,255}$/;

/** The Idempotency-Key header, whatever its case; 1 to 255 printable characters. */
function idempotencyKeyOf(event: APIGatewayProxyEvent): string | undefined {
  const name = Object.keys(event.headers ?? {}).find((h) => h.toLowerCase() === IDEMPOTENCY_KEY_HEADER.toLowerCase());
  const value = name === undefined ? undefined : event.headers[name];
  if (value === undefined || value === null) return undefined;
  if (!PRINTABLE.test(value) || value.trim() === '') {
    throw new ValidationError(IDEMPOTENCY_KEY_HEADER, 'must be 1 to 255 printable characters');
  }
  return value;
}
