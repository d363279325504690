import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { apiRoutes } from '../../functions/catalog.ts';
import type { BodyCase, FuzzCase, ParamChoice } from './cases.ts';
import { NoAnswerError, type RawRequest, type RawResponse, send } from './client.ts';
import { type Json, jsonText } from './json-text.ts';
import { routeSpecs } from './routes.ts';
import { applyMutation } from './schema-arbitrary.ts';
import { Fresh, Ref, type Scope, type Template, type Things, type World, freshValue, resolve, resolveRef } from './template.ts';

/** The stack under fuzz, as the runner needs it. */
export interface FuzzTarget {
  readonly apiUrl: string;
  readonly apiKeys: { readonly merchant: string; readonly other: string };
  /** Resolves when no saga execution is running, so the table holds still. */
  idle(): Promise<void>;
  /** One run of the reconciler, as the schedule would. */
  reconcile(): Promise<unknown>;
  /** Every item of the table, by key, as text. */
  scan(): Promise<Map<string, string>>;
}

export interface FuzzOptions {
  /** The client's patience for one answer. */
  readonly answerTimeoutMs: number;
  /** How long an accepted payment or refund may take to end. */
  readonly settleTimeoutMs: number;
  /** Told every request and its answer, when the run is verbose. */
  readonly log?: (line: string) => void;
  /** Keeps the world worth fuzzing before each request (e.g. carts still open); may write, before the table is read. */
  readonly prepare?: () => Promise<void>;
}

/** What the run made or touched, by the key of the merchant that owns it, for the checks after the run. */
export interface Touched {
  readonly payments: Map<string, string>;
  readonly refundedPayments: Map<string, string>;
  readonly carts: Map<string, string>;
}

export const emptyTouched = (): Touched => ({ payments: new Map(), refundedPayments: new Map(), carts: new Map() });

/** A broken rule, with everything needed to read the failure without replaying it. */
export class RuleViolation extends Error {
  override readonly name = 'RuleViolation';
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);
/** The largest body API Gateway accepts (10 MB). */
const PAYLOAD_LIMIT = 10 * 1024 * 1024;

interface Prepared {
  readonly request: RawRequest;
  /** The valid request a client would send after the refusal: same key and business ids. */
  readonly corrected?: RawRequest;
  /** The body as sent, when it was JSON. */
  readonly sent?: Json;
  readonly owner: 'merchant' | 'other';
}

export class FuzzRunner {
  /** How often each route answered each status, for the run's summary. */
  readonly answers = new Map<string, number>();

  constructor(
    private readonly target: FuzzTarget,
    private readonly world: World,
    private readonly touched: Touched,
    private readonly options: FuzzOptions,
  ) {}

  /** Sends the case and checks every rule; throws a {@link RuleViolation} naming the first one broken. */
  async run(fuzzCase: FuzzCase): Promise<void> {
    await this.options.prepare?.();
    this.world.requests += 1;
    const prepared = this.prepare(fuzzCase);
    await this.target.idle();
    const before = await this.target.scan();
    const response = await this.answer(prepared.request);
    const counted = `${fuzzCase.route} ${response.status}`;
    this.answers.set(counted, (this.answers.get(counted) ?? 0) + 1);
    this.options.log?.(`${fuzzCase.route}\n${describe(prepared.request, response)}`);
    const fail = (rule: string) => new RuleViolation(`${rule}\n${describe(prepared.request, response)}`);
    checkShape(prepared.request, response, fail);
    if (response.status >= 400) {
      const written = changedKeys(before, await this.target.scan());
      if (written.length > 0) throw fail(`a ${response.status} wrote ${written.length} item(s): ${written.slice(0, 5).join(', ')}`);
      if (prepared.corrected !== undefined) await this.retryCorrected(fuzzCase, prepared.corrected, prepared.owner);
      return;
    }
    if (fuzzCase.route === 'CreatePayment' && response.status === 201) checkEcho(prepared.sent, response, fail);
    await this.afterSuccess(response, prepared.owner);
  }

