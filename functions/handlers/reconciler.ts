import { reconcilePayments } from '../domain/reconcile.ts';
import { reconcileDeps } from './shared/workflow.ts';
import { logger, metrics, MetricUnit } from './shared/observability.ts';

/** Payments looked at per run; the next minute's run picks up the rest. */
const BATCH_SIZE = 100;

const metricOf = {
  still_running: 'ReconcileStillRunning',
  started: 'ReconcileStarted',
  resumed: 'ReconcileResumed',
  gave_up: 'ReconcileGaveUp',
  skipped: 'ReconcileSkipped',
} as const;

/** Invoked by the EventBridge schedule every minute. */
export async function handler(): Promise<{ reconciled: number }> {
  try {
    const outcomes = await reconcilePayments(reconcileDeps(), BATCH_SIZE);
    for (const outcome of outcomes) {
      logger.info('reconciled', { payment_no: outcome.paymentNo, status: outcome.status, decision: outcome.decision });
      metrics.addMetric(metricOf[outcome.decision], MetricUnit.Count, 1);
    }
    return { reconciled: outcomes.length };
  } finally {
    metrics.publishStoredMetrics();
  }
}
