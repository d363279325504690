import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z, ZodError } from 'zod';
import {
  StripeApiError,
  SDK_DEFAULT_KEY_PREFIX,
  envelope,
  idempotencyKeyInUse,
  idempotencyKeyRequired,
  invalidRequest,
  rateLimited,
  serverError,
  unauthorized,
} from './api-error.ts';
import { FaultController, REFUND_FAILURE_REASONS, type FailureStatus, type FaultRequest } from './faults.ts';
import { listBalanceTransactions } from './balance-transactions.ts';
import { canonicalParams, parseParams, type Params } from './form.ts';
import { IdempotencyKeys, type IdempotencyDecision } from './idempotency.ts';
import type { CallRecord, Ledger, PayoutEnd, RefundEnd } from './ledger.ts';
import {
  cancelPaymentIntent,
  capturePaymentIntent,
  createPaymentIntent,
  expireAuthorization,
  expireLapsedAuthorizations,
  listPaymentIntents,
  retrievePaymentIntent,
  searchPaymentIntents,
  AUTHORIZATION_WINDOW_SECONDS,
  type ApiContext,
} from './payment-intents.ts';
import { advanceDuePayouts, createPayout, listPayouts, retrievePayout, settlePayout } from './payouts.ts';
import { createRefund, listRefunds, retrieveRefund, settleDueRefunds, settleRefund } from './refunds.ts';
import { StateStore } from './state-store.ts';
import { newId } from './stripe-objects.ts';

export interface FakeProviderOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  /** Where the ledger and idempotency keys persist; in memory only when unset. */
  readonly dataDir?: string;
  /**
   * Refuse a POST without an Idempotency-Key of the caller's own (400
   * `idempotency_key_required`): stricter than Stripe, for a stack that must never send one.
   * Off by default, as Stripe is.
   */
  readonly requireIdempotencyKey?: boolean;
}

export interface FakeProvider {
  /** e.g. `http://127.0.0.1:12111`: what STRIPE_API_BASE should name. */
  readonly url: string;
  readonly port: number;
  readonly faults: FaultController;
  /** A copy of the ledger as it stands. */
  ledger(): Ledger;
  /** Lets the authorization of a PaymentIntent lapse now, as it would after 7 days. */
  expireAuthorization(paymentIntentId: string): Promise<void>;
  /** Ends a pending refund as the bank would, in its own time. */
  settleRefund(refundId: string, status: RefundEnd, failureReason?: string): Promise<void>;
  /** Ends a payout not final yet as the bank would: paid, failed or canceled. */
  settlePayout(payoutId: string, status: PayoutEnd, failureCode?: string): Promise<void>;
  close(): Promise<void>;
}

type Handler = (ctx: ApiContext, params: Params, id: string) => unknown;
interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: RegExp;
  readonly handler: Handler;
}

const routes: readonly Route[] = [
  { method: 'POST', path: /^\/v1\/payment_intents$/, handler: (ctx, params) => createPaymentIntent(ctx, params) },
  { method: 'GET', path: /^\/v1\/payment_intents$/, handler: (ctx, params) => listPaymentIntents(ctx, params) },
  { method: 'GET', path: /^\/v1\/payment_intents\/search$/, handler: (ctx, params) => searchPaymentIntents(ctx, params) },
  { method: 'GET', path: /^\/v1\/payment_intents\/([^/]+)$/, handler: (ctx, params, id) => retrievePaymentIntent(ctx, id, params) },
  { method: 'POST', path: /^\/v1\/payment_intents\/([^/]+)\/capture$/, handler: (ctx, params, id) => capturePaymentIntent(ctx, id, params) },
  { method: 'POST', path: /^\/v1\/payment_intents\/([^/]+)\/cancel$/, handler: (ctx, params, id) => cancelPaymentIntent(ctx, id, params) },
  { method: 'POST', path: /^\/v1\/refunds$/, handler: (ctx, params) => createRefund(ctx, params) },
  { method: 'GET', path: /^\/v1\/refunds$/, handler: (ctx, params) => listRefunds(ctx, params) },
  { method: 'GET', path: /^\/v1\/refunds\/([^/]+)$/, handler: (ctx, params, id) => retrieveRefund(ctx, id, params) },
  { method: 'GET', path: /^\/v1\/balance_transactions$/, handler: (ctx, params) => listBalanceTransactions(ctx, params) },
  { method: 'POST', path: /^\/v1\/payouts$/, handler: (ctx, params) => createPayout(ctx, params) },
  { method: 'GET', path: /^\/v1\/payouts$/, handler: (ctx, params) => listPayouts(ctx, params) },
  { method: 'GET', path: /^\/v1\/payouts\/([^/]+)$/, handler: (ctx, params, id) => retrievePayout(ctx, id, params) },
];

