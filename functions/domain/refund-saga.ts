import { ErrorCode, NotFoundError, RefundDeclinedError } from './errors.ts';
import type { Clock } from './ports.ts';
import { DEPLOYMENT_METADATA_KEY, type PaymentProvider } from './provider.ts';
import { type Refund, type RefundRepository, RefundStatus } from './refund.ts';

/**
 * The refund saga: SubmitRefund (the provider refunds, keyed by the refund_no, so a repeat
 * after a crash or a lost answer is answered from the provider's record) -> RecordRefund;
 * a refusal goes to MarkRefundFailed, which gives the amount back to the payment.
 */
export interface RefundStepDeps {
  readonly refunds: RefundRepository;
  readonly clock: Clock;
  readonly reconcileAfterSeconds: number;
}

export interface RefundSagaDeps extends RefundStepDeps {
  readonly provider: PaymentProvider;
  readonly deployment: string;
}

export interface RefundSagaState {
  readonly refund_no: string;
  readonly provider_refund_id?: string;
  /** Set by a Catch: the terminal error that sent the execution to MarkRefundFailed. */
  readonly error?: { readonly Error: string; readonly Cause?: string };
}

export async function submitRefund(deps: RefundSagaDeps, state: RefundSagaState): Promise<RefundSagaState> {
  const refund = await load(deps, state.refund_no);
  if (refund.status !== RefundStatus.Pending) {
    return { ...state, ...(refund.providerRefundId !== undefined && { provider_refund_id: refund.providerRefundId }) };
  }
  const refunded = await deps.provider.refundCharge({
    chargeId: refund.chargeId,
    amount: refund.amount,
    idempotencyKey: refund.refundNo,
    metadata: { refund_no: refund.refundNo, payment_no: refund.paymentNo, [DEPLOYMENT_METADATA_KEY]: deps.deployment },
  });
  if (refunded.status === 'failed' || refunded.status === 'canceled') {
    throw new RefundDeclinedError(refunded.failureReason ?? `the provider's refund ${refunded.id} ${refunded.status}`);
  }
  return { ...state, provider_refund_id: refunded.id };
}

/**
 * `pending -> succeeded`, with the provider's refund id. Also `failed -> succeeded`: a
 * duplicate execution's provider call can land after another execution failed the refund on
 * the provider's first refusal; the provider's refund stands, so the record follows it and
 * takes the amount from the payment again.
 */
export async function recordRefund(deps: RefundStepDeps, state: RefundSagaState): Promise<RefundSagaState> {
  const refund = await load(deps, state.refund_no);
  if (refund.status === RefundStatus.Succeeded) return state;
  const providerRefundId = state.provider_refund_id;
  if (providerRefundId === undefined) {
    // SubmitRefund found the refund already failed, and called nobody.
    if (refund.status === RefundStatus.Failed) return state;
    throw new Error('RecordRefund needs provider_refund_id from SubmitRefund');
  }
  if (refund.status === RefundStatus.Failed) {
    const { failureReason: _overturned, ...failed } = refund;
    await deps.refunds.revive(refund, next(deps, failed, { status: RefundStatus.Succeeded, providerRefundId }));
    return state;
  }
  await deps.refunds.replace(refund, next(deps, refund, { status: RefundStatus.Succeeded, providerRefundId }));
  return state;
}

/** `pending -> failed`, the amount given back to the payment in the same transaction. */
export async function markRefundFailed(deps: RefundStepDeps, state: RefundSagaState): Promise<RefundSagaState> {
  const refund = await load(deps, state.refund_no);
  if (refund.status !== RefundStatus.Pending) return state;
  const failureReason = state.error?.Error === 'ProviderRejected' ? ErrorCode.ProviderRejected : ErrorCode.RefundDeclined;
  await deps.refunds.fail(refund, next(deps, refund, { status: RefundStatus.Failed, failureReason }));
  return state;
}

/** The refund's next version; a finished refund leaves the reconciler's index. */
export function next(
  deps: Pick<RefundStepDeps, 'clock' | 'reconcileAfterSeconds'>,
  refund: Refund,
  changes: Partial<Pick<Refund, 'status' | 'providerRefundId' | 'failureReason' | 'resumeCount' | 'reconcileAt'>>,
): Refund {
  const now = deps.clock();
  const { reconcileAt: _moved, ...kept } = refund;
  const updated: Refund = { ...kept, ...changes, version: refund.version + 1, updatedAt: now.toISOString() };
  if (updated.status !== RefundStatus.Pending) return updated;
  return changes.reconcileAt !== undefined
    ? updated
    : { ...updated, reconcileAt: new Date(now.getTime() + deps.reconcileAfterSeconds * 1000).toISOString() };
}

async function load(deps: Pick<RefundStepDeps, 'refunds'>, refundNo: string): Promise<Refund> {
  const refund = await deps.refunds.get(refundNo);
  if (!refund) throw new NotFoundError(`refund ${refundNo} does not exist`);
  return refund;
}
