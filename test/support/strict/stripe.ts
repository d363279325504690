import Stripe from 'stripe';
import { StripePaymentProvider } from '../../../functions/adapters/stripe/stripe-provider.ts';
import type { Clock } from '../../../functions/domain/ports.ts';
import type { PaymentProvider } from '../../../functions/domain/provider.ts';
import { StripeApiError, type StripeErrorBody } from '../../../local/fake-provider/api-error.ts';
import { FaultController, type PendingRefundRule } from '../../../local/fake-provider/faults.ts';
import { type ParamValue, type Params, canonicalParams } from '../../../local/fake-provider/form.ts';
import type { CallRecord, Ledger, PaymentIntentRecord, RefundEnd } from '../../../local/fake-provider/ledger.ts';
import { type Answer as RouteAnswer, callRecord } from '../../../local/fake-provider/server.ts';
import {
  AUTHORIZATION_WINDOW_SECONDS,
  type ApiContext,
  cancelPaymentIntent,
  capturePaymentIntent,
  createPaymentIntent,
  expireAuthorization,
  expireLapsedAuthorizations,
  retrievePaymentIntent,
  searchPaymentIntents,
} from '../../../local/fake-provider/payment-intents.ts';
import { createRefund, listRefunds, retrieveRefund, settleDueRefunds, settleRefund } from '../../../local/fake-provider/refunds.ts';
import { TrailingView } from './trailing-view.ts';

/**
 * How one request to Stripe goes wrong, the ways Stripe and the network can:
 * - `unavailable` (503), `rateLimited` (429), `keyInUse` (409 `idempotency_key_in_use`),
 *   `refused` (400): answered before the request ran, so nothing is kept for its key (a
 *   refusal of what the request says never meets a key Stripe keeps an answer for: the
 *   same request, once run, validates and is answered the same way);
 * - `lostResponse`: the request ran and its answer is kept for the key, but the connection
 *   dropped before the caller heard it;
 * - `timeout`: the caller gave up while the request is still running at Stripe, holding its
 *   key (a retry meanwhile meets `idempotency_key_in_use`); it lands within a minute, or
 *   sooner at {@link StrictStripe.completeInFlight};
 * - `error500`: the request began and failed with a 500, which Stripe keeps for the key and
 *   replays to every retry for 24 hours; `error500Committed` the same after it changed things.
 */
export const stripeFaults = [
  'unavailable',
  'rateLimited',
  'keyInUse',
  'refused',
  'lostResponse',
  'timeout',
  'error500',
  'error500Committed',
] as const;
export type StripeFault = (typeof stripeFaults)[number];

/** Stripe forgets an idempotency key 24 hours after its first use. */
export const STRIPE_KEY_LIFETIME_MS = 24 * 3600 * 1000;
/** Stripe's search index trails writes by up to a minute. */
export const STRIPE_SEARCH_LAG_MS = 60 * 1000;
/** A request Stripe received finishes within this long, whether or not anyone still waits for it. */
export const STRIPE_REQUEST_LANDS_WITHIN_MS = 60 * 1000;

interface Answer {
  readonly status: number;
  /** The body as JSON text: a replay is a fresh copy of what the first caller got. */
  readonly text: string;
  /** Whether Stripe keeps it for the key: only requests that began to run are kept. */
  readonly kept: boolean;
}

interface KeptAnswer {
  /** Method, path and canonical params: a reuse of the key with anything else is an idempotency_error. */
  readonly request: string;
  readonly answer: Answer;
  readonly atMs: number;
}

type Route = (ctx: ApiContext, params: Params) => unknown;

export interface StrictStripeOptions {
  readonly clock: Clock;
  /** How far search results may trail writes; unset, they never do. */
  readonly searchLagMs?: number;
  /** How long a new authorization lasts; a card's 7 days unless set. */
  readonly authorizationWindowSeconds?: number;
}

/**
 * Stripe in memory, shaped as the `stripe` SDK's client so that the real adapter
 * ({@link StripePaymentProvider}) runs on it unchanged: the fake provider's PaymentIntents and
 * Refunds (the same test cards, declines, charge limits, captures, cancellations, refund limits,
 * pending refunds and 7-day authorization lapse), under Stripe's idempotency rules as the fake
 * keeps them too: an answer is kept only once the request began to run (a 400 from parameter
 * validation, a 409 key-in-use, a 429 or 503 answered in front of the API keep nothing; a
 * decline, a refusal of the PaymentIntent's state and a 500 from inside are kept); a key reused
 * with another request is an `idempotency_error`; a key is forgotten 24 hours after its first
 * use. Ids are numbered, so a history replays to the same ids.
 */
