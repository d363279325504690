/**
 * Crash points: where a function may die, for the crash matrix and the demo, never on AWS.
 * Every state-changing call a function makes through a port (crashing-ports.ts) crosses a
 * point before it and one after it, `<function>:<before|after>-<boundary>`, the function being
 * the invocation's that makes the call (invocation.ts). `CRASH_AT` names the points to die at,
 * each at its Nth crossing (`point@N`), and a `#tag` under which crossings are counted afresh;
 * `CRASH_AUDIT` (audit.ts) refuses a state-changing call that goes around them.
 */
import type { ApiRouteId, PayoutStepName, RefundStepName, SagaStepName, WebhookStepName } from '../catalog.ts';
import { EnvVar, optionalEnv } from '../config/env.ts';
import { PROCESS_EXIT_ERROR_NAME } from '../domain/errors.ts';
import { crashHost } from './host.ts';

/** `CreatePayment` -> `create-payment`: a catalog name as the crash points spell its function. */
type Kebab<S extends string> = S extends `${infer Head}${infer Tail}` ? `${Lowercase<Head>}${KebabTail<Tail>}` : S;
type KebabTail<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `-${Lowercase<Head>}`}${KebabTail<Tail>}`
  : S;

/**
 * Every Lambda function the catalog deploys (functions/catalog.ts): each route, each step of
 * either saga, the authorizer and the reconciler. A function added there is missing from
 * {@link crashBoundaries} until it is listed, which the compiler reports.
 */
export type CrashFunction =
  | Kebab<ApiRouteId | SagaStepName | RefundStepName | PayoutStepName | WebhookStepName>
  | 'authorizer'
  | 'reconciler'
  | 'ledger-poster'
  | 'settle-day'
  | 'event-publisher';

/**
 * A state-changing call a function makes through a port: a write to the table (the
 * idempotency records' included), a provider call that moves money, the start of an execution.
 */
export type Boundary = 'write' | 'provider' | 'start';

/**
 * The boundaries each function crosses, each with a point before and after it. The crash
 * matrix's calibration crosses every one of them; a function that crosses a boundary not
 * listed here fails loudly while crash points or the audit are on (see `withCrashPoints`), so
 * the list is exactly what the functions do.
 */
export const crashBoundaries = {
  'create-payment': ['write', 'start'],
  'list-payments': [],
  'get-payment': [],
  // The merchant's word on the payment (with the next execution's number), then that execution's start.
  'capture-payment': ['write', 'start'],
  'cancel-payment': ['write', 'start'],
  'create-refund': ['write', 'start'],
  'list-refunds': [],
  'get-refund': [],
  'create-class': ['write'],
  'get-class': [],
  'create-account': ['write'],
  'get-account': [],
  'grant-points': ['write'],
  'add-swimmer': ['write'],
  'list-purchases': [],
  'open-cart': ['write'],
  'get-cart': [],
  'add-cart-item': ['write'],
  'remove-cart-item': ['write'],
  // A cart's card part (its payment written and started), and a cart that gives back more
  // than it buys (its difference refunded to the card: a refund written and started).
  checkout: ['write', 'start'],
  'confirm-in-store': ['write'],
  'cancel-cart': ['write'],
  'get-balance': [],
  'list-balance-transactions': [],
  'list-settlements': [],
  'get-settlement': [],
  'get-settlement-csv': [],
  // The payout, its place and its posting: one transaction; the payout saga's start.
  'create-payout': ['write', 'start'],
  'get-payout': [],
  'list-payouts': [],
  'list-carts': [],
  'get-settings': [],
  'update-settings': ['write'],
  // The contract, a document in its bundle: it touches nothing.
  'get-open-api': [],
  'create-webhook-endpoint': ['write'],
  'list-webhook-endpoints': [],
  'delete-webhook-endpoint': ['write'],
  'list-events': [],
  'get-event': [],
  'redeliver-event': ['start'],
  // Each attempt recorded, and the delivery's outcome.
  'deliver-webhook': ['write'],
  'give-up-webhook': ['write'],
  // The event (a conditional put), then one start per endpoint that takes it.
  'event-publisher': ['write', 'start'],
  authorizer: [],
  // The provider's call, and the decline recorded when it refuses.
  authorize: ['provider', 'write'],
  'record-authorization': ['write'],
  capture: ['provider'],
  'mark-succeeded': ['write'],
  'void-authorization': ['provider'],
  'mark-failed': ['write'],
  'settle-cart': ['write'],
  'submit-refund': ['provider'],
  'check-refund': ['write'],
  'record-refund': ['write'],
  'mark-refund-failed': ['write'],
  'submit-payout': ['provider'],
  // The provider's payout id, status and arrival date, while it travels.
  'check-payout': ['write'],
  // Each status change with its posting: one transaction.
  'record-payout-paid': ['write'],
  'mark-payout-failed': ['write'],
  // It also moves funds whose delay passed from pending to available (a ledger posting).
  reconciler: ['write', 'start', 'provider'],
  // One posting (a TransactWriteItems) per payment or refund change that moved money.
  'ledger-poster': ['write'],
  // Each statement put once, then the merchant's place in the registry.
  'settle-day': ['write'],
} as const satisfies Record<CrashFunction, readonly Boundary[]>;

export type CrashPoint = {
  [F in CrashFunction]: `${F}:${'before' | 'after'}-${(typeof crashBoundaries)[F][number]}`;
}[CrashFunction];

export const crashFunctions = Object.keys(crashBoundaries) as CrashFunction[];

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c, i: number) => (i ? '-' : '') + c.toLowerCase());
}

/** The function a catalog name deploys, as its crash points name it: `RecordAuthorization` -> `record-authorization`. */
export function crashFunctionOf(name: ApiRouteId | SagaStepName | RefundStepName | PayoutStepName | WebhookStepName): CrashFunction {
  const fn = kebab(name);
  if (!(crashFunctions as string[]).includes(fn)) throw new Error(`${name} has no crash points registered`);
  return fn as CrashFunction;
}

export const crashPoints: readonly CrashPoint[] = crashFunctions.flatMap((fn) =>
  crashBoundaries[fn].flatMap((boundary: Boundary) => [`${fn}:before-${boundary}`, `${fn}:after-${boundary}`] as CrashPoint[]),
);

export function isCrashPoint(name: string): name is CrashPoint {
  return (crashPoints as readonly string[]).includes(name);
}

/** The points of one function. */
export function pointsOf(fn: CrashFunction): CrashPoint[] {
  return crashPoints.filter((point) => point.startsWith(`${fn}:`));
}

/**
 * What a killed Lambda reports: its process exited mid-invocation. Neither retried nor caught
 * by the state machine; the execution fails and the reconciler resumes the payment.
 */
export class SimulatedCrash extends Error {
  override readonly name = PROCESS_EXIT_ERROR_NAME;
  constructor(
    readonly point: CrashPoint,
    readonly crossing: number,
  ) {
    super(`simulated crash at ${point}@${crossing} (${EnvVar.CrashAt})`);
  }
}

/**
 * Crossings counted and crashes fired, by point and `CRASH_AT` tag, shared by every copy of
 * this module in the process (the local stack and the tests that drive it load it apart).
 */
const state: { crossings: Map<string, number>; fired: Set<string> } = ((
  globalThis as { __chargeonceCrashes?: { crossings: Map<string, number>; fired: Set<string> } }
).__chargeonceCrashes ??= { crossings: new Map(), fired: new Set() });

/** A crash `CRASH_AT` arms: at the `crossing`th crossing of `point`. */
export interface Armed {
  readonly point: CrashPoint;
  readonly crossing: number;
}

const parsed = new Map<string, { armed: readonly Armed[]; tag: string }>();

/**
 * `capture:before-provider@2,reconciler:after-write#case-7`: points, each at its Nth crossing
 * (1st unless given), and a tag. Throws for a name that is no crash point.
 */
