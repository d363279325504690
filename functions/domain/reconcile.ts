import {
  AuthorizationExpiredError,
  CardDeclinedError,
  ChargeonceError,
  ConcurrentModificationError,
  ProviderRejectedError,
  ignoreUnlessProcessExit,
} from './errors.ts';
import {
  AttentionReason,
  CancellationReason,
  CaptureMethod,
  type Payment,
  PaymentStatus,
  amountToCapture,
  awaitsCapture,
  isLeased,
  isTerminal,
} from './payment.ts';
import { type ChargeWorkflow, type Clock, type ExecutionStatus, type PaymentRepository, StaleWriteError } from './ports.ts';
import { CAPTURE_DEADLINE_MARGIN_SECONDS, CARD_AUTHORIZATION_WINDOW_SECONDS, type Charge, type PaymentProvider } from './provider.ts';
import { type Refund, type RefundRepository, RefundStatus } from './refund.ts';
import {
  failRefund,
  followRefundMade,
  lookAtProviderRefund,
  markRefundFailed,
  next as nextRefund,
  outcomeOf,
  recordRefund,
  refundAtProvider,
} from './refund-saga.ts';
import { type Payout, type PayoutStore, isFinalPayout } from './payout.ts';
import { followPayoutMade, next as nextPayout, payoutAtProvider } from './payout-saga.ts';
import { captureKey, touch, voidKey } from './saga.ts';
import { executionName } from './saga-start.ts';

export interface ReconcileDeps {
  readonly payments: PaymentRepository;
  readonly workflow: ChargeWorkflow;
  readonly refunds: RefundRepository;
  readonly refundWorkflow: ChargeWorkflow;
  readonly payouts: PayoutStore;
  readonly payoutWorkflow: ChargeWorkflow;
  readonly provider: PaymentProvider;
  readonly clock: Clock;
  readonly reconcileAfterSeconds: number;
  /** Executions started after the first before the reconciler gives a payment up to people. */
  readonly maxResumes: number;
  /** This deployment's tag on its charges: the only charges the reconciler may void. */
  readonly deployment: string;
  /** How long the reconciler holds a payment while it captures or voids it itself. */
  readonly leaseSeconds: number;
  /** Makes the token that names one claim of a lease. */
  readonly newLeaseOwner: () => string;
  /**
   * What a refund's failure owes besides the amount it gave back to its payment (a cart's
   * pay-back comes back as points), settled once the failure is known to stand; safe to repeat.
   */
  readonly onRefundFailed?: (refund: Refund) => Promise<void>;
}

/**
 * - `still_running`: its execution is alive; only its deadline moves.
 * - `started`: its first execution was never started (a crash after the payment was written).
 * - `resumed`: its execution ended without finishing it; a new one resumes from the stored state.
 * - `captured`: its authorization was about to lapse; the reconciler captured it and closed the payment.
 * - `voided`: an authorization no open payment owns was released (or one about to lapse could
 *   not be captured, and its payment failed).
 * - `still_pending`: a refund the provider still holds pending, a payout it has not finished,
 *   or a failed refund it made whose amount a newer refund holds; looked at again later.
 * - `settled`: closed as the provider's side found it: a payment resumed too often, succeeded
 *   with what was captured or failed with every authorization voided; a refund whose provider
 *   refund ended, recorded succeeded or failed with its amount given back; a refund resumed too
 *   often, following the provider's refund, or failed with its amount given back if it made none.
 * - `gave_up`: what the reconciler cannot decide (the provider unreachable, or its captures
 *   disagree with the payment): left for a person, and alarmed on.
 * - `revived`: a failed refund that the provider made after all (another execution's request,
 *   still running when this one's was refused): recorded succeeded, or pending while the
 *   provider holds it.
 * - `rechecked`: a failed refund, looked at once more: the provider made none (or failed it),
 *   and what its failure owes is settled.
 * - `awaiting_capture`: a manual payment waiting for the merchant's capture or cancel; looked
 *   at again a day before its authorization lapses.
 * - `skipped`: another actor moved it (or holds its lease) while we looked.
 * - `errored`: looking at it failed (provider, Step Functions or DynamoDB unavailable); the
 *   next run tries again, and the rest of the batch goes on.
 */
