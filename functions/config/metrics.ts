/**
 * Every custom metric the functions emit, named once: the emitters take their entries
 * (`functions/handlers/shared/observability.ts`, which accepts nothing else), and the CDK app's
 * alarms and dashboard plot the same entries. Powertools adds the `service` dimension to every
 * metric; a route's or a step's emitter adds its name as a second one.
 */
export const METRICS_NAMESPACE = 'Chargeonce';
export const SERVICE_NAME = 'chargeonce';

/**
 * The dimensions a metric is emitted under besides `service`: per API route (`route`), per
 * saga step (`step`), or none (`service`: the reconciler, the stream consumers, the settlement).
 * A dashboard or an alarm must ask for the same set, or CloudWatch finds nothing.
 */
export type MetricScope = 'route' | 'step' | 'service';

/** The CloudWatch units the product emits in (Powertools' `MetricUnit` spells them the same). */
export type MetricUnitName = 'Count' | 'Milliseconds' | 'Seconds';

/** The dashboard widget a metric is plotted on (lib/dashboard.ts titles each). */
export type MetricGroup =
  | 'answers'
  | 'keyLayer'
  | 'creations'
  | 'sagaOutcomes'
  | 'steps'
  | 'reconciler'
  | 'carts'
  | 'webhooks'
  | 'ledger'
  | 'settlement';

export interface CustomMetric<S extends MetricScope = MetricScope> {
  /** The CloudWatch metric name. */
  readonly name: string;
  readonly unit: MetricUnitName;
  readonly scope: S;
  readonly group: MetricGroup;
  /** What one data point means. */
  readonly means: string;
}

declare const inTheList: unique symbol;

/**
 * An entry of {@link Metric}. Only the list makes one, so an emitter that takes a
 * `ListedMetric` cannot be handed a name of its caller's own, not even as an object literal.
 * A union of scopes is a union of entries, so that testing `scope` narrows it.
 */
export type ListedMetric<S extends MetricScope = MetricScope> = S extends MetricScope ? CustomMetric<S> & { readonly [inTheList]: true } : never;

/** Each entry named after its key, so a metric's name is written once. */
function defineMetrics<const T extends Record<string, Omit<CustomMetric, 'name'>>>(
  definitions: T,
): { readonly [K in keyof T & string]: ListedMetric<T[K]['scope']> & T[K] & { readonly name: K } } {
  return Object.fromEntries(Object.entries(definitions).map(([name, definition]) => [name, { ...definition, name }])) as never;
}

