import { ErrorCode, NotFoundError } from './errors.ts';
import type { Clock } from './ports.ts';
import {
  DEPLOYMENT_METADATA_KEY,
  type PaymentProvider,
  type ProviderRefund,
  type ProviderRefundStatus,
  mayHaveForgottenKey,
} from './provider.ts';
import { type Refund, type RefundRepository, RefundStatus } from './refund.ts';

/**
 * The refund saga: SubmitRefund (the provider refunds, keyed by the refund_no, so a repeat
 * after a crash or a lost answer is answered from the provider's record); while the provider
 * holds its refund pending, CheckRefund looks again every {@link REFUND_CHECK_INTERVAL_SECONDS},
 * at most {@link REFUND_CHECKS} times. The provider's final answer goes to RecordRefund
 * (succeeded) or MarkRefundFailed (failed or canceled, or the request refused), which gives
 * the amount back to the payment. A refund still pending after the last look is left to the
 * reconciler, which asks the provider again later; our refund stays `pending` meanwhile.
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

/** How long the saga waits before each look at a pending provider refund. */
export const REFUND_CHECK_INTERVAL_SECONDS = 30;

/**
 * Looks at a pending provider refund before the execution leaves it to the reconciler: three
 * minutes, which a card refund the provider could not settle at once rarely needs.
 */
export const REFUND_CHECKS = 6;

export interface RefundSagaState {
  readonly refund_no: string;
  readonly provider_refund_id?: string;
  /** What the provider's refund, as last seen, means for ours: the state machine routes on it. */
  readonly outcome?: RefundStatus;
  /** The provider's reason for a failed refund. */
  readonly failure_reason?: string;
  /** Looks left before the execution leaves a pending refund to the reconciler. */
  readonly checks_left?: number;
  /** Set by a Catch: the terminal error that sent the execution to MarkRefundFailed. */
  readonly error?: { readonly Error: string; readonly Cause?: string };
}

export async function submitRefund(deps: RefundSagaDeps, state: RefundSagaState): Promise<RefundSagaState> {
  const refund = await load(deps, state.refund_no);
  // Another execution finished it: its RecordRefund does nothing again.
  if (refund.status === RefundStatus.Succeeded) return { ...state, outcome: refund.status };
  if (refund.status === RefundStatus.Failed) {
    // Failed on another execution's refusal, while this execution's own earlier call may have
    // gone through with its answer lost (this is Step Functions' retry of it): the provider
    // tells, and the refund follows it. Nothing is sent: the amount was given back.
    const made = await refundAtProvider(deps, refund);
    return made === undefined ? { ...state, outcome: RefundStatus.Failed } : { ...state, ...seen(made), checks_left: REFUND_CHECKS };
  }
  if (refund.providerRefundId !== undefined) {
    // An earlier execution's refund, pending at the provider: look at it rather than ask again,
    // which the provider would answer with a new refund once it forgot the key (24 hours).
    return { ...state, provider_refund_id: refund.providerRefundId, outcome: RefundStatus.Pending, checks_left: REFUND_CHECKS };
  }
  if (mayHaveForgottenKey(deps.clock(), refund.createdAt)) {
    // Past the provider's memory of the key, a refund that an execution which died made (its id
    // never written) is found by its refund_no; a new request would be refused (the charge
    // already refunded) or, for a partial refund, refund a second time.
    const made = await refundAtProvider(deps, refund);
    if (made !== undefined) return { ...state, ...seen(made), checks_left: REFUND_CHECKS };
  }
  const refunded = await deps.provider.refundCharge({
    chargeId: refund.chargeId,
    amount: refund.amount,
    idempotencyKey: refund.refundNo,
    metadata: { refund_no: refund.refundNo, payment_no: refund.paymentNo, merchant_id: refund.merchantId, [DEPLOYMENT_METADATA_KEY]: deps.deployment },
  });
  return { ...state, ...seen(refunded), checks_left: REFUND_CHECKS };
}

/**
 * Looks at the provider's refund again. While it is still pending our refund carries its id,
 * so that the reconciler can finish it once this execution has ended (a crash here leaves a
 * refund without it: the reconciler resumes the saga, whose SubmitRefund gets the same
 * provider refund back under its key).
 */
export async function checkRefund(deps: RefundSagaDeps, state: RefundSagaState): Promise<RefundSagaState> {
  const looked = await lookAtProviderRefund(deps, state);
  if (looked.outcome !== RefundStatus.Pending) return looked;
  await waitOn(deps, await load(deps, state.refund_no), looked.provider_refund_id);
  return { ...looked, checks_left: Math.max(0, (state.checks_left ?? 1) - 1) };
}

/** The provider's refund named in `state`, as it is now: its outcome and failure reason. */
export async function lookAtProviderRefund(
  deps: Pick<RefundSagaDeps, 'provider'>,
  state: RefundSagaState,
): Promise<RefundSagaState & { readonly provider_refund_id: string }> {
  const id = state.provider_refund_id;
  if (id === undefined) throw new Error(`refund ${state.refund_no}: no provider refund to look at`);
  return { ...state, ...seen(await deps.provider.retrieveRefund(id)), provider_refund_id: id };
}