export function parseCrashAt(value: string): { armed: readonly Armed[]; tag: string } {
  let known = parsed.get(value);
  if (known === undefined) {
    const [list = '', tag = ''] = value.split('#');
    const armed = list
      .split(',')
      .filter((entry) => entry !== '')
      .map((entry): Armed => {
        const [point = '', crossing = '1'] = entry.split('@');
        // A name that is no point would never fire: a test that sets it must hear so.
        if (!isCrashPoint(point) || !/^[1-9][0-9]*$/.test(crossing)) throw new Error(`${EnvVar.CrashAt}: no crash point ${entry}`);
        return { point, crossing: Number(crossing) };
      });
    known = { armed, tag };
    parsed.set(value, known);
  }
  return known;
}

/** Whether crash points and the audit are live: only where a test or the demo sets them, never on AWS. */
export function crashTesting(): boolean {
  return optionalEnv(EnvVar.CrashAt) !== undefined || optionalEnv(EnvVar.CrashAudit) !== undefined;
}

/**
 * Counts a crossing of `point` and dies here if `CRASH_AT` names this crossing of it
 * (`point@N`, the first when no N is given). Crossings are counted per point and per `#tag`
 * of the `CRASH_AT` value, across the process (across every instance, where a host counts
 * them: host.ts), so each configured crossing fires once, as a real crash does: the process
 * that restarts runs through.
 */
export function crashAt(point: CrashPoint): void {
  const configured = optionalEnv(EnvVar.CrashAt);
  if (configured === undefined) return;
  const { armed, tag } = parseCrashAt(configured);
  const key = `${point}#${tag}`;
  const host = crashHost();
  const crossing = host === undefined ? (state.crossings.get(key) ?? 0) + 1 : host.cross(point, tag);
  state.crossings.set(key, crossing);
  if (!armed.some((a) => a.point === point && a.crossing === crossing)) return;
  state.fired.add(`${point}@${crossing}#${tag}`);
  throw new SimulatedCrash(point, crossing);
}

/** Whether the crash at that crossing of `point` fired under the current `CRASH_AT` value (for tests and the demo). */
export function crashFired(point: CrashPoint, crossing = 1): boolean {
  const configured = optionalEnv(EnvVar.CrashAt);
  return configured !== undefined && state.fired.has(`${point}@${crossing}#${parseCrashAt(configured).tag}`);
}

/** How often each point was crossed under the current `CRASH_AT` tag; a point never crossed is absent. */
export function crossingsSoFar(): Partial<Record<CrashPoint, number>> {
  const configured = optionalEnv(EnvVar.CrashAt);
  if (configured === undefined) return {};
  const suffix = `#${parseCrashAt(configured).tag}`;
  const counts: Partial<Record<CrashPoint, number>> = {};
  for (const [key, count] of state.crossings) {
    if (!key.endsWith(suffix)) continue;
    const point = key.slice(0, -suffix.length);
    if (isCrashPoint(point)) counts[point] = count;
  }
  return counts;
}
