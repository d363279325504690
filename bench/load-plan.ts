/**
 * What `npm run load` sends and how it sums up the answers, apart from any stack: the mix of
 * operations, the open-model schedule (request i is due at i / rate seconds, whatever the answers
 * before it), and the per-second and per-operation figures. Pure, so its arithmetic is tested.
 */

/** The operations a load mixes, each one request. */
export const LOAD_OPERATIONS = ['new', 'duplicate', 'get', 'refund', 'cart'] as const;

/** The key layer's path: the operations `--ceiling` can send to a no-op route, which answers them as their success (200). */
const NO_OP_OPERATIONS: readonly LoadOperation[] = ['duplicate', 'get'];

/** `--ceiling` compares like with like: a mix the no-op route answers as the stack does, or a refusal naming what it cannot. */
export function checkCeilingMix(mix: Mix): void {
  const beyondTheKeyPath = LOAD_OPERATIONS.filter((op) => mix[op] > 0 && !NO_OP_OPERATIONS.includes(op));
  if (beyondTheKeyPath.length > 0) {
    throw new LoadArgumentError(`--ceiling compares the key layer's path (duplicate, get) with no-op routes; the mix also has ${beyondTheKeyPath.join(', ')}`);
  }
}
export type LoadOperation = (typeof LOAD_OPERATIONS)[number];

/** What each operation is, for `--help` and the report. */
export const OPERATION_MEANING: Readonly<Record<LoadOperation, string>> = {
  new: 'POST /v1/payments, a new order (a whole payment: the saga authorizes and captures)',
  duplicate: "POST /v1/payments again with a prepared payment's Idempotency-Key and body (a replay)",
  get: 'GET /v1/payments/{payment_no} of a prepared payment',
  refund: 'POST /v1/refunds of 1 cent of a prepared payment, a new Idempotency-Key each',
  cart: 'a cart edit: register a swimmer for a class (a seat held) or take the registration out again',
};

/** The key layer's path: what the issue's 1,000 requests/s target is about. */
export const DEFAULT_MIX = 'duplicate=50,get=50';

export type Mix = Readonly<Record<LoadOperation, number>>;

export class LoadArgumentError extends Error {
  override readonly name = 'LoadArgumentError';
}

/** `duplicate=45,get=45,new=10`: weights, not necessarily summing to 100; operations left out weigh 0. */
export function parseMix(text: string): Mix {
  const mix: Record<LoadOperation, number> = { new: 0, duplicate: 0, get: 0, refund: 0, cart: 0 };
  for (const part of text.split(',')) {
    const [name, weight, ...rest] = part.split('=').map((s) => s.trim());
    if (!LOAD_OPERATIONS.includes(name as LoadOperation) || rest.length > 0) {
      throw new LoadArgumentError(`--mix: "${part}" is not one of ${LOAD_OPERATIONS.map((op) => `${op}=N`).join(', ')}`);
    }
    const value = Number(weight);
    if (weight === undefined || weight === '' || !Number.isInteger(value) || value < 0) {
      throw new LoadArgumentError(`--mix: the weight of ${name} must be a whole number of 0 or more, got "${weight ?? ''}"`);
    }
    mix[name as LoadOperation] = value;
  }
  if (LOAD_OPERATIONS.every((op) => mix[op] === 0)) throw new LoadArgumentError('--mix: every weight is 0');
  return mix;
}

/** A number of at least `min` from a flag's text. */
export function positive(flag: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) throw new LoadArgumentError(`--${flag} must be a number of at least ${min}, got "${text}"`);
  return value;
}

/**
 * The operation of each request, in order: a deterministic interleaving in which every
 * operation's share of any window is its weight's share, give or take one (smooth weighted
 * round-robin), so a short run and each of its seconds carry the mix asked for.
 */
export function operationSequence(mix: Mix): () => LoadOperation {
  const active = LOAD_OPERATIONS.filter((op) => mix[op] > 0);
  const total = active.reduce((sum, op) => sum + mix[op], 0);
  const current = new Map(active.map((op) => [op, 0]));
  return () => {
    let best = active[0]!;
    for (const op of active) {
      current.set(op, current.get(op)! + mix[op]);
      if (current.get(op)! > current.get(best)!) best = op;
    }
    current.set(best, current.get(best)! - total);
    return best;
  };
}

/** When request `index` (0-based) is due, in ms after the start: the open model's schedule. */
export function dueAtMs(index: number, ratePerSecond: number): number {
  return (index * 1000) / ratePerSecond;
}

