import { withCrashPoints } from '../crash/crashing-ports.ts';
import { ReconcilerMetric } from '../config/metrics.ts';
import { reconcilePayments } from '../domain/reconcile.ts';
import { reconcileDeps } from './shared/workflow.ts';
import { errorFields, logger, metrics, MetricUnit, publishMetrics } from './shared/observability.ts';

/** Payments looked at per run; the next minute's run picks up the rest. */
const BATCH_SIZE = 100;

const metricOf = {
  still_running: 'ReconcileStillRunning',
  started: 'ReconcileStarted',
  resumed: 'ReconcileResumed',
  gave_up: ReconcilerMetric.GaveUp,
  skipped: 'ReconcileSkipped',
  errored: 'ReconcileErrored',
} as const;

/** Invoked by the EventBridge schedule every minute. */
export async function handler(): Promise<{ reconciled: number }> {
  try {
    const outcomes = await reconcilePayments(withCrashPoints(reconcileDeps(), 'reconciler'), BATCH_SIZE);
    // A heartbeat: an alarm on its absence tells that the schedule stopped.
    metrics.addMetric(ReconcilerMetric.Runs, MetricUnit.Count, 1);
    const oldest = Math.min(Date.now(), ...outcomes.map((o) => Date.parse(o.createdAt)));
    metrics.addMetric(ReconcilerMetric.OldestUnfinishedAgeSeconds, MetricUnit.Seconds, Math.round((Date.now() - oldest) / 1000));
    for (const { paymentNo, status, decision, error } of outcomes) {
      const fields = { payment_no: paymentNo, status, decision };
      if (error === undefined) logger.info('reconciled', fields);
      else logger.error('could not reconcile', { ...fields, ...errorFields(error) });
      metrics.addMetric(metricOf[decision], MetricUnit.Count, 1);
    }
    return { reconciled: outcomes.length };
  } finally {
    publishMetrics(metrics);
  }
}