/**
 * The provider's refund made under this refund's refund_no (Stripe lists a charge's refunds
 * newest first), if it made one: found by its metadata, whatever became of the key.
 */
export async function refundAtProvider(deps: Pick<RefundSagaDeps, 'provider'>, refund: Refund): Promise<ProviderRefund | undefined> {
  return (await deps.provider.findRefundsOfCharge(refund.chargeId)).find((made) => made.refundNo === refund.refundNo);
}

/**
 * Our refund waits on the provider's `providerRefundId`. A refund another execution failed
 * (its request was refused) while this one's was accepted follows the provider: pending
 * again, its amount taken from the payment again.
 */
export async function waitOn(deps: RefundStepDeps, refund: Refund, providerRefundId: string): Promise<void> {
  if (refund.status === RefundStatus.Failed) {
    await deps.refunds.revive(refund, next(deps, overturned(refund), { status: RefundStatus.Pending, providerRefundId }));
  } else if (refund.status === RefundStatus.Pending && refund.providerRefundId !== providerRefundId) {
    await deps.refunds.replace(refund, next(deps, refund, { providerRefundId }));
  }
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
  if (providerRefundId === undefined) throw new Error('RecordRefund needs provider_refund_id: the refund it records');
  const succeeded = { status: RefundStatus.Succeeded, providerRefundId };
  if (refund.status === RefundStatus.Failed) {
    await deps.refunds.revive(refund, next(deps, overturned(refund), succeeded));
  } else {
    await deps.refunds.replace(refund, next(deps, refund, succeeded));
  }
  return state;
}

/**
 * `pending -> failed`, the amount given back to the payment in the same transaction, with the
 * provider's reason when its refund failed. It stays due for one more look by the reconciler:
 * another execution's request may still have been running at the provider when this one's was
 * refused, and may have refunded it; and what its failure owes (a cart's pay-back comes back as
 * points) is settled there.
 */
export async function markRefundFailed(deps: RefundStepDeps, state: RefundSagaState): Promise<RefundSagaState> {
  const refund = await load(deps, state.refund_no);
  if (refund.status !== RefundStatus.Pending) return state;
  const refused = state.error?.Error === 'ProviderRejected';
  const failureReason = state.failure_reason ?? (refused ? ErrorCode.ProviderRejected : ErrorCode.RefundDeclined);
  const providerRefundId = state.provider_refund_id;
  await failRefund(deps, refund, { failureReason, ...(providerRefundId !== undefined && { providerRefundId }) });
  return state;
}

/** `pending -> failed`, the amount given back, due for the reconciler's one more look (see {@link markRefundFailed}). */
export async function failRefund(deps: RefundStepDeps, refund: Refund, changes: Pick<Refund, 'failureReason' | 'providerRefundId'>): Promise<Refund> {
  const recheckAt = new Date(deps.clock().getTime() + deps.reconcileAfterSeconds * 1000).toISOString();
  return deps.refunds.fail(refund, next(deps, refund, { status: RefundStatus.Failed, ...changes, reconcileAt: recheckAt }));
}

/**
 * Brings our refund to what the provider's refund `made` (under its refund_no) says: recorded
 * succeeded, failed with the provider's reason, or pending while it waits on it; a refund
 * another execution failed is revived to follow it.
 */
export async function followRefundMade(deps: RefundStepDeps, refund: Refund, made: ProviderRefund): Promise<RefundStatus> {
  const outcome = outcomeOf(made.status);
  const state: RefundSagaState = { refund_no: refund.refundNo, provider_refund_id: made.id };
  if (outcome === RefundStatus.Succeeded) await recordRefund(deps, state);
  else if (outcome === RefundStatus.Failed) await markRefundFailed(deps, { ...state, ...(made.failureReason !== undefined && { failure_reason: made.failureReason }) });
  else await waitOn(deps, refund, made.id);
  return outcome;
}

/** What a provider refund's status means for ours: final one way or the other, or not yet. */
export function outcomeOf(status: ProviderRefundStatus): RefundStatus {
  if (status === 'succeeded') return RefundStatus.Succeeded;
  if (status === 'failed' || status === 'canceled') return RefundStatus.Failed;
  return RefundStatus.Pending;
}

function seen(refund: ProviderRefund): Pick<RefundSagaState, 'provider_refund_id' | 'outcome' | 'failure_reason'> {
  return {
    provider_refund_id: refund.id,
    outcome: outcomeOf(refund.status),
    ...(refund.failureReason !== undefined && { failure_reason: refund.failureReason }),
  };
}

/** A failed refund the provider's answer overturns: its failure reason no longer holds. */
function overturned(refund: Refund): Refund {
  const { failureReason: _overturned, ...rest } = refund;
  return rest;
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