/** One answer, timed from when its request was due (not when it left: a late send is latency too). */
export interface LoadAnswer {
  readonly op: LoadOperation;
  /** ms after the start. */
  readonly dueMs: number;
  readonly latencyMs: number;
  /** 0 when no HTTP answer came. */
  readonly status: number;
  /** `201`, or `409 request_in_progress`, or `0 ECONNRESET`. */
  readonly outcome: string;
}

export interface OperationFigures {
  readonly op: LoadOperation;
  readonly answers: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Outcomes other than the operation's success, by outcome, most frequent first. */
  readonly errors: readonly (readonly [string, number])[];
  readonly serverErrors: number;
}

/** The nearest-rank percentile (`q` in 0..1) of ascending values; 0 of none. */
export function percentileOf(ascending: readonly number[], q: number): number {
  if (ascending.length === 0) return 0;
  return ascending[Math.max(1, Math.ceil(q * ascending.length)) - 1]!;
}

const SUCCESS: Readonly<Record<LoadOperation, readonly number[]>> = {
  new: [201],
  duplicate: [200],
  get: [200],
  refund: [201],
  cart: [200, 201],
};

export function isSuccess(answer: Pick<LoadAnswer, 'op' | 'status'>): boolean {
  return SUCCESS[answer.op].includes(answer.status);
}

/** Each operation's figures, in the order of {@link LOAD_OPERATIONS}, those that ran. */
export function figuresByOperation(answers: readonly LoadAnswer[]): OperationFigures[] {
  return LOAD_OPERATIONS.flatMap((op) => {
    const mine = answers.filter((a) => a.op === op);
    if (mine.length === 0) return [];
    const latencies = mine.map((a) => a.latencyMs).sort((a, b) => a - b);
    const errors = new Map<string, number>();
    for (const answer of mine) if (!isSuccess(answer)) errors.set(answer.outcome, (errors.get(answer.outcome) ?? 0) + 1);
    return [
      {
        op,
        answers: mine.length,
        p50Ms: percentileOf(latencies, 0.5),
        p99Ms: percentileOf(latencies, 0.99),
        maxMs: latencies.at(-1)!,
        errors: [...errors.entries()].sort((a, b) => b[1] - a[1]),
        serverErrors: mine.filter((a) => a.status >= 500 || a.status === 0).length,
      },
    ];
  });
}

export interface SecondFigures {
  /** 1-based: the second of the run in which the requests were due. */
  readonly second: number;
  /** Requests due in that second. */
  readonly due: number;
  /** Of those, answered. */
  readonly answered: number;
  /** Of those, answered with the operation's success. */
  readonly succeeded: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The figures of the requests due in `second` (1-based), of the answers so far. */
export function secondFigures(second: number, due: number, answers: readonly LoadAnswer[]): SecondFigures {
  const mine = answers.filter((a) => Math.floor(a.dueMs / 1000) + 1 === second);
  const latencies = mine.map((a) => a.latencyMs).sort((a, b) => a - b);
  return {
    second,
    due,
    answered: mine.length,
    succeeded: mine.filter(isSuccess).length,
    p50Ms: percentileOf(latencies, 0.5),
    p99Ms: percentileOf(latencies, 0.99),
  };
}

/**
 * The rate the run sustained: its requests answered with success divided by the time from the
 * start to the last answer. A stack that keeps up answers in about the run's duration; one that
 * falls behind answers later, and this shows it below the rate asked for.
 */
export function sustainedRate(answers: readonly LoadAnswer[]): number {
  const succeeded = answers.filter(isSuccess);
  if (succeeded.length === 0) return 0;
  const endMs = succeeded.reduce((end, a) => Math.max(end, a.dueMs + a.latencyMs), 0);
  return (succeeded.length * 1000) / endMs;
}

/** A step of `--find-max` holds when it sustains this share of its rate, with no 5xx or unanswered request, and its p99 stays under the limit. */
export const HELD_SHARE = 0.95;
export const HELD_P99_MS = 1000;

/** Why a rate did not hold (empty when it held). */
export function whyNotHeld(step: { rate: number; sustained: number; failures: number; p99Ms: number }): string {
  return [
    ...(step.sustained < HELD_SHARE * step.rate ? [`sustained ${Math.round((100 * step.sustained) / step.rate)}% of it`] : []),
    ...(step.failures > 0 ? [`${step.failures} 5xx or unanswered`] : []),
    ...(step.p99Ms > HELD_P99_MS ? [`p99 ${Math.round(step.p99Ms)} ms`] : []),
  ].join(', ');
}
