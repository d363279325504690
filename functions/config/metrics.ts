/**
 * Metric names the CDK app alarms on, named once for the functions that emit them and the
 * construct that watches them. Powertools adds the `service` dimension to every metric.
 */
export const METRICS_NAMESPACE = 'Chargeonce';
export const SERVICE_NAME = 'chargeonce';

export const ReconcilerMetric = {
  /** One per run: its absence means the schedule stopped. */
  Runs: 'ReconcileRuns',
  /** Payments resumed too often and left to people. */
  GaveUp: 'ReconcileGaveUp',
  /** Age of the oldest unfinished payment the run looked at (0 when none was due). */
  OldestUnfinishedAgeSeconds: 'OldestUnfinishedPaymentAgeSeconds',
} as const;

export const LedgerMetric = {
  Posted: 'LedgerPosted',
  AlreadyPosted: 'LedgerAlreadyPosted',
  NothingToPost: 'LedgerNothingToPost',
  /** A change the poster could not post: its batch is delivered again. */
  Failed: 'LedgerPostFailed',
  Released: 'LedgerFundsReleased',
  ReleaseFailed: 'LedgerReleaseFailed',
} as const;