  /** The rule that a refused request never blocks its key or its business ids. */
  private async retryCorrected(fuzzCase: FuzzCase, corrected: RawRequest, owner: 'merchant' | 'other'): Promise<void> {
    const response = await this.answer(corrected);
    const fail = (rule: string) => new RuleViolation(`${rule}\n${describe(corrected, response)}`);
    checkShape(corrected, response, fail);
    const code = response.status === 409 ? parseJson(response.text)?.error?.code : undefined;
    if (routeSpecs[fuzzCase.route]!.corrected === 'created' && response.status !== 201) {
      throw fail(`the corrected retry of a refused ${fuzzCase.route} answered ${response.status}, not 201`);
    }
    if (code === 'idempotency_key_mismatch' || code === 'request_in_progress') {
      throw fail(`the corrected retry of a refused ${fuzzCase.route} was refused for its key (${code})`);
    }
    if (response.status < 300) await this.afterSuccess(response, owner);
  }

  private async answer(request: RawRequest): Promise<RawResponse> {
    try {
      return await send(this.target.apiUrl, request, this.options.answerTimeoutMs);
    } catch (error) {
      if (error instanceof NoAnswerError) throw new RuleViolation(`${error.message}\n${describe(request)}`);
      throw error;
    }
  }

  /** Learns what an answer made, and waits for the payment or refund it started to end. */
  private async afterSuccess(response: RawResponse, owner: 'merchant' | 'other'): Promise<void> {
    const body = parseJson(response.text);
    if (body === undefined || typeof body !== 'object') return;
    const key = this.target.apiKeys[owner];
    observe(this.world[owner], body, this.world.requests);
    if (typeof body.refund_no === 'string') {
      this.touched.refundedPayments.set(body.payment_no, key);
      await this.settle(`/v1/refunds/${body.refund_no}`, key, (refund) => refund.status !== 'pending');
    } else if (typeof body.payment_no === 'string') {
      this.touched.payments.set(body.payment_no, key);
      // A manual payment ends its part at authorized, until the merchant's word.
      await this.settle(`/v1/payments/${body.payment_no}`, key, (payment) => TERMINAL.has(payment.status) || payment.awaiting_capture === true);
    }
    if (typeof body.cart_id === 'string') this.touched.carts.set(body.cart_id, key);
  }

  /** Polls until `done`, running the reconciler every second the way the schedule would. */
  private async settle(path: string, key: string, done: (body: any) => boolean): Promise<void> {
    const deadline = Date.now() + this.options.settleTimeoutMs;
    let nextReconcile = Date.now() + 1000;
    for (;;) {
      const response = await this.answer({ method: 'GET', path, headers: { Authorization: `Bearer ${key}` } });
      const body = parseJson(response.text);
      if (response.status === 200 && done(body)) return;
      if (Date.now() > deadline) {
        throw new RuleViolation(`${path} did not end within ${this.options.settleTimeoutMs} ms: ${response.status} ${response.text.slice(0, 500)}`);
      }
      if (Date.now() > nextReconcile) {
        await this.target.reconcile();
        nextReconcile = Date.now() + 1000;
      }
      await sleep(100);
    }
  }

