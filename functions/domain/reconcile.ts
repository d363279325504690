import { executionNameFor } from './create-payment.ts';
import { ChargeonceError } from './errors.ts';
import type { Payment } from './payment.ts';
import { type ChargeWorkflow, type Clock, type PaymentRepository, StaleWriteError } from './ports.ts';
import { touch } from './saga.ts';

export interface ReconcileDeps {
  readonly payments: PaymentRepository;
  readonly workflow: ChargeWorkflow;
  readonly clock: Clock;
  readonly reconcileAfterSeconds: number;
  /** Executions started after the first before the reconciler gives a payment up to people. */
  readonly maxResumes: number;
}

/**
 * - `still_running`: its execution is alive; only its deadline moves.
 * - `started`: its first execution was never started (a crash after the payment was written).
 * - `resumed`: its execution ended without finishing it; a new one resumes from the stored state.
 * - `gave_up`: resumed too often; left for a person, and alarmed on.
 * - `skipped`: another actor moved it while we looked.
 * - `errored`: looking at it failed (Step Functions or DynamoDB unavailable); the next run
 *   tries again, and the rest of the batch goes on.
 */
export type ReconcileDecision = 'still_running' | 'started' | 'resumed' | 'gave_up' | 'skipped' | 'errored';

export interface ReconcileOutcome {
  readonly paymentNo: string;
  readonly status: Payment['status'];
  readonly createdAt: string;
  readonly decision: ReconcileDecision;
  readonly error?: unknown;
}

/** How long a given-up payment waits before it is looked at (and alarmed on) again. */
const GAVE_UP_RECHECK_SECONDS = 3600;

/**
 * Brings each unfinished payment past its deadline back into motion. Every decision is
 * first claimed by a conditional write on the payment (its version), so two reconcilers, or
 * a reconciler and a live step, never both act on what they read.
 */
export async function reconcilePayments(
  deps: ReconcileDeps,
  batchSize: number,
): Promise<ReconcileOutcome[]> {
  const due = await deps.payments.listDue(deps.clock(), batchSize);
  const outcomes: ReconcileOutcome[] = [];
  for (const payment of due) {
    const seen = { paymentNo: payment.paymentNo, status: payment.status, createdAt: payment.createdAt };
    try {
      outcomes.push({ ...seen, decision: await reconcileOne(deps, payment) });
    } catch (error) {
      // An outage the next run may not meet is recorded; anything else (a bug, a crash) ends the run.
      if (!(error instanceof ChargeonceError)) throw error;
      outcomes.push({ ...seen, decision: 'errored', error });
    }
  }
  return outcomes;
}

async function reconcileOne(deps: ReconcileDeps, payment: Payment): Promise<ReconcileDecision> {
  const execution = await deps.workflow.describe(executionNameFor(payment));
  try {
    if (execution === 'RUNNING') {
      await deps.payments.replace(payment, touch(deps, payment, {}));
      return 'still_running';
    }
    if (execution === 'NOT_FOUND') {
      const claimed = await deps.payments.replace(payment, touch(deps, payment, {}));
      await deps.workflow.start(claimed.paymentNo, executionNameFor(claimed));
      return 'started';
    }
    if (payment.resumeCount >= deps.maxResumes) {
      const recheckAt = new Date(deps.clock().getTime() + GAVE_UP_RECHECK_SECONDS * 1000);
      await deps.payments.replace(payment, touch(deps, payment, { reconcileAt: recheckAt.toISOString() }));
      return 'gave_up';
    }
    const claimed = await deps.payments.replace(
      payment,
      touch(deps, payment, { resumeCount: payment.resumeCount + 1 }),
    );
    await deps.workflow.start(claimed.paymentNo, executionNameFor(claimed));
    return 'resumed';
  } catch (error) {
    if (error instanceof StaleWriteError) return 'skipped';
    throw error;
  }
}
