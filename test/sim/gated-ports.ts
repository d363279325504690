import {
  ConcurrentModificationError,
  DatabaseThrottledError,
  DatabaseUnavailableError,
  WorkflowUnavailableError,
} from '../../functions/domain/errors.ts';
import { ledgerStoreCalls } from '../../functions/crash/crashing-ports.ts';
import type { SchoolStore } from '../../functions/domain/carts/store.ts';
import type { IdempotencyStore } from '../../functions/domain/idempotency.ts';
import type { LedgerStore } from '../../functions/domain/ledger/ledger.ts';
import type { ChargeWorkflow, PaymentRepository } from '../../functions/domain/ports.ts';
import type { PaymentProvider } from '../../functions/domain/provider.ts';
import type { RefundRepository } from '../../functions/domain/refund.ts';
import type { InMemorySchoolStore } from '../support/in-memory-school-store.ts';
import type { StripeFault, StrictStripe } from '../support/strict/stripe.ts';
import { type Actor, type Decision, Killed } from './scheduler.ts';

/** The ports a Lambda of the product uses, each call a gate of the actor that makes it. */
export interface Ports {
  readonly payments: PaymentRepository;
  readonly refunds: RefundRepository;
  readonly keys: IdempotencyStore;
  readonly provider: PaymentProvider;
  readonly paymentWorkflow: ChargeWorkflow;
  readonly refundWorkflow: ChargeWorkflow;
  readonly school: SchoolStore;
  readonly ledger: LedgerStore;
}

/** The services behind the ports whose own fault simulation a gate uses. */
export interface Services {
  readonly stripe: StrictStripe;
  readonly school: InMemorySchoolStore;
}

/**
 * How a call fails when its service fails: a read changes nothing, a write may have landed; a
 * school `commit` is a transaction whose conflict is an answer (`conflict`), not an error.
 */
type CallKind = 'read' | 'write' | 'transaction' | 'commit' | 'workflow' | 'provider';

/**
 * Every method of every port, with how it fails: a port that gains a method does not compile
 * until the method is given its kind here, so no call escapes the gates.
 */
const callKinds = {
  payments: { get: 'read', create: 'write', replace: 'write', update: 'write', listDue: 'read' },
  refunds: {
    get: 'read',
    create: 'transaction',
    replace: 'write',
    fail: 'transaction',
    revive: 'transaction',
    listForPayment: 'read',
    listDue: 'read',
  },
  keys: { get: 'read', claim: 'write', takeOver: 'write', complete: 'write', release: 'write' },
  provider: {
    authorizeCharge: 'provider',
    captureCharge: 'provider',
    voidCharge: 'provider',
    retrieveCharge: 'provider',
    findChargesByPaymentNo: 'provider',
    refundCharge: 'provider',
    listOpenAuthorizations: 'provider',
    findRefundsOfCharge: 'provider',
    retrieveRefund: 'provider',
    createPayout: 'provider',
    retrievePayout: 'provider',
    findPayouts: 'provider',
  },
  paymentWorkflow: { start: 'workflow', describe: 'read' },
  refundWorkflow: { start: 'workflow', describe: 'read' },
  school: {
    commit: 'commit',
    getClass: 'read',
    countSeats: 'read',
    getStudent: 'read',
    getAccount: 'read',
    getSwimmer: 'read',
    listSwimmers: 'read',
    listPurchases: 'read',
    getCart: 'read',
    listDueCarts: 'read',
    listDueHolds: 'read',
  },
  // The crash points' list of the ledger's calls; its one write is a TransactWriteItems.
  ledger: { ...ledgerStoreCalls, post: 'transaction' },
} as const satisfies { readonly [P in keyof Ports]: { readonly [M in keyof Ports[P]]: CallKind } };

/** Every call a gate can stop: `payments.replace`, `provider.captureCharge`, ... */
export const callLabels: readonly string[] = Object.entries(callKinds).flatMap(([port, methods]) =>
  Object.keys(methods).map((method) => `${port}.${method}`),
);

/** Waits at the actor's gate for the call `label`; the history decides what happens. */
export type Pass = (actor: Actor, label: string) => Promise<Decision>;

/**
 * `ports` with a gate before every call of `actor`: the call goes through, the Lambda dies
 * before or after it (then no code of that invocation reaches a port again), or it fails the
 * way its service fails. For the provider the fault is Stripe's, so the real adapter turns it
 * into the domain's error.
 */