  private prepare(fuzzCase: FuzzCase): Prepared {
    const route = apiRoutes.find((candidate) => candidate.id === fuzzCase.route)!;
    const spec = routeSpecs[fuzzCase.route]!;
    const resolved = Object.fromEntries(Object.entries(fuzzCase.params).map(([name, choice]) => [name, this.param(choice)]));
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => resolved[name]!);
    const scope: Scope = {
      ...(fuzzCase.params['cart_id'] instanceof Ref && { cartId: resolved['cart_id'] }),
      ...(fuzzCase.params['account_id'] instanceof Ref && { accountId: resolved['account_id'] }),
    };
    const owner = fuzzCase.auth === 'other' ? 'other' : 'merchant';
    const chosen = new Map<Fresh, string>();
    const resolveBody = (template: Template) => resolve(this.world, template, scope, chosen);
    const { body, sent } = this.body(fuzzCase.body, resolveBody);
    const key = typeof fuzzCase.key === 'object' ? fuzzCase.key.raw : fuzzCase.key === 'fresh' ? freshValue(this.world, new Fresh('key')) : undefined;
    const headers: Record<string, string> = {
      ...authorization(fuzzCase.auth, this.target.apiKeys),
      ...(key !== undefined && { 'Idempotency-Key': key }),
      ...(fuzzCase.contentType !== null && { 'Content-Type': fuzzCase.contentType }),
    };
    const request: RawRequest = { method: fuzzCase.method, path, headers, ...(body !== undefined && { body }) };

    const base = 'base' in fuzzCase.body ? fuzzCase.body.base : undefined;
    const correctable =
      spec.corrected !== undefined &&
      base !== undefined &&
      fuzzCase.method === route.method &&
      fuzzCase.auth === 'merchant' &&
      Object.values(fuzzCase.params).every((choice) => choice instanceof Ref && choice.owner === 'merchant');
    if (!correctable) return { request, ...(sent !== undefined && { sent }), owner };
    const keyIsValid = fuzzCase.key === 'fresh';
    const correctedKey = keyIsValid ? key : spec.key === 'required' ? freshValue(this.world, new Fresh('key')) : undefined;
    const corrected: RawRequest = {
      method: route.method,
      path,
      headers: {
        ...authorization('merchant', this.target.apiKeys),
        'Content-Type': 'application/json',
        ...(correctedKey !== undefined && { 'Idempotency-Key': correctedKey }),
      },
      body: Buffer.from(jsonText(resolveBody(base)), 'utf8'),
    };
    return { request, corrected, ...(sent !== undefined && { sent }), owner };
  }

  private param(choice: ParamChoice): string {
    if (choice instanceof Ref) return encodeURIComponent(resolveRef(this.world, choice));
    return 'looksLike' in choice ? choice.looksLike : choice.raw;
  }

  private body(choice: BodyCase, resolveBody: (template: Template) => Json): { body?: Buffer; sent?: Json } {
    switch (choice.kind) {
      case 'none':
        return {};
      case 'valid':
      case 'changed': {
        const template = choice.kind === 'valid' ? choice.base : choice.changes.reduce(applyMutation, choice.base);
        const sent = resolveBody(template);
        return { body: Buffer.from(jsonText(sent), 'utf8'), sent };
      }
      case 'json':
        return { body: Buffer.from(jsonText(choice.value), 'utf8'), sent: choice.value };
      case 'text':
        return { body: Buffer.from(choice.text, 'utf8') };
      case 'bytes':
        return { body: Buffer.from(choice.bytes) };
      case 'huge':
        return { body: Buffer.from(`{"description":"${'a'.repeat(PAYLOAD_LIMIT)}"}`, 'utf8') };
      case 'nested': {
        const [open, close] = choice.as === 'array' ? ['[', ']'] : ['{"a":', '}'];
        return { body: Buffer.from(`${open.repeat(choice.depth)}0${close.repeat(choice.depth)}`, 'utf8') };
      }
    }
  }
}

function authorization(auth: FuzzCase['auth'], keys: FuzzTarget['apiKeys']): Record<string, string> {
  if (auth === 'none') return {};
  if (typeof auth === 'object') return { Authorization: auth.raw.replaceAll('{key}', keys.merchant) };
  return { Authorization: `Bearer ${keys[auth]}` };
}

/** `route: status x count, ...`, one line per route: what a run reached, to see whether it went deep enough. */
export function summary(answers: ReadonlyMap<string, number>): string {
  const byRoute = new Map<string, string[]>();
  for (const [counted, count] of [...answers].sort()) {
    const [route, status] = counted.split(' ') as [string, string];
    byRoute.set(route, [...(byRoute.get(route) ?? []), `${status} x${count}`]);
  }
  return [...byRoute].map(([route, statuses]) => `  ${route.padEnd(16)} ${statuses.join(', ')}`).join('\n');
}