export type ReconcileDecision =
  | 'still_running'
  | 'started'
  | 'resumed'
  | 'captured'
  | 'voided'
  | 'still_pending'
  | 'settled'
  | 'gave_up'
  | 'revived'
  | 'rechecked'
  | 'awaiting_capture'
  | 'skipped'
  | 'errored';

export interface ReconcileOutcome {
  readonly paymentNo: string;
  /** Set when the outcome is a refund's. */
  readonly refundNo?: string;
  /** Set when the outcome is a payout's (its paymentNo then empty). */
  readonly payoutNo?: string;
  /** The payment's status when looked at; absent for a charge whose payment does not exist. */
  readonly status?: Payment['status'];
  readonly chargeId?: string;
  readonly createdAt: string;
  readonly decision: ReconcileDecision;
  readonly error?: unknown;
}

/** How long a given-up payment waits before it is looked at (and alarmed on) again. */
const GAVE_UP_RECHECK_SECONDS = 3600;


/** The decline code of a payment failed because its authorization could not be captured in time. */
export const CAPTURE_DEADLINE_DECLINE_CODE = 'capture_deadline_passed';

/** The decline code of a payment, or the failure reason of a refund, closed because its executions kept failing, when the provider gave none. */
export const GAVE_UP_DECLINE_CODE = 'processing_error';

/**
 * The longest a refund pending at the provider waits between two looks: it is looked at again
 * after as long as it has been pending, between the reconcile delay and this.
 */
export const PENDING_REFUND_RECHECK_MAX_SECONDS = 3600;

/** A whole run: unfinished payments, open authorizations at the provider, pending refunds, payouts not final. */
export async function reconcile(deps: ReconcileDeps, batchSize: number): Promise<ReconcileOutcome[]> {
  return [
    ...(await reconcilePayments(deps, batchSize)),
    ...(await releaseOpenAuthorizations(deps, batchSize)),
    ...(await reconcileRefunds(deps, batchSize)),
    ...(await reconcilePayouts(deps, batchSize)),
  ];
}

/**
 * Payouts not final past their deadline. One whose provider payout is known and whose execution
 * ended (it stopped looking, or died) follows the provider; any other is kept moving as a
 * refund is: its saga resumed, its first execution started, until it was resumed too often.
 */
export async function reconcilePayouts(deps: ReconcileDeps, batchSize: number): Promise<ReconcileOutcome[]> {
  const due = await deps.payouts.listDue(deps.clock(), batchSize);
  return isolated(
    due,
    async (payout) => {
      if (isFinalPayout(payout.status)) return undefined;
      const execution = await deps.payoutWorkflow.describe(executionName(payout.payoutNo, payout.resumeCount));
      if (execution !== 'RUNNING' && payout.providerPayoutId !== undefined) return followProviderPayout(deps, payout);
      const save = (changes: { resumeCount?: number; reconcileAt?: string }) => deps.payouts.replace(payout, rescheduled(deps, payout, changes));
      return keepMoving(deps, execution, payout, {
        save,
        start: (saved: Payout) => deps.payoutWorkflow.start(saved.payoutNo, executionName(saved.payoutNo, saved.resumeCount)),
        giveUp: () => settleGivenUpPayout(deps, payout, save),
      });
    },
    (payout) => ({ paymentNo: '', payoutNo: payout.payoutNo, createdAt: payout.createdAt }),
  );
}

/**
 * The provider's payout, with the saga's own steps when it is final (so a duplicate execution
 * or a second reconciler changes nothing again); still travelling, it is looked at again after
 * as long as it has travelled (bank transfers take days), at most an hour later.
 */
async function followProviderPayout(deps: ReconcileDeps, payout: Payout): Promise<ReconcileDecision> {
  const made = await payoutAtProvider(deps, payout);
  if (made === undefined) throw new Error(`payout ${payout.payoutNo}: the provider has no payout ${payout.providerPayoutId}`);
  const status = await followPayoutMade(deps, payout, made);
  if (isFinalPayout(status)) return 'settled';
  const current = await deps.payouts.get(payout.payoutNo);
  if (current === undefined || isFinalPayout(current.status)) return 'settled';
  const now = deps.clock().getTime();
  const waited = (now - Date.parse(payout.createdAt)) / 1000;
  const wait = Math.min(Math.max(waited, deps.reconcileAfterSeconds), PENDING_REFUND_RECHECK_MAX_SECONDS);
  await deps.payouts.replace(current, rescheduled(deps, current, { reconcileAt: new Date(now + wait * 1000).toISOString() }));
  return 'still_pending';
}

