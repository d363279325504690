import type { ListPage, ListQuery } from './lists.ts';
import type { Payment, PaymentPatch, PaymentStatus } from './payment.ts';

/**
 * Where payments live. Every write is conditional on the version the caller read, so two
 * actors can never undo each other: the loser gets {@link StaleWriteError} carrying the
 * record as it now is, and decides again.
 */
export interface PaymentRepository {
  get(paymentNo: string): Promise<Payment | undefined>;
  /** Writes a new payment unless one with its payment_no exists; then returns that one. */
  create(payment: Payment): Promise<{ created: true; payment: Payment } | { created: false; payment: Payment }>;
  /**
   * Replaces `current` with `next` (whose version must be `current.version + 1`) if the
   * stored record still has `current`'s status and version.
   */
  replace(current: Payment, next: Payment): Promise<Payment>;
  /**
   * Writes `patch` (whose version must be `expected.version + 1`) over the payment if it still
   * has `expected`'s status and version, without reading it: for a writer that presumes what an
   * earlier step read. Returns the payment as
   * written; when the payment moved on, {@link StaleWriteError} carries it as stored.
   */
  update(expected: Pick<Payment, 'paymentNo' | 'status' | 'version'>, patch: PaymentPatch): Promise<Payment>;
  /** Non-terminal payments whose `reconcileAt` has passed, oldest first, at most `limit`. */
  listDue(now: Date, limit: number): Promise<Payment[]>;
}

/** The merchant's payments as the API lists them: `status` is the one filter of its own. */
export interface PaymentLister {
  listForMerchant(merchantId: string, query: ListQuery<{ readonly status?: PaymentStatus }>): Promise<ListPage<Payment>>;
}

/** A conditional write lost: `current` is the record as stored now, if it still exists. */
export class StaleWriteError extends Error {
  override readonly name = 'StaleWriteError';
  constructor(readonly current: Payment | undefined) {
    super(
      current
        ? `payment ${current.paymentNo} is now ${current.status} at version ${current.version}`
        : 'payment no longer exists',
    );
  }
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'NOT_FOUND';

/** Starts and inspects the executions of the payment saga (Step Functions). */
export interface ChargeWorkflow {
  /**
   * Starts the saga for a payment under `executionName`. Starting a name that already
   * exists with the same input is a no-op, which makes a duplicate start harmless.
   */
  start(paymentNo: string, executionName: string): Promise<void>;
  describe(executionName: string): Promise<ExecutionStatus>;
}

export type Clock = () => Date;

export type { Payment, PaymentStatus };