export const Metric = defineMetrics({
  // What each route answered, by status class (the function's view; API Gateway counts its own refusals apart).
  Http2xx: { scope: 'route', group: 'answers', unit: 'Count', means: 'A request answered with a 2xx.' },
  Http4xx: { scope: 'route', group: 'answers', unit: 'Count', means: 'A request refused with a 4xx (validation, not found, conflicts).' },
  Http5xx: { scope: 'route', group: 'answers', unit: 'Count', means: 'A request that failed with a 5xx (a dependency unreachable, a bug).' },

  // The idempotency layer of the create routes.
  IdempotentRequest: { scope: 'route', group: 'keyLayer', unit: 'Count', means: 'A create request that went through the key layer (the replay ratio\'s denominator).' },
  IdempotentReplay: { scope: 'route', group: 'keyLayer', unit: 'Count', means: 'A repeat answered with the first answer (200, Idempotent-Replayed).' },
  IdempotencyKeyMismatch: { scope: 'route', group: 'keyLayer', unit: 'Count', means: 'A key reused with other parameters (409 idempotency_key_mismatch).' },
  RequestInProgress: { scope: 'route', group: 'keyLayer', unit: 'Count', means: 'A repeat that waited its whole wait for the first request (409 request_in_progress).' },
  InFlightWait: { scope: 'route', group: 'keyLayer', unit: 'Count', means: 'A repeat that waited for the first request still running, then got its answer.' },
  InFlightWaitDuration: { scope: 'route', group: 'keyLayer', unit: 'Milliseconds', means: 'How long such a repeat waited.' },
  LeaseTakeover: { scope: 'route', group: 'keyLayer', unit: 'Count', means: 'A key claimed by a request that died, taken over once its lease lapsed.' },

  // What the create routes made.
  SagaStartDeferred: { scope: 'route', group: 'creations', unit: 'Count', means: 'A payment stored but its execution not started: the reconciler starts it.' },
  PaymentReplayed: { scope: 'route', group: 'creations', unit: 'Count', means: 'A create for an order that already had its payment (another key, or an expired one).' },
  RefundCreated: { scope: 'route', group: 'creations', unit: 'Count', means: 'A refund created.' },
  RefundReplayed: { scope: 'route', group: 'creations', unit: 'Count', means: 'A refund request answered with the refund it already made.' },
  PayoutCreated: { scope: 'route', group: 'creations', unit: 'Count', means: 'A payout created.' },
  PayoutReplayed: { scope: 'route', group: 'creations', unit: 'Count', means: 'A payout request answered with the payout it already made.' },

  // How sagas end, counted by the step that ends them.
  PaymentSucceeded: { scope: 'step', group: 'sagaOutcomes', unit: 'Count', means: 'A payment marked succeeded (MarkSucceeded).' },
  PaymentFailed: { scope: 'step', group: 'sagaOutcomes', unit: 'Count', means: 'A payment marked failed (MarkFailed).' },
  RefundSucceeded: { scope: 'step', group: 'sagaOutcomes', unit: 'Count', means: 'A refund recorded succeeded (RecordRefund).' },
  RefundFailed: { scope: 'step', group: 'sagaOutcomes', unit: 'Count', means: 'A refund marked failed, its amount given back (MarkRefundFailed).' },
  PayoutPaid: { scope: 'step', group: 'sagaOutcomes', unit: 'Count', means: 'A payout recorded paid (RecordPayoutPaid).' },
  PayoutFailed: { scope: 'step', group: 'sagaOutcomes', unit: 'Count', means: 'A payout failed, its amount given back to the balance (MarkPayoutFailed).' },

  // Every saga step's result.
  StepSucceeded: { scope: 'step', group: 'steps', unit: 'Count', means: 'A step that did its work (or found it done).' },
  StepRetryable: { scope: 'step', group: 'steps', unit: 'Count', means: 'A step failed with a transient error: Step Functions retries it.' },
  StepEndedPayment: { scope: 'step', group: 'steps', unit: 'Count', means: 'A step failed with a terminal error its state machine catches (a decline): compensation follows.' },
  StepFailed: { scope: 'step', group: 'steps', unit: 'Count', means: 'A step failed with an unexpected error: the execution fails, the reconciler resumes it.' },

  // The reconciler, once a minute.
  ReconcileRuns: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'One per run: its absence means the schedule stopped (alarmed).' },
  OldestUnfinishedPaymentAgeSeconds: { scope: 'service', group: 'reconciler', unit: 'Seconds', means: 'Age of the oldest unfinished payment a run looked at (0 when none was due; alarmed past an hour).' },
  ReconcileStillRunning: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'A due record whose execution is still running: left alone.' },
  ReconcileStarted: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'A record whose execution was never started: started.' },
  ReconcileResumed: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'A record whose execution ended unfinished: resumed under a new name.' },
  ReconcileCaptured: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'An authorization about to lapse, captured by the reconciler itself.' },
  ReconcileVoided: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'An authorization no open payment owns (or one that could not be captured): voided.' },
  ReconcileRefundStillPending: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'A refund the provider still holds pending, or a payout it has not finished: looked at again later.' },
  ReconcileSettled: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'A record closed as the provider\'s side found it (resumed too often, or its provider refund ended).' },
  ReconcileGaveUp: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'A record the reconciler could not decide: left to people (alarmed).' },
  ReconcileRevived: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'A failed refund the provider made after all: followed.' },
  ReconcileRechecked: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'A failed refund looked at once more: the failure stands.' },
  ReconcileAwaitingCapture: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'A manual payment waiting for its capture or cancel: looked at again a day before its authorization lapses.' },
  ReconcileSkipped: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'A record another actor moved on meanwhile, or one leased to another: skipped.' },
  ReconcileErrored: { scope: 'service', group: 'reconciler', unit: 'Count', means: 'A record the run could not reconcile (an error): the next run tries again.' },

  // Carts: the reconciler's sweep, and the seats refused.
  SoldOut: { scope: 'route', group: 'carts', unit: 'Count', means: 'An item refused because its class had no seat left (409 sold_out).' },
  CartExpired: { scope: 'service', group: 'carts', unit: 'Count', means: 'A cart left open past its hold: expired, its seats given back.' },
  CartCanceled: { scope: 'service', group: 'carts', unit: 'Count', means: 'A cart being canceled: its cancel finished.' },
  CartSettled: { scope: 'service', group: 'carts', unit: 'Count', means: 'A checking cart whose payment ended: settled.' },
  CartFulfilled: { scope: 'service', group: 'carts', unit: 'Count', means: 'An applied cart fulfilled.' },
  CartWaiting: { scope: 'service', group: 'carts', unit: 'Count', means: 'A cart still waiting (its payment moving, or the shop): looked at again later.' },
  OrphanHoldReleased: { scope: 'service', group: 'carts', unit: 'Count', means: 'A seat hold no cart owns: released.' },
  HoldKept: { scope: 'service', group: 'carts', unit: 'Count', means: 'A seat hold whose cart still wants it: kept.' },
  CartSweepContended: { scope: 'service', group: 'carts', unit: 'Count', means: 'A cart another writer moved meanwhile: the next run looks again.' },
  CartSweepErrored: { scope: 'service', group: 'carts', unit: 'Count', means: 'A cart the sweep could not move (an error): the next run tries again.' },

  // Events and webhook deliveries.
  EventsPublished: { scope: 'service', group: 'webhooks', unit: 'Count', means: 'A transition\'s event written (a repeat of its stream record writes none).' },
  WebhookDeliveriesSucceeded: { scope: 'step', group: 'webhooks', unit: 'Count', means: 'An event delivered to an endpoint (0 for an attempt that found nothing to send).' },
  WebhookAttemptsFailed: { scope: 'step', group: 'webhooks', unit: 'Count', means: 'One failed delivery attempt, to be retried.' },
  WebhookDeliveriesFailed: { scope: 'step', group: 'webhooks', unit: 'Count', means: 'A delivery given up after three days, or its retries spent (alarmed).' },

  // The ledger, posted from the table's stream.
  LedgerPosted: { scope: 'service', group: 'ledger', unit: 'Count', means: 'A payment or refund change posted to the ledger.' },
  LedgerAlreadyPosted: { scope: 'service', group: 'ledger', unit: 'Count', means: 'A change delivered again, already posted.' },
  LedgerNothingToPost: { scope: 'service', group: 'ledger', unit: 'Count', means: 'A change that moved no money.' },
  LedgerPostFailed: { scope: 'service', group: 'ledger', unit: 'Count', means: 'A change the poster could not post: its batch is delivered again.' },
  LedgerFundsReleased: { scope: 'service', group: 'ledger', unit: 'Count', means: 'Funds whose delay passed, moved from pending to available.' },
  LedgerReleaseFailed: { scope: 'service', group: 'ledger', unit: 'Count', means: 'Funds that could not be released: the next run tries again.' },

  // The hourly settlement.
  SettlementRuns: { scope: 'service', group: 'settlement', unit: 'Count', means: 'One per run of the settlement schedule (alarmed when missing).' },
  SettlementStatementsWritten: { scope: 'service', group: 'settlement', unit: 'Count', means: 'A merchant day\'s statement written.' },
  SettlementStatementsAlreadyWritten: { scope: 'service', group: 'settlement', unit: 'Count', means: 'A day whose statement a previous run wrote.' },
  SettlementFailed: { scope: 'service', group: 'settlement', unit: 'Count', means: 'A day that could not be settled (a statement that does not add up, the provider down): retried by the next run (alarmed).' },
  SettlementMismatches: { scope: 'service', group: 'settlement', unit: 'Count', means: 'Differences between the provider\'s day and the ledger\'s, each listed on its statement (alarmed).' },
});

/** Every entry of {@link Metric}. */
export const ALL_METRICS: readonly ListedMetric[] = Object.values(Metric);