/**
 * A payout whose executions keep failing: the provider is asked for the payout made under its
 * payout_no, which is then followed. None found is left to people rather than given back: a
 * request still under way at the provider could yet pay it, and money given back and paid out
 * both would be lost.
 */
async function settleGivenUpPayout(
  deps: ReconcileDeps,
  payout: Payout,
  save: (changes: { reconcileAt: string }) => Promise<unknown>,
): Promise<ReconcileDecision> {
  let made: Awaited<ReturnType<typeof payoutAtProvider>>;
  try {
    [made] = await deps.provider.findPayouts({ payoutNo: payout.payoutNo, createdSince: new Date(Date.parse(payout.createdAt) - 3600 * 1000) });
  } catch (error) {
    if (!(error instanceof ChargeonceError)) throw error;
    return leftToPeople(deps, save);
  }
  if (made === undefined) return leftToPeople(deps, save);
  await followPayoutMade(deps, payout, made);
  return 'settled';
}

/** The payout's next version with the reconciler's changes: `reconcileAt` when given, else the default delay. */
function rescheduled(deps: ReconcileDeps, payout: Payout, changes: { resumeCount?: number; reconcileAt?: string }): Payout {
  const { reconcileAt, ...rest } = changes;
  const updated = nextPayout(deps, payout, rest);
  return reconcileAt === undefined ? updated : { ...updated, reconcileAt };
}

/**
 * Refunds past their deadline. A failed one is due once, to be checked against the provider.
 * A pending one whose provider refund is known and whose execution ended (it stopped looking,
 * or died) follows the provider; any other is kept moving as a payment is: its saga resumed,
 * its first execution started.
 */
export async function reconcileRefunds(deps: ReconcileDeps, batchSize: number): Promise<ReconcileOutcome[]> {
  const due = await deps.refunds.listDue(deps.clock(), batchSize);
  return isolated(
    due,
    async (refund) => {
      if (refund.status === RefundStatus.Failed) return recheckFailure(deps, refund);
      const execution = await deps.refundWorkflow.describe(executionName(refund.refundNo, refund.resumeCount));
      if (execution !== 'RUNNING' && refund.providerRefundId !== undefined) {
        return followProviderRefund(deps, refund, refund.providerRefundId);
      }
      const save = (changes: { resumeCount?: number; reconcileAt?: string }) =>
        deps.refunds.replace(refund, nextRefund(deps, refund, changes));
      return keepMoving(deps, execution, refund, {
        save,
        start: (saved: Refund) => deps.refundWorkflow.start(saved.refundNo, executionName(saved.refundNo, saved.resumeCount)),
        giveUp: () => settleGivenUpRefund(deps, refund, save),
      });
    },
    (refund) => ({ paymentNo: refund.paymentNo, refundNo: refund.refundNo, createdAt: refund.createdAt }),
  );
}

/**
 * A failed refund, looked at once every request has landed (the provider finishes a request
 * within seconds; this is minutes later): a duplicate execution's request still running when
 * one execution's was refused may have refunded it, and then the record follows the provider,
 * taking the amount from the payment again. Else the failure stands: what it owes is settled,
 * and the refund leaves the reconciler's index.
 */
async function recheckFailure(deps: ReconcileDeps, refund: Refund): Promise<ReconcileDecision> {
  const made = await refundAtProvider(deps, refund);
  if (made === undefined || outcomeOf(made.status) === RefundStatus.Failed) {
    await deps.onRefundFailed?.(refund);
    await deps.refunds.replace(refund, nextRefund(deps, refund, {}));
    return 'rechecked';
  }
  try {
    await followRefundMade(deps, refund, made);
  } catch (error) {
    if (!(error instanceof ConcurrentModificationError)) throw error;
    return awaitRefundableAmount(deps, refund);
  }
  return 'revived';
}

/**
 * A failed refund the provider made after all, whose revival the payment refused: a refund
 * created since its failure holds the amount. The provider will refuse that one (it refunded
 * this much already), failing it and giving the amount back. Left due at the head of the
 * index, this refund would be looked at first in every run and keep a batch of one from ever
 * reaching that other refund; so it is looked at again later. A refund some other writer
 * moved meanwhile is that writer's.
 */
