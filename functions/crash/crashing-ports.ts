import type { SchoolStore } from '../domain/carts/store.ts';
import type { CreatePaymentDeps } from '../domain/create-payment.ts';
import type { ChargeWorkflow, PaymentRepository } from '../domain/ports.ts';
import type { PaymentProvider } from '../domain/provider.ts';
import type { RefundRepository } from '../domain/refund.ts';
import { type CrashFunction, type CrashPoint, crashAt, crashPoints } from './crash-points.ts';

/**
 * The ports a function uses, with its crash points around every call that changes something:
 * a provider call that moves money, a write to the table, the start of an execution. The
 * domain code stays unaware; with `CRASH_AT` unset each wrapper only calls through.
 */
export interface CrashablePorts {
  readonly payments?: PaymentRepository;
  readonly provider?: PaymentProvider;
  readonly workflow?: ChargeWorkflow;
  readonly refunds?: RefundRepository;
  readonly store?: SchoolStore;
  /** A checkout's means to create its card payment: its writes and start are the same function's boundaries. */
  readonly paymentCreation?: CreatePaymentDeps;
}

/** The SchoolStore's writes, all of them commits: each a crash boundary. Its reads pass through. */
const schoolStoreWrites = ['commit'] as const satisfies readonly (keyof SchoolStore)[];

export function withCrashPoints<D extends CrashablePorts>(deps: D, fn: CrashFunction): D {
  const at = (boundary: string) => {
    const point = `${fn}:${boundary}` as CrashPoint;
    // A boundary the registry does not list would never enter the crash matrix: fail loudly.
    if (!crashPoints.includes(point)) throw new Error(`unregistered crash point ${point}`);
    crashAt(point);
  };
  const around =
    <A extends unknown[], R>(before: string, after: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      at(before);
      const result = await call(...args);
      at(after);
      return result;
    };
  const { payments, provider, workflow, refunds, store, paymentCreation } = deps;
  return {
    ...deps,
    ...(paymentCreation && { paymentCreation: withCrashPoints(paymentCreation, fn) }),
    ...(payments && {
      payments: {
        get: (paymentNo) => payments.get(paymentNo),
        listDue: (now, limit) => payments.listDue(now, limit),
        create: around('before-write', 'after-write', (p) => payments.create(p)),
        replace: around('before-write', 'after-write', (current, next) => payments.replace(current, next)),
      } satisfies PaymentRepository,
    }),
    ...(provider && {
      provider: {
        retrieveCharge: (id) => provider.retrieveCharge(id),
        findChargesByPaymentNo: (no) => provider.findChargesByPaymentNo(no),
        listOpenAuthorizations: (input) => provider.listOpenAuthorizations(input),
        findRefundsOfCharge: (chargeId) => provider.findRefundsOfCharge(chargeId),
        retrieveRefund: (id) => provider.retrieveRefund(id),
        authorizeCharge: around('before-provider', 'after-provider', (i) => provider.authorizeCharge(i)),
        captureCharge: around('before-provider', 'after-provider', (i) => provider.captureCharge(i)),
        voidCharge: around('before-provider', 'after-provider', (i) => provider.voidCharge(i)),
        refundCharge: around('before-provider', 'after-provider', (i) => provider.refundCharge(i)),
      } satisfies PaymentProvider,
    }),
    ...(refunds && {
      refunds: {
        get: (refundNo) => refunds.get(refundNo),
        listForPayment: (payment) => refunds.listForPayment(payment),
        listDue: (now, limit) => refunds.listDue(now, limit),
        create: around('before-write', 'after-write', (r) => refunds.create(r)),
        replace: around('before-write', 'after-write', (current, next) => refunds.replace(current, next)),
        fail: around('before-write', 'after-write', (current, next) => refunds.fail(current, next)),
        revive: around('before-write', 'after-write', (current, next) => refunds.revive(current, next)),
      } satisfies RefundRepository,
    }),
    ...(store && {
      // Built on the store itself, so its reads pass through untouched.
      store: Object.assign(
        Object.create(store) as SchoolStore,
        Object.fromEntries(
          schoolStoreWrites.map((name) => [
            name,
            around('before-write', 'after-write', (...args: unknown[]) =>
              (store[name] as (...a: unknown[]) => Promise<unknown>).apply(store, args),
            ),
          ]),
        ),
      ),
    }),
    ...(workflow && {
      workflow: {
        describe: (name) => workflow.describe(name),
        start: around('before-start', 'after-start', (no, name) => workflow.start(no, name)),
      } satisfies ChargeWorkflow,
    }),
  };
}
