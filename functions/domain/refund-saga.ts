import { ErrorCode, NotFoundError, RefundDeclinedError } from './errors.ts';
import type { Clock } from './ports.ts';
import { DEPLOYMENT_METADATA_KEY, type PaymentProvider, type ProviderRefund, mayHaveForgottenKey } from './provider.ts';
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
  if (refund.status === RefundStatus.Succeeded) {
    return { ...state, ...(refund.providerRefundId !== undefined && { provider_refund_id: refund.providerRefundId }) };
  }
  if (refund.status === RefundStatus.Failed) {
    // Failed on another execution's refusal, while this execution's own earlier call may have
    // gone through with its answer lost (this is Step Functions' retry of it): the provider
    // tells, and RecordRefund follows it. Nothing is sent: the amount was given back.
    return withRefund(state, await madeAtProvider(deps, refund));
  }
  if (mayHaveForgottenKey(deps.clock(), refund.createdAt)) {
    // Past the provider's memory of the key (Stripe: 24 hours), a refund that an execution which
    // died made is found by its refund_no; a new request would be refused (the charge already
    // refunded) or, for a partial refund, refund a second time.
    const made = await madeAtProvider(deps, refund);
    if (made !== undefined) return withRefund(state, made);
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
  return withRefund(state, refunded);
}

function withRefund(state: RefundSagaState, made: ProviderRefund | undefined): RefundSagaState {
  return { ...state, ...(made !== undefined && { provider_refund_id: made.id }) };
}

/** The provider's refund made under this refund's refund_no and not undone, if it made one. */
export async function madeAtProvider(deps: Pick<RefundSagaDeps, 'provider'>, refund: Refund): Promise<ProviderRefund | undefined> {
  return (await deps.provider.findRefundsOfCharge(refund.chargeId)).find(
    (made) => made.refundNo === refund.refundNo && made.status !== 'failed' && made.status !== 'canceled',
  );
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
    await revive(deps, refund, providerRefundId);
    return state;
  }
  await deps.refunds.replace(refund, next(deps, refund, { status: RefundStatus.Succeeded, providerRefundId }));
  return state;
}

/** `failed -> succeeded`: the provider refunded after all; the amount is taken from the payment again. */
export async function revive(deps: RefundStepDeps, refund: Refund, providerRefundId: string): Promise<Refund> {
  const { failureReason: _overturned, ...failed } = refund;
  return deps.refunds.revive(refund, next(deps, failed, { status: RefundStatus.Succeeded, providerRefundId }));
}

/**
 * `pending -> failed`, the amount given back to the payment in the same transaction. A refund
 * failed on a refusal of one execution's request stays due for one more look: another
 * execution's request may still have been running at the provider, and may have refunded it.
 */
export async function markRefundFailed(deps: RefundStepDeps, state: RefundSagaState): Promise<RefundSagaState> {
  const refund = await load(deps, state.refund_no);
  if (refund.status !== RefundStatus.Pending) return state;
  const refused = state.error?.Error === 'ProviderRejected';
  const failureReason = refused ? ErrorCode.ProviderRejected : ErrorCode.RefundDeclined;
  const recheckAt = new Date(deps.clock().getTime() + deps.reconcileAfterSeconds * 1000).toISOString();
  await deps.refunds.fail(
    refund,
    next(deps, refund, { status: RefundStatus.Failed, failureReason, ...(refused && { reconcileAt: recheckAt }) }),
  );
  return state;
}

/** The refund's next version; a finished refund leaves the reconciler's index unless `changes` keep it there. */
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
