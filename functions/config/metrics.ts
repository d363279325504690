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

export const SettlementMetric = {
  /** One per run of the settlement schedule. */
  Runs: 'SettlementRuns',
  Written: 'SettlementStatementsWritten',
  AlreadyWritten: 'SettlementStatementsAlreadyWritten',
  /** A day that could not be settled (a statement that does not add up, the provider down): retried by the next run. */
  Failed: 'SettlementFailed',
  /** Differences between the provider's day and the ledger's, each listed on its statement. */
  Mismatches: 'SettlementMismatches',
} as const;

export const WebhookMetric = {
  /** A transition's event written (a repeat of its stream record writes none). */
  EventsPublished: 'EventsPublished',
  DeliveriesSucceeded: 'WebhookDeliveriesSucceeded',
  /** One failed attempt, to be retried. */
  AttemptsFailed: 'WebhookAttemptsFailed',
  /** Deliveries given up after three days (or their retries spent): alarmed. */
  DeliveriesFailed: 'WebhookDeliveriesFailed',
} as const;