export class StrictStripe {
  /** Every PaymentIntent and refund, with each capture and cancellation, as the fake's ledger keeps them. */
  readonly ledger: Ledger = { paymentIntents: [], refunds: [], payouts: [], calls: [] };
  /** The idempotency key each PaymentIntent or refund was created under. */
  readonly createdUnderKey = new Map<string, string>();
  private readonly keys = new Map<string, KeptAnswer>();
  private readonly inFlight = new Map<string, { readonly sinceMs: number; readonly land: () => void }>();
  /** Ids of the objects created so far, in order: what a request created is what it added. */
  private readonly minted: string[] = [];
  private readonly search: TrailingView<Ledger>;
  private armed: StripeFault | undefined;
  /** The fake's switch that holds new refunds pending, and how each then settles. */
  private readonly refundHolds = new FaultController();
  private lastId = 0;
  private readonly ctx: ApiContext;

  constructor(private readonly options: StrictStripeOptions) {
    this.ctx = {
      ledger: this.ledger,
      now: () => Math.floor(this.options.clock().getTime() / 1000),
      authorizationWindowSeconds: () => this.options.authorizationWindowSeconds ?? AUTHORIZATION_WINDOW_SECONDS,
      takePendingRefund: (paymentIntent) => this.refundHolds.takePendingRefund(paymentIntent),
    };
    this.search = new TrailingView(
      () => {
        expireLapsedAuthorizations(this.ctx);
        return structuredClone(this.ledger);
      },
      () => this.options.clock().getTime(),
      options.searchLagMs,
    );
  }

  readonly paymentIntents = {
    create: (params: object, options?: RequestOptions) =>
      this.post('/v1/payment_intents', params, options, (ctx, p) => this.numbered(() => createPaymentIntent(ctx, p))),
    capture: (id: string, params: object, options?: RequestOptions) =>
      this.post(`/v1/payment_intents/${id}/capture`, params, options, (ctx, p) => capturePaymentIntent(ctx, id, p)),
    cancel: (id: string, params: object, options?: RequestOptions) =>
      this.post(`/v1/payment_intents/${id}/cancel`, params, options, (ctx, p) => cancelPaymentIntent(ctx, id, p)),
    retrieve: (id: string, params: object = {}) =>
      this.get(`/v1/payment_intents/${id}`, params, (ctx, p) => retrievePaymentIntent(ctx, id, p)),
    search: (params: object) =>
      this.get('/v1/payment_intents/search', params, (ctx, p) => searchPaymentIntents({ ...ctx, ledger: this.search.current() }, p)),
  };

  readonly refunds = {
    create: (params: object, options?: RequestOptions) =>
      this.post('/v1/refunds', params, options, (ctx, p) => this.numbered(() => createRefund(ctx, p))),
    list: (params: object) => this.get('/v1/refunds', params, (ctx, p) => listRefunds(ctx, p)),
    retrieve: (id: string, params: object = {}) => this.get(`/v1/refunds/${id}`, params, (ctx, p) => retrieveRefund(ctx, id, p)),
  };

  /**
   * The next `count` refunds start `pending`, as Stripe's do when the balance cannot cover
   * them, each settling by itself as `rule.settle` says, or at {@link settleRefund}.
   */
  holdNextRefunds(count: number, rule: PendingRefundRule = {}): void {
    this.refundHolds.holdNextRefunds(count, rule);
  }

  /** Ends the pending refund `id` now, as Stripe ends one in its own time. */
  settleRefund(id: string, status: RefundEnd, failureReason?: string): void {
    this.current();
    settleRefund(this.ctx, id, status, failureReason);
  }

  /** Every request Stripe received, in order (`GET /v1/...`, `POST /v1/...`), whatever became of it. */
  readonly requests: string[] = [];

  /** PaymentIntent `id` as Stripe holds it now (authorizations past their window lapsed). */
  intent(id: string): PaymentIntentRecord | undefined {
    this.current();
    expireLapsedAuthorizations(this.ctx);
    return this.ledger.paymentIntents.find((pi) => pi.id === id);
  }

  /** The POSTs Stripe ran of one kind, with the keys they carried (a replay is not run again). */
  callsTo(kind: 'authorize' | 'capture' | 'void' | 'refund'): CallRecord[] {
    const of: Record<typeof kind, (request: string) => boolean> = {
      authorize: (request) => request === 'POST /v1/payment_intents',
      capture: (request) => request.endsWith('/capture'),
      void: (request) => request.endsWith('/cancel'),
      refund: (request) => request === 'POST /v1/refunds',
    };
    return this.ledger.calls.filter((call) => of[kind](call.request));
  }

  /** What Stripe does a day after a key's first use, without the day passing: every key forgotten. */
  forgetKeys(): void {
    this.keys.clear();
  }

  /** The card network lets the authorization of PaymentIntent `id` lapse now, as it does after its window. */
  lapse(id: string): void {
    expireAuthorization(this.ctx, id);
  }