async function awaitRefundableAmount(deps: ReconcileDeps, refund: Refund): Promise<ReconcileDecision> {
  const current = await deps.refunds.get(refund.refundNo);
  if (current?.version !== refund.version) return 'skipped';
  const recheckAt = new Date(deps.clock().getTime() + deps.reconcileAfterSeconds * 1000).toISOString();
  await deps.refunds.replace(refund, nextRefund(deps, refund, { reconcileAt: recheckAt }));
  return 'still_pending';
}

/**
 * A refund whose executions keep failing (the provider keeps a 500 for its key for a day, a
 * bug) is not left pending for ever: once resumed too often, the reconciler asks the provider
 * for the refund made under its refund_no and follows it; if the provider made none, the
 * refund fails (`processing_error`), its amount given back, and is due once more for the look
 * every failed refund gets. The provider unreachable: left to people, asked again in an hour.
 */
async function settleGivenUpRefund(
  deps: ReconcileDeps,
  refund: Refund,
  save: (changes: { reconcileAt: string }) => Promise<unknown>,
): Promise<ReconcileDecision> {
  let made: Awaited<ReturnType<typeof refundAtProvider>>;
  try {
    made = await refundAtProvider(deps, refund);
  } catch (error) {
    if (!(error instanceof ChargeonceError)) throw error;
    return leftToPeople(deps, save);
  }
  if (made === undefined) await failRefund(deps, refund, { failureReason: GAVE_UP_DECLINE_CODE });
  else await followRefundMade(deps, refund, made);
  return 'settled';
}

/**
 * Records the provider's final answer with the saga's own steps (so a duplicate execution
 * or a second reconciler changes nothing again), or, while it is still pending, looks again
 * later: after as long as the refund has waited, so one pending for days costs a look an hour.
 */
async function followProviderRefund(deps: ReconcileDeps, refund: Refund, providerRefundId: string): Promise<ReconcileDecision> {
  const looked = await lookAtProviderRefund(deps, { refund_no: refund.refundNo, provider_refund_id: providerRefundId });
  if (looked.outcome === RefundStatus.Pending) {
    const now = deps.clock().getTime();
    const waited = (now - Date.parse(refund.createdAt)) / 1000;
    const wait = Math.min(Math.max(waited, deps.reconcileAfterSeconds), PENDING_REFUND_RECHECK_MAX_SECONDS);
    await deps.refunds.replace(refund, nextRefund(deps, refund, { reconcileAt: new Date(now + wait * 1000).toISOString() }));
    return 'still_pending';
  }
  await (looked.outcome === RefundStatus.Succeeded ? recordRefund : markRefundFailed)(deps, looked);
  return 'settled';
}

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
  return isolated(due, (payment) => reconcileOne(deps, payment), (payment) => ({
    paymentNo: payment.paymentNo,
    status: payment.status,
    createdAt: payment.createdAt,
    ...(payment.chargeId !== undefined && { chargeId: payment.chargeId }),
  }));
}

/**
 * Looks at the provider's side: every uncaptured charge of this deployment older than the
 * reconcile delay. In normal operation a charge is captured or voided seconds after it is
 * authorized, so this list holds only what went wrong, and its cost follows that, not the
 * number of payments. A charge no open payment owns is voided; one whose payment is open and
 * whose authorization is about to lapse is settled.
 */
export async function releaseOpenAuthorizations(
  deps: ReconcileDeps,
  batchSize: number,
): Promise<ReconcileOutcome[]> {
  const now = deps.clock().getTime();
  const list = (captureMethod: CaptureMethod, ageSeconds: number) =>
    deps.provider.listOpenAuthorizations({ deployment: deps.deployment, captureMethod, createdBefore: new Date(now - ageSeconds * 1000), limit: batchSize });
  // A manual payment's charge waits uncaptured for days by design: looked at only once it nears its deadline.
  const listed = [
    ...(await list(CaptureMethod.Automatic, deps.reconcileAfterSeconds)),
    ...(await list(CaptureMethod.Manual, CARD_AUTHORIZATION_WINDOW_SECONDS - CAPTURE_DEADLINE_MARGIN_SECONDS)),
  ];
  return isolated(listed, (charge) => settleOpenAuthorization(deps, charge), (charge) => ({
    paymentNo: charge.paymentNo ?? '',
    chargeId: charge.id,
    createdAt: new Date(charge.createdAt * 1000).toISOString(),
  }));
}