/** The rule for every answer: 2xx, or a 4xx whose body is the API's error; never a 5xx. */
function checkShape(request: RawRequest, response: RawResponse, fail: (rule: string) => Error): void {
  if (response.status >= 500) throw fail(`answered ${response.status}`);
  if (response.status < 200 || (response.status >= 300 && response.status < 400)) throw fail(`answered ${response.status}, neither 2xx nor 4xx`);
  // A HEAD answer has no body to check.
  if (response.status < 400 || request.method === 'HEAD') return;
  const error = parseJson(response.text)?.error;
  const shaped =
    typeof error === 'object' &&
    error !== null &&
    typeof error.code === 'string' &&
    typeof error.message === 'string' &&
    (error.field === undefined || typeof error.field === 'string');
  if (!shaped) throw fail(`a ${response.status} without {error: {code, message, field?}}`);
}

/** A created payment shows what was sent, not less: a field the API accepted and then dropped is a lie to the client. */
function checkEcho(sent: Json | undefined, response: RawResponse, fail: (rule: string) => Error): void {
  const request = JSON.parse(jsonText(sent ?? null)) as Record<string, unknown>;
  const answer = parseJson(response.text);
  for (const field of ['order_no', 'amount', 'description', 'metadata', 'customer_email'] as const) {
    if (!isDeepStrictEqual(request[field], answer[field])) {
      throw fail(`the created payment shows ${field} ${JSON.stringify(answer[field])}, the request sent ${JSON.stringify(request[field])}`);
    }
  }
}

function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => before.get(key) !== after.get(key));
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Updates the world from a successful answer, so later requests name what now exists. */
export function observe(things: Things, body: any, requests = 0): void {
  if (typeof body.refund_no === 'string') things.refunds.push(body.refund_no);
  if (typeof body.payout_no === 'string') things.payouts.push(body.payout_no);
  if (typeof body.class_id === 'string' && typeof body.seats_total === 'number') things.classes.push(body.class_id);
  if (typeof body.account_id === 'string' && typeof body.points_balance === 'number') things.accounts.push(body.account_id);
  if (typeof body.swimmer_id === 'string' && typeof body.account_id === 'string') {
    things.swimmers.set(body.account_id, [...(things.swimmers.get(body.account_id) ?? []), body.swimmer_id]);
  }
  if (typeof body.cart_id === 'string' && Array.isArray(body.items)) {
    const known = things.carts.find((cart) => cart.cartId === body.cart_id);
    if (known === undefined) things.carts.push({ cartId: body.cart_id, accountId: body.account_id, status: body.status, seenAt: requests });
    else if (known.status !== body.status) Object.assign(known, { status: body.status, seenAt: requests });
    things.items.set(body.cart_id, body.items.map((item: { item_id: string }) => item.item_id));
  }
}

const SHOWN = 2000;

/** The request and answer as text a person can read: escapes keep lone surrogates and control characters visible. */
export function describe(request: RawRequest, response?: RawResponse): string {
  const body = request.body === undefined ? '(none)' : request.body.length > SHOWN ? `(${request.body.length} bytes) ${JSON.stringify(request.body.subarray(0, 200).toString('utf8'))}...` : JSON.stringify(request.body.toString('utf8'));
  const lines = [
    `  request:  ${request.method} ${request.path.length > SHOWN ? `${request.path.slice(0, 200)}... (${request.path.length} chars)` : request.path}`,
    `  headers:  ${JSON.stringify({ ...request.headers, ...(request.headers['Authorization'] && { Authorization: '(hidden)' }) })}`,
    `  body:     ${body}`,
  ];
  if (response !== undefined) lines.push(`  answer:   ${response.status} ${JSON.stringify(response.text.slice(0, SHOWN))}`);
  return lines.join('\n');
}
