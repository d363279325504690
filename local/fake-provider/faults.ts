import { z } from 'zod';
import type { RefundEnd } from './ledger.ts';

/**
 * The statuses a failure fault answers with; 409 is Stripe's `idempotency_key_in_use`, 400 a
 * refusal no retry changes.
 */
export type FailureStatus = 500 | 503 | 429 | 409 | 400;

/**
 * Which requests a fault applies to: `POST /v1/payment_intents/*\/capture`, where `*` stands
 * for one path segment; a pattern without a method matches every method. None: every
 * `/v1` request.
 */
export type RequestPattern = string;

interface Rule {
  remaining: number;
  readonly match: RequestPattern | undefined;
}

/** Stripe's `failure_reason` values for a refund that failed. */
export const REFUND_FAILURE_REASONS = [
  'lost_or_stolen_card',
  'expired_or_canceled_card',
  'charge_for_pending_refund_disputed',
  'insufficient_funds',
  'declined',
  'merchant_request',
  'unknown',
] as const;

/** How a pending refund ends by itself, `afterSeconds` (whole seconds, as Stripe's clock) after it was made. */
export interface RefundSettlementRule {
  readonly status: RefundEnd;
  readonly afterSeconds: number;
  readonly failureReason?: (typeof REFUND_FAILURE_REASONS)[number];
}

/** Which new refunds start `pending`: of one PaymentIntent, or any; settled by themselves, or when told. */
export interface PendingRefundRule {
  readonly paymentIntent?: string;
  readonly settle?: RefundSettlementRule;
}

export interface FaultState {
  latencyMs: number;
  authorizationWindowSeconds: number | null;
  fail: { remaining: number; status: FailureStatus; match?: RequestPattern }[];
  hang: { remaining: number; match?: RequestPattern }[];
  failInside: { remaining: number; match?: RequestPattern }[];
  dropResponseAfterCommit: { remaining: number; match?: RequestPattern }[];
  pendingRefunds: ({ remaining: number } & PendingRefundRule)[];
}

const countedRule = z.object({
  count: z.number().int().positive(),
  match: z.string().min(1).optional(),
});
const oneOrMany = <T extends z.ZodType>(schema: T) =>
  z.union([schema, z.array(schema)]).transform((value) => (Array.isArray(value) ? value : [value]));

/** The body of `POST /_fake/faults`; each rule is added to those already armed. */
export const FaultRequestSchema = z.strictObject({
  latencyMs: z.number().int().nonnegative().optional(),
  authorizationWindowSeconds: z.number().int().positive().optional(),
  fail: oneOrMany(
    countedRule.extend({
      status: z.union([z.literal(500), z.literal(503), z.literal(429), z.literal(409), z.literal(400)]),
    }),
  ).optional(),
  hang: oneOrMany(countedRule).optional(),
  failInside: oneOrMany(countedRule).optional(),
  dropResponseAfterCommit: oneOrMany(countedRule).optional(),
  pendingRefunds: oneOrMany(
    z.strictObject({
      count: z.number().int().positive(),
      paymentIntent: z.string().min(1).optional(),
      settle: z
        .strictObject({
          status: z.enum(['succeeded', 'failed', 'canceled']),
          afterSeconds: z.number().int().nonnegative(),
          failureReason: z.enum(REFUND_FAILURE_REASONS).optional(),
        })
        .optional(),
    }),
  ).optional(),
});
export type FaultRequest = z.input<typeof FaultRequestSchema>;

/**
 * Switches that make the fake misbehave the ways Stripe can: slowly, with 5xx/429/409
 * answers in front of the API or a 500 from inside it, by never answering, by doing the work
 * and losing the answer, or by holding
 * refunds pending. Each counted fault applies to the next N matching requests, first armed
 * first used.
 */
export class FaultController {
  private latency = 0;
  private window: number | undefined;
  private failures: (Rule & { readonly status: FailureStatus })[] = [];
  private hangs: Rule[] = [];
  private insideFailures: Rule[] = [];
  private drops: Rule[] = [];
  private pendingRefunds: ({ remaining: number } & PendingRefundRule)[] = [];

  /** Delays every `/v1` request, after its idempotency key is taken (so concurrent retries see 409). */
  setLatency(ms: number): void {
    this.latency = ms;
  }

  get latencyMs(): number {
    return this.latency;
  }

  /**
   * Makes new authorizations lapse after `seconds` instead of 7 days, as some card networks'
   * do: the way to bring an authorization near its capture deadline without waiting a week.
   */
  setAuthorizationWindow(seconds: number | undefined): void {
    this.window = seconds;
  }

  get authorizationWindowSeconds(): number | undefined {
    return this.window;
  }

  /** Answers the next `count` matching requests with `status` without processing them. */
  failNext(count: number, status: FailureStatus, match?: RequestPattern): void {
    this.failures.push({ remaining: count, status, match });
  }