/**
 * Runs `decide` on each item; an outage on one is recorded and the batch goes on. An item
 * `decide` leaves alone (undefined) makes no outcome.
 */
async function isolated<T>(
  items: readonly T[],
  decide: (item: T) => Promise<ReconcileDecision | undefined>,
  describe: (item: T) => Omit<ReconcileOutcome, 'decision'>,
): Promise<ReconcileOutcome[]> {
  const outcomes: ReconcileOutcome[] = [];
  for (const item of items) {
    try {
      const decision = await decide(item);
      if (decision !== undefined) outcomes.push({ ...describe(item), decision });
    } catch (error) {
      if (error instanceof StaleWriteError || error instanceof ConcurrentModificationError) {
        outcomes.push({ ...describe(item), decision: 'skipped' });
        continue;
      }
      // An outage the next run may not meet is recorded; anything else (a bug, a crash) ends the run.
      if (!(error instanceof ChargeonceError)) throw error;
      outcomes.push({ ...describe(item), decision: 'errored', error });
    }
  }
  return outcomes;
}

async function reconcileOne(deps: ReconcileDeps, payment: Payment): Promise<ReconcileDecision> {
  if (isLeased(payment, deps.clock())) return 'skipped';
  const execution = await deps.workflow.describe(executionName(payment.paymentNo, payment.resumeCount));
  if (execution !== 'RUNNING' && payment.status === PaymentStatus.Authorized && payment.chargeId !== undefined) {
    const lapsesAt = payment.captureBefore ?? lapseOf(Date.parse(payment.createdAt) / 1000);
    if (nearDeadline(deps, lapsesAt)) return settleBeforeDeadline(deps, payment, payment.chargeId);
    if (awaitsCapture(payment)) {
      const lookAt = new Date(Date.parse(lapsesAt) - CAPTURE_DEADLINE_MARGIN_SECONDS * 1000).toISOString();
      await deps.payments.replace(payment, touch(deps, payment, { reconcileAt: lookAt }));
      return 'awaiting_capture';
    }
  }
  return keepMoving(deps, execution, payment, {
    save: (changes) => deps.payments.replace(payment, touch(deps, payment, changes)),
    start: (saved) => deps.workflow.start(saved.paymentNo, executionName(saved.paymentNo, saved.resumeCount)),
    giveUp: () => settleGivenUp(deps, payment),
  });
}

/**
 * Keeps a saga's record moving, claiming each decision with a conditional write first: a
 * running execution only moves the deadline; a lost first start is made; an ended execution
 * is resumed under a new name, until it has been resumed too often and `giveUp` decides.
 */
async function keepMoving<R extends { readonly resumeCount: number }>(
  deps: ReconcileDeps,
  execution: ExecutionStatus,
  record: R,
  io: {
    save(changes: { resumeCount?: number; reconcileAt?: string }): Promise<R>;
    start(saved: R): Promise<void>;
    giveUp(): Promise<ReconcileDecision>;
  },
): Promise<ReconcileDecision> {
  if (execution === 'RUNNING') {
    await io.save({});
    return 'still_running';
  }
  if (execution === 'NOT_FOUND') {
    await io.start(await io.save({}));
    return 'started';
  }
  if (record.resumeCount >= deps.maxResumes) return io.giveUp();
  await io.start(await io.save({ resumeCount: record.resumeCount + 1 }));
  return 'resumed';
}

/** Leaves a record to people: saved due in an hour, when it is looked at (and alarmed on) again. */
async function leftToPeople(deps: ReconcileDeps, save: (changes: { reconcileAt: string }) => Promise<unknown>): Promise<'gave_up'> {
  await save({ reconcileAt: new Date(deps.clock().getTime() + GAVE_UP_RECHECK_SECONDS * 1000).toISOString() });
  return 'gave_up';
}

/**
 * A payment whose executions keep failing (the provider refuses its requests, a bug) is not
 * left pending: once resumed too often, the reconciler asks the provider what it holds for
 * the payment and closes it the way the money went. Nothing captured: every authorization it
 * may hold is voided and the payment fails (with the provider's decline code if it had one).
 * One capture that matches the payment: the payment succeeded. What it cannot decide stays
 * open, marked for a person, and is asked again every hour. It holds the payment's lease
 * throughout, as {@link settleBeforeDeadline} does, so no saga step calls the provider meanwhile.
 */
