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
  Http2xx: { scope: 'route', group: 'answers', unit: 'Count' },
  Http4xx: { scope: 'route', group: 'answers', unit: 'Count' },
  Http5xx: { scope: 'route', group: 'answers', unit: 'Count' },

  // The idempotency layer of the create routes.
  IdempotentRequest: { scope: 'route', group: 'keyLayer', unit: 'Count' },
  IdempotentReplay: { scope: 'route', group: 'keyLayer', unit: 'Count' },
  IdempotencyKeyMismatch: { scope: 'route', group: 'keyLayer', unit: 'Count' },
  RequestInProgress: { scope: 'route', group: 'keyLayer', unit: 'Count' },
  InFlightWait: { scope: 'route', group: 'keyLayer', unit: 'Count' },
  InFlightWaitDuration: { scope: 'route', group: 'keyLayer', unit: 'Milliseconds' },
  LeaseTakeover: { scope: 'route', group: 'keyLayer', unit: 'Count' },

  // What the create routes made.
  SagaStartDeferred: { scope: 'route', group: 'creations', unit: 'Count' },
  PaymentReplayed: { scope: 'route', group: 'creations', unit: 'Count' },
  RefundCreated: { scope: 'route', group: 'creations', unit: 'Count' },
  RefundReplayed: { scope: 'route', group: 'creations', unit: 'Count' },
  PayoutCreated: { scope: 'route', group: 'creations', unit: 'Count' },
  PayoutReplayed: { scope: 'route', group: 'creations', unit: 'Count' },

  // How sagas end, counted by the step that ends them.
  PaymentSucceeded: { scope: 'step', group: 'sagaOutcomes', unit: 'Count' },
  PaymentFailed: { scope: 'step', group: 'sagaOutcomes', unit: 'Count' },
  RefundSucceeded: { scope: 'step', group: 'sagaOutcomes', unit: 'Count' },
  RefundFailed: { scope: 'step', group: 'sagaOutcomes', unit: 'Count' },
  PayoutPaid: { scope: 'step', group: 'sagaOutcomes', unit: 'Count' },
  PayoutFailed: { scope: 'step', group: 'sagaOutcomes', unit: 'Count' },

  // Every saga step's result.
  StepSucceeded: { scope: 'step', group: 'steps', unit: 'Count' },
  StepRetryable: { scope: 'step', group: 'steps', unit: 'Count' },
  StepEndedPayment: { scope: 'step', group: 'steps', unit: 'Count' },
  StepFailed: { scope: 'step', group: 'steps', unit: 'Count' },

  // The reconciler, once a minute.
  ReconcileRuns: { scope: 'service', group: 'reconciler', unit: 'Count' },
  OldestUnfinishedPaymentAgeSeconds: { scope: 'service', group: 'reconciler', unit: 'Seconds' },
  ReconcileStillRunning: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileStarted: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileResumed: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileCaptured: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileVoided: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileRefundStillPending: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileSettled: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileGaveUp: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileRevived: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileRechecked: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileAwaitingCapture: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileSkipped: { scope: 'service', group: 'reconciler', unit: 'Count' },
  ReconcileErrored: { scope: 'service', group: 'reconciler', unit: 'Count' },

  // Carts: the reconciler's sweep, and the seats refused.
  SoldOut: { scope: 'route', group: 'carts', unit: 'Count' },
  CartExpired: { scope: 'service', group: 'carts', unit: 'Count' },
  CartCanceled: { scope: 'service', group: 'carts', unit: 'Count' },
  CartSettled: { scope: 'service', group: 'carts', unit: 'Count' },
  CartFulfilled: { scope: 'service', group: 'carts', unit: 'Count' },
  CartWaiting: { scope: 'service', group: 'carts', unit: 'Count' },
  OrphanHoldReleased: { scope: 'service', group: 'carts', unit: 'Count' },
  HoldKept: { scope: 'service', group: 'carts', unit: 'Count' },
  CartSweepContended: { scope: 'service', group: 'carts', unit: 'Count' },
  CartSweepErrored: { scope: 'service', group: 'carts', unit: 'Count' },

  // Events and webhook deliveries.
  EventsPublished: { scope: 'service', group: 'webhooks', unit: 'Count' },
  WebhookDeliveriesSucceeded: { scope: 'step', group: 'webhooks', unit: 'Count' },
  WebhookAttemptsFailed: { scope: 'step', group: 'webhooks', unit: 'Count' },
  WebhookDeliveriesFailed: { scope: 'step', group: 'webhooks', unit: 'Count' },

  // The ledger, posted from the table's stream.
  LedgerPosted: { scope: 'service', group: 'ledger', unit: 'Count' },
  LedgerAlreadyPosted: { scope: 'service', group: 'ledger', unit: 'Count' },
  LedgerNothingToPost: { scope: 'service', group: 'ledger', unit: 'Count' },
  LedgerPostFailed: { scope: 'service', group: 'ledger', unit: 'Count' },
  LedgerFundsReleased: { scope: 'service', group: 'ledger', unit: 'Count' },
  LedgerReleaseFailed: { scope: 'service', group: 'ledger', unit: 'Count' },

  // The hourly settlement.
  SettlementRuns: { scope: 'service', group: 'settlement', unit: 'Count' },
  SettlementStatementsWritten: { scope: 'service', group: 'settlement', unit: 'Count' },
  SettlementStatementsAlreadyWritten: { scope: 'service', group: 'settlement', unit: 'Count' },
  SettlementFailed: { scope: 'service', group: 'settlement', unit: 'Count' },
  SettlementMismatches: { scope: 'service', group: 'settlement', unit: 'Count' },
});

/** The name of an entry of {@link Metric}. */
export type MetricName = keyof typeof Metric;

/** Every entry of {@link Metric}. */
export const ALL_METRICS: readonly ListedMetric[] = Object.values(Metric);