  /** The next request fails as `fault` says (and only the next: it is used up by it). */
  arm(fault: StripeFault | undefined): void {
    this.armed = fault;
  }

  /** Whether an armed fault is still waiting for its request. */
  get faultArmed(): boolean {
    return this.armed !== undefined;
  }

  /** Requests still running at Stripe after their caller gave up. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Every request still running at Stripe finishes, its answer kept for its key. */
  completeInFlight(): number {
    return this.land(() => true);
  }

  /**
   * The ledger as it stands, requests that ran out their minute landed and pending refunds
   * whose time came settled: for reading between requests.
   */
  current(): Ledger {
    this.land((sinceMs) => this.options.clock().getTime() - sinceMs >= STRIPE_REQUEST_LANDS_WITHIN_MS);
    settleDueRefunds(this.ctx);
    return this.ledger;
  }

  private land(due: (sinceMs: number) => boolean): number {
    const landing = [...this.inFlight].filter(([, request]) => due(request.sinceMs));
    for (const [key] of landing) this.inFlight.delete(key);
    for (const [, request] of landing) request.land();
    return landing.length;
  }

  /** The search index catches up with every write. */
  catchUpSearch(): void {
    this.search.catchUp();
  }

  /** The ledger as it stands now, authorizations past their window lapsed. */
  snapshot(): Ledger {
    this.current();
    expireLapsedAuthorizations(this.ctx);
    return structuredClone(this.ledger);
  }

  private async post(path: string, body: object, options: RequestOptions | undefined, route: Route): Promise<unknown> {
    this.requests.push(`POST ${path}`);
    this.current();
    const fault = this.takeFault();
    const params = toFormParams(body);
    const key = options?.idempotencyKey;
    this.forgetExpiredKeys();
    // A refusal of the request's content cannot strike a retry of one that ran: Stripe answers
    // a key it keeps with the kept answer, and the same request validates the same way.
    const refusedAnyway = fault === 'refused' && (key === undefined || !this.keys.has(key));
    if (fault === 'unavailable' || fault === 'rateLimited' || fault === 'keyInUse' || refusedAnyway) {
      return answered(refusal(refusals[fault]));
    }
    const run = () => this.recorded(path, key, () => this.execute(route, params));
    if (key === undefined) {
      const answer = run();
      if (fault !== undefined && fault !== 'refused') throw connectionLost();
      return answered(answer);
    }
    const request = `POST ${path} ${canonicalParams(params)}`;
    switch (fault) {
      case 'timeout':
        if (this.inFlight.has(key)) return answered(refusal(refusals.keyInUse));
        if (!this.keys.has(key)) {
          this.inFlight.set(key, { sinceMs: this.options.clock().getTime(), land: () => this.idempotent(key, request, run) });
        }
        throw connectionLost();
      case 'lostResponse':
        this.idempotent(key, request, run);
        throw connectionLost();
      case 'error500':
        return answered(this.idempotent(key, request, serverError));
      case 'error500Committed':
        return answered(
          this.idempotent(key, request, () => {
            run();
            return serverError();
          }),
        );
      default:
        return answered(this.idempotent(key, request, run));
    }
  }

  /** A read: nothing to keep; a fault that would lose or refuse a write reads as Stripe unavailable. */
  private async get(path: string, body: object, route: Route): Promise<unknown> {
    this.requests.push(`GET ${path}`);
    this.current();
    const fault = this.takeFault();
    if (fault !== undefined) return answered(refusal(fault === 'rateLimited' ? refusals.rateLimited : refusals.unavailable));
    return answered(this.execute(route, toFormParams(body)));
  }

  private idempotent(key: string, request: string, run: () => Answer): Answer {
    this.forgetExpiredKeys();
    if (this.inFlight.has(key)) return refusal(refusals.keyInUse);
    const kept = this.keys.get(key);
    if (kept !== undefined) return kept.request === request ? kept.answer : refusal(idempotencyMismatch(key));
    const firstMinted = this.minted.length;
    const answer = run();
    for (const id of this.minted.slice(firstMinted)) this.createdUnderKey.set(id, key);
    if (answer.kept) this.keys.set(key, { request, answer, atMs: this.options.clock().getTime() });
    return answer;
  }

  /** Runs a POST and records it in the ledger's calls, as the fake records every POST it runs (a replay is not run). */
  private recorded(path: string, key: string | undefined, run: () => Answer): Answer {
    const answer = run();
    const pathId = /^\/v1\/payment_intents\/([^/]+)\//.exec(path)?.[1] ?? '';
    const request = { request: `POST ${path}`, idempotencyKey: key ?? null, status: answer.status };
    const body = JSON.parse(answer.text) as RouteAnswer;
    this.ledger.calls.push(callRecord(request, pathId, answer.status === 200 ? body : { error: body }, this.ctx.now()));
    return answer;
  }