async function settleGivenUp(deps: ReconcileDeps, payment: Payment): Promise<ReconcileDecision> {
  const leased = await deps.payments.replace(payment, touch(deps, payment, { lease: newLease(deps) }));
  const attention = (reason: AttentionReason) =>
    leftToPeople(deps, (changes) =>
      deps.payments.replace(
        leased,
        touch(deps, leased, { ...changes, needsAttention: { reason, since: payment.needsAttention?.since ?? deps.clock().toISOString() } }),
      ),
    );
  let charges: Charge[];
  try {
    charges = await chargesOf(deps, payment);
  } catch (error) {
    if (!(error instanceof ChargeonceError)) throw error;
    return attention(AttentionReason.ProviderUnreachable);
  }
  const captured = charges.filter((charge) => charge.amountCaptured > 0);
  const [capture] = captured;
  if (captured.length > 1 || (capture !== undefined && !matches(payment, capture))) {
    return attention(AttentionReason.CapturesDisagree);
  }
  try {
    for (const charge of charges.filter((c) => c.status === 'requires_capture')) {
      await deps.provider.voidCharge({ chargeId: charge.id, idempotencyKey: voidKey(payment.paymentNo, charge.id) });
    }
  } catch (error) {
    if (!(error instanceof ChargeonceError)) throw error;
    return attention(AttentionReason.ProviderUnreachable);
  }
  if (capture === undefined) {
    const closing =
      payment.captureDecision?.action === 'cancel'
        ? { status: PaymentStatus.Canceled, cancellationReason: CancellationReason.Requested }
        : { status: PaymentStatus.Failed, declineCode: payment.declineCode ?? GAVE_UP_DECLINE_CODE };
    await deps.payments.replace(leased, touch(deps, leased, closing));
    return 'settled';
  }
  // A payment goes pending -> authorized -> succeeded, whoever moves it.
  const authorized =
    leased.status === PaymentStatus.Pending
      ? await deps.payments.replace(
          leased,
          touch(deps, leased, { status: PaymentStatus.Authorized, chargeId: capture.id, lease: leased.lease }),
        )
      : leased;
  await deps.payments.replace(
    authorized,
    touch(deps, authorized, { status: PaymentStatus.Succeeded, chargeId: capture.id, amountCaptured: capture.amountCaptured }),
  );
  return 'settled';
}

/**
 * Every charge the payment may hold, as the provider has it now: the one on record, and those
 * whose metadata names the payment and this deployment (found by search, which may trail:
 * each is read again).
 */
async function chargesOf(deps: ReconcileDeps, payment: Payment): Promise<Charge[]> {
  const found = await deps.provider.findChargesByPaymentNo(payment.paymentNo);
  const ids = new Set(found.filter((charge) => charge.deployment === deps.deployment).map((charge) => charge.id));
  if (payment.chargeId !== undefined) ids.add(payment.chargeId);
  const charges: Charge[] = [];
  for (const id of ids) charges.push(await deps.provider.retrieveCharge(id));
  return charges;
}

/** Whether a capture is the payment's own: its charge if it has one on record, in full, in its currency. */
function matches(payment: Payment, capture: Charge): boolean {
  return (
    (payment.chargeId === undefined || payment.chargeId === capture.id) &&
    capture.currency === payment.currency &&
    capture.amountCaptured === amountToCapture(payment)
  );
}

function newLease(deps: ReconcileDeps) {
  return {
    owner: deps.newLeaseOwner(),
    expiresAt: new Date(deps.clock().getTime() + deps.leaseSeconds * 1000).toISOString(),
  };
}

/**
 * Undefined for a charge already settled, or owned by an open payment and not yet near its
 * deadline: that payment is the due index's to handle.
 */