export function gatedPorts(ports: Ports, services: Services, actor: Actor, pass: Pass): Ports {
  // Calls a Lambda makes at once (a Promise.all) go through one at a time, in the order made:
  // an actor waits at one gate at most, and that is one of the orders the real calls can take.
  const gate = (label: string, kind: CallKind, call: () => Promise<unknown>): Promise<unknown> => {
    const turn = actor.calls.then(() => gated(label, kind, call));
    actor.calls = turn.catch(() => undefined);
    return turn;
  };
  const gated = async (label: string, kind: CallKind, call: () => Promise<unknown>): Promise<unknown> => {
    if (actor.invocation.killed) throw new Killed(label);
    const decision = await pass(actor, label);
    switch (decision.kind) {
      case 'go':
        return call();
      case 'crash':
        if (decision.after) await call().catch(() => undefined);
        actor.invocation.killedBy ??= 'crash';
        throw new Killed(`${label} (${decision.after ? 'after' : 'before'})`);
      case 'fault':
        if (kind === 'provider') return providerFault(services.stripe, decision, call);
        if (kind === 'commit' && decision.fault === 'transient' && decision.variant % 3 === 2) {
          // DynamoDB's TransactionConflict: the store's own simulation of one, which the domain retries.
          services.school.conflictNext(1);
          return call();
        }
        return serviceFault(kind === 'commit' ? 'transaction' : kind, decision, label, call);
    }
  };
  const wrap = <P extends keyof Ports>(port: P): Ports[P] => {
    const target = ports[port] as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const methods: Record<string, CallKind> = callKinds[port];
    return Object.fromEntries(
      Object.entries(methods).map(([method, kind]) => [
        method,
        (...args: unknown[]) => gate(`${port}.${method}`, kind, () => Reflect.apply(target[method] as Function, target, args)),
      ]),
    ) as unknown as Ports[P];
  };
  return {
    payments: wrap('payments'),
    refunds: wrap('refunds'),
    keys: wrap('keys'),
    provider: wrap('provider'),
    paymentWorkflow: wrap('paymentWorkflow'),
    refundWorkflow: wrap('refundWorkflow'),
    school: wrap('school'),
    ledger: wrap('ledger'),
  };
}

const transientStripeFaults: readonly StripeFault[] = ['unavailable', 'rateLimited', 'keyInUse'];

/** The fault as Stripe makes it, for the request the adapter sends first. */
async function providerFault<R>(stripe: StrictStripe, decision: Extract<Decision, { kind: 'fault' }>, effect: () => Promise<R>): Promise<R> {
  const fault: StripeFault = {
    transient: transientStripeFaults[decision.variant % transientStripeFaults.length] as StripeFault,
    lost: 'lostResponse' as const,
    timeout: 'timeout' as const,
    refused: 'refused' as const,
    error500: decision.variant % 2 === 0 ? ('error500' as const) : ('error500Committed' as const),
  }[decision.fault];
  stripe.arm(fault);
  try {
    return await effect();
  } finally {
    stripe.arm(undefined);
  }
}

/**
 * DynamoDB and Step Functions: a transient fault is answered before anything ran (throttling, a
 * 5xx, for a transaction a conflict with another in flight); a lost answer or a timeout leaves
 * a write landed and the caller told the service was unavailable.
 */
async function serviceFault<R>(
  kind: Exclude<CallKind, 'provider' | 'commit'>,
  decision: Extract<Decision, { kind: 'fault' }>,
  label: string,
  effect: () => Promise<R>,
): Promise<R> {
  const unavailable = () =>
    kind === 'workflow'
      ? new WorkflowUnavailableError(`${label}: Step Functions did not answer`)
      : new DatabaseUnavailableError(`${label}: DynamoDB did not answer`);
  const landed = decision.fault === 'lost' || decision.fault === 'timeout';
  if (landed && kind !== 'read') {
    await effect().catch(() => undefined);
    throw unavailable();
  }
  if (decision.fault === 'transient' && kind !== 'workflow') {
    if (decision.variant % 3 === 1) throw new DatabaseThrottledError(`${label}: throttled`);
    if (decision.variant % 3 === 2 && kind === 'transaction') {
      throw new ConcurrentModificationError(`${label}: TransactionConflict with a transaction in flight`);
    }
  }
  throw unavailable();
}