  /** Never answers the next `count` matching requests, so the client times out. */
  hangNext(count: number, match?: RequestPattern): void {
    this.hangs.push({ remaining: count, match });
  }

  /**
   * Fails the next `count` matching requests with a 500 from inside the endpoint, after it took
   * the idempotency key and before it changed anything: Stripe keeps such a 500 for the key and
   * replays it to every retry (unlike {@link failNext}'s, answered in front of the API).
   */
  failInsideNext(count: number, match?: RequestPattern): void {
    this.insideFailures.push({ remaining: count, match });
  }

  /** Processes and persists the next `count` matching requests, then closes the socket unanswered. */
  dropResponseAfterCommit(count: number, match?: RequestPattern): void {
    this.drops.push({ remaining: count, match });
  }

  /**
   * Makes the next `count` refunds (of `rule.paymentIntent`, when given) start `pending`, as
   * Stripe's do when the account's balance cannot cover them; `rule.settle` settles each by
   * itself, otherwise each waits for {@link FakeProvider.settleRefund}.
   */
  holdNextRefunds(count: number, rule: PendingRefundRule = {}): void {
    this.pendingRefunds.push({ remaining: count, ...rule });
  }

  apply(request: FaultRequest): void {
    const parsed = FaultRequestSchema.parse(request);
    if (parsed.latencyMs !== undefined) this.setLatency(parsed.latencyMs);
    if (parsed.authorizationWindowSeconds !== undefined) this.setAuthorizationWindow(parsed.authorizationWindowSeconds);
    for (const rule of parsed.fail ?? []) this.failNext(rule.count, rule.status, rule.match);
    for (const rule of parsed.hang ?? []) this.hangNext(rule.count, rule.match);
    for (const rule of parsed.failInside ?? []) this.failInsideNext(rule.count, rule.match);
    for (const rule of parsed.dropResponseAfterCommit ?? []) this.dropResponseAfterCommit(rule.count, rule.match);
    for (const { count, ...rule } of parsed.pendingRefunds ?? []) this.holdNextRefunds(count, rule);
  }

  clear(): void {
    this.latency = 0;
    this.window = undefined;
    this.failures = [];
    this.hangs = [];
    this.insideFailures = [];
    this.drops = [];
    this.pendingRefunds = [];
  }

  state(): FaultState {
    const view = ({ remaining, match }: Rule) => (match === undefined ? { remaining } : { remaining, match });
    return {
      latencyMs: this.latency,
      authorizationWindowSeconds: this.window ?? null,
      fail: this.failures.map((rule) => ({ ...view(rule), status: rule.status })),
      hang: this.hangs.map(view),
      failInside: this.insideFailures.map(view),
      dropResponseAfterCommit: this.drops.map(view),
      pendingRefunds: this.pendingRefunds.map((rule) => ({ ...rule })),
    };
  }

  /** Used by the server: consumes one matching failure, if one is armed. */
  takeFailure(method: string, path: string): FailureStatus | undefined {
    return take(this.failures, method, path)?.status;
  }

  takeHang(method: string, path: string): boolean {
    return take(this.hangs, method, path) !== undefined;
  }

  takeFailureInside(method: string, path: string): boolean {
    return take(this.insideFailures, method, path) !== undefined;
  }

  takeDrop(method: string, path: string): boolean {
    return take(this.drops, method, path) !== undefined;
  }

  /** Used by the refunds API: consumes one rule that holds a new refund of `paymentIntent` pending, if one is armed. */
  takePendingRefund(paymentIntent: string): PendingRefundRule | undefined {
    const rule = takeFirst(this.pendingRefunds, (r) => r.paymentIntent === undefined || r.paymentIntent === paymentIntent);
    if (rule === undefined) return undefined;
    const { remaining: _left, ...held } = rule;
    return held;
  }
}

function take<R extends Rule>(rules: R[], method: string, path: string): R | undefined {
  return takeFirst(rules, (r) => matches(r.match, method, path));
}

/** Uses the first rule with uses left that `fits`; a rule used up is dropped. */
function takeFirst<R extends { remaining: number }>(rules: R[], fits: (rule: R) => boolean): R | undefined {
  const rule = rules.find((r) => r.remaining > 0 && fits(r));
  if (rule === undefined) return undefined;
  rule.remaining -= 1;
  if (rule.remaining === 0) rules.splice(rules.indexOf(rule), 1);
  return rule;
}

function matches(pattern: RequestPattern | undefined, method: string, path: string): boolean {
  if (pattern === undefined) return true;
  const [first, second] = pattern.trim().split(/\s+/, 2);
  const [patternMethod, patternPath] = second === undefined ? [undefined, first] : [first, second];
  if (patternMethod !== undefined && patternMethod !== '*' && patternMethod.toUpperCase() !== method) {
    return false;
  }
  const want = (patternPath ?? '').split('/');
  const got = path.split('/');
  return want.length === got.length && want.every((segment, i) => segment === '*' || segment === got[i]);
}