const MAX_BODY_BYTES = 1024 * 1024;

interface Deps {
  readonly requireIdempotencyKey: boolean;
  readonly store: StateStore;
  readonly faults: FaultController;
  readonly idempotency: IdempotencyKeys;
  readonly ctx: ApiContext;
}

/**
 * Starts a Stripe-compatible fake of the PaymentIntents and Refunds APIs. The real adapter
 * talks to it through the official SDK; `/_fake/*` holds the controls (ledger, faults).
 */
export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const store = await StateStore.open(options.dataDir);
  const faults = new FaultController();
  const deps: Deps = {
    requireIdempotencyKey: options.requireIdempotencyKey ?? false,
    store,
    faults,
    idempotency: new IdempotencyKeys(store.state.idempotency),
    ctx: {
      ledger: store.state.ledger,
      now: () => Math.floor(Date.now() / 1000),
      authorizationWindowSeconds: () => faults.authorizationWindowSeconds ?? AUTHORIZATION_WINDOW_SECONDS,
      takePendingRefund: (paymentIntent) => faults.takePendingRefund(paymentIntent),
    },
  };
  const server = createServer((req, res) => {
    handle(deps, req, res).catch(() => {
      if (!res.headersSent) send(res, 500, envelope(serverError(500)));
    });
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    faults,
    ledger: () => store.ledger(),
    expireAuthorization: async (id) => {
      expireAuthorization(deps.ctx, id);
      await store.save();
    },
    settleRefund: async (id, status, failureReason) => {
      settleRefund(deps.ctx, id, status, failureReason);
      await store.save();
    },
    settlePayout: async (id, status, failureCode) => {
      settlePayout(deps.ctx, id, status, failureCode);
      await store.save();
    },
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Hung requests and idle keep-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function handle(deps: Deps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake.invalid');
  const method = req.method ?? 'GET';
  const body = await readBody(req);
  if (url.pathname.startsWith('/_fake/')) {
    handleControl(deps, method, url.pathname, body, res);
    return;
  }
  const requestId = newId('req');
  const headers: Record<string, string> = { 'Request-Id': requestId };
  const stripeVersion = req.headers['stripe-version'];
  if (typeof stripeVersion === 'string') headers['Stripe-Version'] = stripeVersion;
  const fail = (error: StripeApiError) => send(res, error.status, envelope(error), headers);

  let apiKey: string;
  try {
    apiKey = authenticate(req.headers.authorization);
  } catch (error) {
    fail(error as StripeApiError);
    return;
  }

  const sentKey = req.headers['idempotency-key'];
  // Before the faults: an armed fault must not hide a call that came without its key.
  if (deps.requireIdempotencyKey && method === 'POST' && !isCallersOwnKey(sentKey)) {
    fail(idempotencyKeyRequired(typeof sentKey === 'string' ? sentKey : undefined));
    return;
  }

  // Faults strike before the request is processed, as an overloaded API or a load balancer would.
  if (deps.faults.takeHang(method, url.pathname)) return;
  const failure = deps.faults.takeFailure(method, url.pathname);
  if (failure !== undefined) {
    fail(failureError(failure, sentKey));
    return;
  }

  const route = routes.find((candidate) => candidate.method === method && candidate.path.test(url.pathname));
  if (route === undefined) {
    fail(new StripeApiError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${url.pathname}).` }));
    return;
  }
  const id = decodeURIComponent(route.path.exec(url.pathname)?.[1] ?? '');
  const params = parseParams(method === 'POST' ? body : url.search.slice(1));

  const key = method === 'POST' ? sentKey : undefined;
  let decision: IdempotencyDecision | undefined;
  if (typeof key === 'string' && key !== '') {
    headers['Idempotency-Key'] = key;
    decision = deps.idempotency.begin({ apiKey, key, method, path: url.pathname, params: canonicalParams(params) });
    if (decision.kind === 'reject') {
      fail(decision.error);
      return;
    }
    if (decision.kind === 'replay') {
      // The first request may still be writing the answer kept for it: never replay what a restart could lose.
      await deps.store.save();
      send(res, decision.response.status, decision.response.body, {
        ...headers,
        'Idempotent-Replayed': 'true',
        'Original-Request': decision.response.requestId,
      });
      return;
    }
  }

  let status: number;
  let text: string;
  try {
    // Latency runs while the key is held, so a concurrent retry sees idempotency_key_in_use.
    if (deps.faults.latencyMs > 0) await sleep(deps.faults.latencyMs);
    // What time ended between requests (an authorization, a pending refund) is ended before this one sees it.
    expireLapsedAuthorizations(deps.ctx);
    settleDueRefunds(deps.ctx);
    advanceDuePayouts(deps.ctx);
    if (deps.faults.takeFailureInside(method, url.pathname)) throw new Error('an armed fault inside the endpoint');
    let answer: Answer;
    let ran = true;
    try {
      answer = route.handler(deps.ctx, params, id) as Answer;
      text = JSON.stringify(answer, null, 2);
      status = 200;
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      status = error.status;
      text = envelope(error);
      answer = { error: error.body };
      ran = error.executed;
    }
    if (decision?.kind === 'execute') {
      if (ran) decision.finish({ status, body: text, requestId });
      else decision.release();
    }
    if (method === 'POST') {
      const request = { request: `${method} ${url.pathname}`, idempotencyKey: typeof key === 'string' ? key : null, status };
      deps.ctx.ledger.calls.push(callRecord(request, id, answer, deps.ctx.now()));
    }
    // Persist before answering: once the caller hears of a charge, a restart cannot lose it. A
    // save that has nothing of its own to write still waits for the writes under way, so a GET
    // never shows what a restart could lose either.
    await deps.store.save();
  } catch {
    status = 500;
    text = envelope(serverError(500));
    // The endpoint began to run: Stripe keeps even its 500 for the key, and replays it.
    if (decision?.kind === 'execute') decision.finish({ status, body: text, requestId });
  }

  if (deps.faults.takeDrop(method, url.pathname)) {
    req.socket.destroy();
    return;
  }
  send(res, status, text, headers);
}

/** What a route answered: an object of the API, or Stripe's error envelope. */
export interface Answer {
  readonly id?: unknown;
  readonly object?: unknown;
  readonly payment_intent?: unknown;
  readonly error?: { readonly payment_intent?: unknown };
}

function isCallersOwnKey(key: string | string[] | undefined): boolean {
  return typeof key === 'string' && key !== '' && !key.startsWith(SDK_DEFAULT_KEY_PREFIX);
}

/** `pathId` is the PaymentIntent a capture or cancel names; the other POSTs have none. */
/** What the ledger records of a POST the fake ran: the PaymentIntent it concerned, the object it answered with. */
export function callRecord(
  request: Pick<CallRecord, 'request' | 'idempotencyKey' | 'status'>,
  pathId: string,
  answer: Answer,
  at: number,
): CallRecord {
  const objectId = request.status === 200 && typeof answer.id === 'string' ? answer.id : null;
  const named =
    answer.object === 'payment_intent'
      ? answer.id
      : answer.object === 'refund'
        ? answer.payment_intent
        : (answer.error?.payment_intent as { id?: unknown } | undefined)?.id;
  const paymentIntent = pathId !== '' ? pathId : typeof named === 'string' ? named : null;
  return { ...request, paymentIntent, objectId, at };
}

/** Any `sk_test_` / `rk_test_` key is valid, as Bearer (the SDK) or Basic (`curl -u key:`). */
function authenticate(header: string | undefined): string {
  if (header === undefined || header === '') {
    throw unauthorized(
      'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. \'Authorization: Bearer YOUR_SECRET_KEY\').',
    );
  }
  const [scheme, credentials = ''] = header.split(' ', 2);
  const key =
    scheme?.toLowerCase() === 'basic'
      ? Buffer.from(credentials, 'base64').toString('utf8').split(':')[0] ?? ''
      : scheme?.toLowerCase() === 'bearer'
        ? credentials
        : '';
  if (!/^(sk|rk)_test_\w+$/.test(key)) {
    throw unauthorized(`Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`);
  }
  return key;
}

function failureError(status: FailureStatus, key: string | string[] | undefined): StripeApiError {
  switch (status) {
    case 409:
      return idempotencyKeyInUse(typeof key === 'string' ? key : '');
    case 429:
      return rateLimited();
    case 400:
      // A refusal, as Stripe gives one for a request it will never accept (a charge disputed, say).
      return invalidRequest('The request was refused by the fake provider (an armed fault).');
    default:
      return serverError(status);
  }
}

/** The body of `POST /_fake/payouts/{id}/settle`. */
const SettlePayoutSchema = z.strictObject({
  status: z.enum(['paid', 'failed', 'canceled']),
  failure_code: z.string().regex(/^[a-z_]{1,64}$/).optional(),
});

/** The body of `POST /_fake/refunds/{id}/settle`. */
const SettleRefundSchema = z.strictObject({
  status: z.enum(['succeeded', 'failed', 'canceled']),
  failure_reason: z.enum(REFUND_FAILURE_REASONS).optional(),
});

function handleControl(deps: Deps, method: string, path: string, body: string, res: ServerResponse): void {
  const json = (status: number, value: unknown) => send(res, status, JSON.stringify(value, null, 2));
  const saved = (value: unknown) =>
    deps.store.save().then(
      () => json(200, value),
      () => json(500, { error: { message: 'could not persist the state' } }),
    );
  const expire = /^\/_fake\/payment_intents\/([^/]+)\/expire_authorization$/.exec(path);
  const settle = /^\/_fake\/refunds\/([^/]+)\/settle$/.exec(path);
  const settlePayoutAt = /^\/_fake\/payouts\/([^/]+)\/settle$/.exec(path);
  const parsedBody = (): unknown => JSON.parse(body === '' ? '{}' : body);
  try {
    if (path === '/_fake/ledger' && method === 'GET') return json(200, deps.store.ledger());
    if (path === '/_fake/faults' && method === 'GET') return json(200, deps.faults.state());
    if (path === '/_fake/faults' && method === 'POST') {
      deps.faults.apply(parsedBody() as FaultRequest);
      return json(200, deps.faults.state());
    }
    if (path === '/_fake/faults' && method === 'DELETE') {
      deps.faults.clear();
      return json(200, deps.faults.state());
    }
    if (expire !== null && method === 'POST') {
      void saved(expireAuthorization(deps.ctx, decodeURIComponent(expire[1] ?? '')));
      return;
    }
    if (settle !== null && method === 'POST') {
      const { status, failure_reason } = SettleRefundSchema.parse(parsedBody());
      void saved(settleRefund(deps.ctx, decodeURIComponent(settle[1] ?? ''), status, failure_reason));
      return;
    }
    if (settlePayoutAt !== null && method === 'POST') {
      const { status, failure_code } = SettlePayoutSchema.parse(parsedBody());
      void saved(settlePayout(deps.ctx, decodeURIComponent(settlePayoutAt[1] ?? ''), status, failure_code));
      return;
    }
    json(404, { error: { message: `no control at ${method} ${path}` } });
  } catch (error) {
    if (error instanceof StripeApiError) return send(res, error.status, envelope(error));
    const message = error instanceof ZodError ? error.message : error instanceof SyntaxError ? `invalid JSON: ${error.message}` : String(error);
    json(400, { error: { message } });
  }
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw invalidRequest('The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