async function settleOpenAuthorization(deps: ReconcileDeps, listed: Charge): Promise<ReconcileDecision | undefined> {
  // The listing may trail the provider: act on the charge as it is now.
  const charge = await deps.provider.retrieveCharge(listed.id);
  if (charge.status !== 'requires_capture') return undefined;
  const payment = charge.paymentNo === undefined ? undefined : await deps.payments.get(charge.paymentNo);
  const owned =
    payment !== undefined &&
    (payment.chargeId === charge.id || (payment.chargeId === undefined && !isTerminal(payment.status)));
  if (!owned || payment.status === PaymentStatus.Failed || payment.status === PaymentStatus.Canceled) {
    // No payment, a closed one whose compensation did not finish, or a second authorization
    // of an open one: no step will ever capture it. The key is the one compensation uses.
    await deps.provider.voidCharge({ chargeId: charge.id, idempotencyKey: voidKey(charge.paymentNo ?? '', charge.id) });
    return 'voided';
  }
  if (payment.status === PaymentStatus.Succeeded) {
    // Recorded as captured, yet uncaptured at the provider: not a state any step leaves.
    return 'gave_up';
  }
  if (isLeased(payment, deps.clock())) return 'skipped';
  if (!nearDeadline(deps, charge.captureBefore === undefined ? lapseOf(charge.createdAt) : isoOf(charge.captureBefore))) {
    return undefined;
  }
  return settleBeforeDeadline(deps, payment, charge.id);
}

/**
 * Captures an open payment's authorization before it lapses, since nothing else will in
 * time; if the provider refuses, voids it and fails the payment. A manual payment the merchant
 * did not capture is voided instead, and canceled. Holds the payment's lease throughout, so no
 * saga step calls the provider for it meanwhile; the capture uses the saga's own idempotency
 * key, so a capture the saga already made is answered, not repeated.
 */
async function settleBeforeDeadline(
  deps: ReconcileDeps,
  payment: Payment,
  chargeId: string,
): Promise<ReconcileDecision> {
  const leased = await deps.payments.replace(
    payment,
    touch(deps, payment, { status: PaymentStatus.Authorized, chargeId, lease: newLease(deps) }),
  );
  const manual = payment.captureMethod === CaptureMethod.Manual;
  try {
    if (manual && payment.captureDecision?.action !== 'capture') {
      await deps.provider.voidCharge({ chargeId, idempotencyKey: voidKey(payment.paymentNo, chargeId) });
      const cancellationReason = payment.captureDecision === undefined ? CancellationReason.CaptureDeadlinePassed : CancellationReason.Requested;
      await deps.payments.replace(leased, touch(deps, leased, { status: PaymentStatus.Canceled, cancellationReason }));
      return 'voided';
    }
    const captured = await deps.provider.captureCharge({
      chargeId,
      idempotencyKey: captureKey(payment.paymentNo),
      ...(manual && { amount: amountToCapture(payment) }),
    });
    await deps.payments.replace(
      leased,
      touch(deps, leased, { status: PaymentStatus.Succeeded, amountCaptured: captured.amountCaptured }),
    );
    return 'captured';
  } catch (error) {
    // A crash does no cleanup: the lease lapses on its own.
    if (!(error instanceof ChargeonceError)) throw error;
    if (!refusedForGood(error) || (manual && payment.captureDecision?.action !== 'capture')) {
      // Free the payment for the next run now rather than when the lease lapses (if this
      // fails, it lapses); a crash on the way is a crash.
      await deps.payments.replace(leased, touch(deps, leased, {})).catch(ignoreUnlessProcessExit);
      throw error;
    }
    await deps.provider.voidCharge({ chargeId, idempotencyKey: voidKey(payment.paymentNo, chargeId) });
    await deps.payments.replace(
      leased,
      touch(deps, leased, { status: PaymentStatus.Failed, declineCode: CAPTURE_DEADLINE_DECLINE_CODE }),
    );
    return 'voided';
  }
}

function refusedForGood(error: unknown): boolean {
  return (
    error instanceof AuthorizationExpiredError ||
    error instanceof ProviderRejectedError ||
    error instanceof CardDeclinedError
  );
}

function nearDeadline(deps: ReconcileDeps, lapsesAt: string): boolean {
  return Date.parse(lapsesAt) - deps.clock().getTime() < CAPTURE_DEADLINE_MARGIN_SECONDS * 1000;
}

/** When an authorization made at `authorizedAt` (seconds since the epoch) lapses, if the provider did not say. */
function lapseOf(authorizedAt: number): string {
  return isoOf(authorizedAt + CARD_AUTHORIZATION_WINDOW_SECONDS);
}

function isoOf(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}
