import { randomUUID } from 'node:crypto';
import { asInvocationOf } from '../crash/invocation.ts';
import { type ListedMetric, Metric } from '../config/metrics.ts';
import { EnvVar, reconcileAfterSeconds, reconcileLeaseSeconds, reconcileMaxResumes, requireEnv } from '../config/env.ts';
import { creditFailedPayBack } from '../domain/carts/fulfilment.ts';
import { type CartSweepDecision, sweepCarts } from '../domain/carts/sweep.ts';
import { releaseDueFunds } from '../domain/ledger/ledger.ts';
import { type ReconcileDecision, type ReconcileDeps, reconcile } from '../domain/reconcile.ts';
import { ledgerDeps } from './shared/ledger.ts';
import { once, systemClock } from './shared/once.ts';
import { paymentRepository, payoutStore, refundRepository } from './shared/persistence.ts';
import { paymentProvider } from './shared/provider-saga.ts';
import { checkoutDeps } from './shared/school.ts';
import { chargeWorkflow, payoutWorkflow, refundWorkflow } from './shared/workflow.ts';
import { errorFields, logger, serviceMetrics as metrics } from './shared/observability.ts';

/** Payments (and, separately, open authorizations, refunds, carts and holds) looked at per run; the next minute's run picks up the rest. */
const BATCH_SIZE = 100;

const metricOf: Readonly<Record<ReconcileDecision, ListedMetric<'service'>>> = {
  still_running: Metric.ReconcileStillRunning,
  started: Metric.ReconcileStarted,
  resumed: Metric.ReconcileResumed,
  captured: Metric.ReconcileCaptured,
  voided: Metric.ReconcileVoided,
  still_pending: Metric.ReconcileRefundStillPending,
  settled: Metric.ReconcileSettled,
  gave_up: Metric.ReconcileGaveUp,
  revived: Metric.ReconcileRevived,
  rechecked: Metric.ReconcileRechecked,
  awaiting_capture: Metric.ReconcileAwaitingCapture,
  skipped: Metric.ReconcileSkipped,
  errored: Metric.ReconcileErrored,
};

const cartMetricOf: Readonly<Record<CartSweepDecision, ListedMetric<'service'>>> = {
  expired: Metric.CartExpired,
  canceled: Metric.CartCanceled,
  settled: Metric.CartSettled,
  fulfilled: Metric.CartFulfilled,
  waiting: Metric.CartWaiting,
  hold_released: Metric.OrphanHoldReleased,
  hold_kept: Metric.HoldKept,
  contended: Metric.CartSweepContended,
  errored: Metric.CartSweepErrored,
};

const reconcileDeps = /* @__PURE__ */ once(
  async (): Promise<ReconcileDeps> => ({
    payments: paymentRepository(),
    workflow: chargeWorkflow(),
    refunds: refundRepository(),
    refundWorkflow: refundWorkflow(),
    payouts: payoutStore(),
    payoutWorkflow: payoutWorkflow(),
    provider: await paymentProvider(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
    maxResumes: reconcileMaxResumes(),
    deployment: requireEnv(EnvVar.DeploymentId),
    leaseSeconds: reconcileLeaseSeconds(),
    newLeaseOwner: () => `reconciler-${randomUUID()}`,
    onRefundFailed: (refund) => creditFailedPayBack(checkoutDeps(), refund),
  }),
);

/** Invoked by the EventBridge schedule every minute. */
export function handler(): Promise<{ reconciled: number; carts: number; released: number }> {
  return asInvocationOf('reconciler', run);
}

async function run(): Promise<{ reconciled: number; carts: number; released: number }> {
  try {
    const outcomes = await reconcile(await reconcileDeps(), BATCH_SIZE);
    // A heartbeat: an alarm on its absence tells that the schedule stopped.
    metrics.add(Metric.ReconcileRuns);
    const oldest = Math.min(Date.now(), ...outcomes.map((o) => Date.parse(o.createdAt)));
    metrics.add(Metric.OldestUnfinishedPaymentAgeSeconds, Math.round((Date.now() - oldest) / 1000));
    for (const { paymentNo, refundNo, payoutNo, status, chargeId, decision, error } of outcomes) {
      const fields = { payment_no: paymentNo, refund_no: refundNo, payout_no: payoutNo, status, charge_id: chargeId, decision };
      if (error === undefined) logger.info('reconciled', fields);
      else logger.error('could not reconcile', { ...fields, ...errorFields(error) });
      metrics.add(metricOf[decision]);
    }
    const carts = await sweepCarts(checkoutDeps(), BATCH_SIZE);
    for (const { cartId, status, classId, decision, error } of carts) {
      const fields = { cart_id: cartId, status, class_id: classId, decision };
      if (error === undefined) logger.info('swept cart', fields);
      else logger.error('could not sweep cart', { ...fields, ...errorFields(error) });
      metrics.add(cartMetricOf[decision]);
    }
    // Funds whose merchant's delay has passed move from pending to available.
    const released = await releaseDueFunds(ledgerDeps(), BATCH_SIZE);
    for (const { chargeId, merchantId, outcome, error } of released) {
      const fields = { charge_id: chargeId, merchant_id: merchantId, outcome };
      if (error === undefined) logger.info('released funds', fields);
      else logger.error('could not release funds', { ...fields, ...errorFields(error) });
      metrics.add(error === undefined ? Metric.LedgerFundsReleased : Metric.LedgerReleaseFailed);
    }
    return { reconciled: outcomes.length, carts: carts.length, released: released.length };
  } finally {
    metrics.publish();
  }
}