  private execute(route: Route, params: Params): Answer {
    expireLapsedAuthorizations(this.ctx);
    try {
      return { status: 200, text: JSON.stringify(route(this.ctx, params)), kept: true };
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      return { status: error.status, text: JSON.stringify(error.body), kept: error.executed };
    }
  }

  /**
   * Runs a route that creates objects and renames what it created to numbered ids (the fake
   * mints random ones), in the ledger and in the answer or error alike.
   */
  private numbered(create: () => unknown): unknown {
    const before = { intents: this.ledger.paymentIntents.length, refunds: this.ledger.refunds.length };
    const renames = () => {
      const names = new Map<string, string>();
      for (const pi of this.ledger.paymentIntents.slice(before.intents)) {
        const n = ++this.lastId;
        names.set(pi.id, `pi_sim${n}`);
        if (pi.charge !== null) names.set(pi.charge.id, `ch_sim${n}`);
      }
      for (const refund of this.ledger.refunds.slice(before.refunds)) names.set(refund.id, `re_sim${++this.lastId}`);
      const rename = <T>(value: T): T => {
        let text = JSON.stringify(value);
        for (const [from, to] of names) text = text.replaceAll(from, to);
        return JSON.parse(text) as T;
      };
      this.ledger.paymentIntents.splice(before.intents, Infinity, ...rename(this.ledger.paymentIntents.slice(before.intents)));
      this.ledger.refunds.splice(before.refunds, Infinity, ...rename(this.ledger.refunds.slice(before.refunds)));
      this.minted.push(...names.values());
      return rename;
    };
    try {
      const answer = create();
      return renames()(answer);
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      throw new StripeApiError(error.status, renames()(error.body), error.executed);
    }
  }

  private takeFault(): StripeFault | undefined {
    const fault = this.armed;
    this.armed = undefined;
    return fault;
  }

  private forgetExpiredKeys(): void {
    const cutoff = this.options.clock().getTime() - STRIPE_KEY_LIFETIME_MS;
    for (const [key, kept] of this.keys) if (kept.atMs <= cutoff) this.keys.delete(key);
  }
}

interface RequestOptions {
  readonly idempotencyKey?: string;
}

/** Stripe's answers in front of the API: nothing ran, nothing is kept. */
const refusals = {
  unavailable: { status: 503, type: 'api_error', message: 'Stripe is temporarily unavailable.' },
  rateLimited: { status: 429, type: 'invalid_request_error', code: 'rate_limit', message: 'Request rate limit exceeded.' },
  keyInUse: {
    status: 409,
    type: 'invalid_request_error',
    code: 'idempotency_key_in_use',
    message: 'There is currently another in-progress request using this idempotency key.',
  },
  refused: { status: 400, type: 'invalid_request_error', message: 'The request was refused before it ran.' },
} as const satisfies Record<string, StripeErrorBody & { status: number }>;

function refusal({ status, ...body }: StripeErrorBody & { status: number }): Answer {
  return { status, text: JSON.stringify(body), kept: false };
}

function idempotencyMismatch(key: string): StripeErrorBody & { status: number } {
  return {
    status: 400,
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with (${key}).`,
  };
}

function serverError(): Answer {
  return { status: 500, text: JSON.stringify({ type: 'api_error', message: 'An unknown error occurred.' }), kept: true };
}

/** What the SDK gives its caller for an answer: the object, or the error class it raises for that status. */
function answered(answer: Answer): unknown {
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  if (answer.status === 200) return body;
  throw Stripe.errors.generateV1Error({ ...body, statusCode: answer.status });
}

/** What the SDK raises when the connection drops or times out before an answer. */
function connectionLost(): Error {
  return new Stripe.errors.StripeConnectionError({ message: 'An error occurred with our connection to Stripe.' });
}

/** The SDK's form encoding, as the fake decodes it: numbers and booleans as text, nothing undefined. */
function toFormParams(value: object): Params {
  const encode = (item: unknown): ParamValue | undefined => {
    if (item === undefined || item === null) return undefined;
    if (Array.isArray(item)) return item.map(encode).filter((v) => v !== undefined);
    if (typeof item === 'object') {
      return Object.fromEntries(
        Object.entries(item).flatMap(([key, inner]) => {
          const encoded = encode(inner);
          return encoded === undefined ? [] : [[key, encoded]];
        }),
      );
    }
    return String(item);
  };
  return encode(value) as Params;
}

/** The real Stripe adapter over a {@link StrictStripe}: the provider port as the product runs it. */
export function strictProvider(stripe: StrictStripe): PaymentProvider {
  return new StripePaymentProvider(stripe as unknown as Stripe);
}
