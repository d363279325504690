/**
 * The environment variables the functions read, named once: the CDK app sets them from
 * these constants and the local stack sets the same ones.
 *
 * AWS endpoints are not here on purpose: the AWS SDK reads `AWS_ENDPOINT_URL`,
 * `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL_SFN` itself, so pointing the same code
 * at DynamoDB Local, LocalStack or AWS needs no code at all.
 */
export const EnvVar = {
  TableName: 'TABLE_NAME',
  StateMachineArn: 'STATE_MACHINE_ARN',
  RefundStateMachineArn: 'REFUND_STATE_MACHINE_ARN',
  PayoutStateMachineArn: 'PAYOUT_STATE_MACHINE_ARN',
  /** The webhook delivery state machine, for the functions that start deliveries. */
  WebhookStateMachineArn: 'WEBHOOK_STATE_MACHINE_ARN',
  /**
   * `1` where the functions run beside the merchant's receiver (the local stack): webhook
   * endpoints may then be `http://127.0.0.1` or `http://localhost`. Never set by the CDK app.
   */
  WebhookLoopbackUrls: 'WEBHOOK_LOOPBACK_URLS',
  /** Secrets Manager secret holding the Stripe secret key (deployed stacks). */
  StripeSecretArn: 'STRIPE_SECRET_ARN',
  /** The Stripe secret key itself (local stack, LocalStack); wins over the secret. */
  StripeApiKey: 'STRIPE_API_KEY',
  /** Where the Stripe API lives, e.g. `http://127.0.0.1:12111` for the fake; Stripe's own when unset. */
  StripeApiBase: 'STRIPE_API_BASE',
  /** How long a payment may sit unfinished before the reconciler looks at it. */
  ReconcileAfterSeconds: 'RECONCILE_AFTER_SECONDS',
  /** Names this deployment on its charges at the provider (several may share one account). */
  DeploymentId: 'DEPLOYMENT_ID',
  /** How long the reconciler holds a payment while it captures or voids it itself. */
  ReconcileLeaseSeconds: 'RECONCILE_LEASE_SECONDS',
  /**
   * Executions the reconciler starts after a payment's first, before it stops resuming and
   * closes the payment from what the provider holds (tests shorten it).
   */
  ReconcileMaxResumes: 'RECONCILE_MAX_RESUMES',
  /** How long an Idempotency-Key's claim holds when its request never finishes. */
  IdempotencyLeaseSeconds: 'IDEMPOTENCY_LEASE_SECONDS',
  /** How long a repeat waits for the first request with its key before `request_in_progress`. */
  IdempotencyWaitMs: 'IDEMPOTENCY_WAIT_MS',
  /** How long a cart holds its seats before the schedule expires it (default 30 minutes). */
  CartHoldSeconds: 'CART_HOLD_SECONDS',
  /** Per-request timeout of provider calls, in milliseconds (tests shorten it). */
  StripeTimeoutMs: 'STRIPE_TIMEOUT_MS',
  /** How long a DynamoDB or Step Functions call may take to connect, per attempt, in milliseconds. */
  AwsConnectTimeoutMs: 'AWS_CALL_CONNECT_TIMEOUT_MS',
  /** How long a DynamoDB or Step Functions call may take in all, per attempt, in milliseconds. */
  AwsRequestTimeoutMs: 'AWS_CALL_TIMEOUT_MS',
  /** How many attempts the AWS SDK makes of a DynamoDB or Step Functions call (the first included). */
  AwsMaxAttempts: 'AWS_CALL_ATTEMPTS',
  /**
   * Crash injection, for tests and the demo only: a comma-separated list of crash points, each
   * at its Nth crossing when `@N` follows, then an optional `#tag` that arms them afresh
   * (`settle-cart:before-write@3#case-7`). Never set by the CDK app; no request can set it.
   */
  CrashAt: 'CRASH_AT',
  /**
   * Crash audit, for tests only: every state-changing call a function makes (a DynamoDB write,
   * a Step Functions start, a provider POST) must pass a crash point, or it fails loudly.
   * Never set by the CDK app.
   */
  CrashAudit: 'CRASH_AUDIT',
} as const;
export type EnvVar = (typeof EnvVar)[keyof typeof EnvVar];

/** Reads a variable the function cannot run without; fails at start-up, not mid-payment. */
export function requireEnv(name: EnvVar): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`environment variable ${name} is not set`);
  }
  return value;
}

export function optionalEnv(name: EnvVar): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

export const DEFAULT_RECONCILE_AFTER_SECONDS = 300;

export function reconcileAfterSeconds(): number {
  return positiveSeconds(EnvVar.ReconcileAfterSeconds, DEFAULT_RECONCILE_AFTER_SECONDS);
}

/** Longer than a capture and a void take, timeouts included. */
export const DEFAULT_RECONCILE_LEASE_SECONDS = 120;

export function reconcileLeaseSeconds(): number {
  return positiveSeconds(EnvVar.ReconcileLeaseSeconds, DEFAULT_RECONCILE_LEASE_SECONDS);
}

/** Enough for a few crashes and outages in a row; a payment failing that often fails for good. */
export function reconcileMaxResumes(): number {
  return Math.floor(positiveSeconds(EnvVar.ReconcileMaxResumes, 5));
}

/** Well past a normal request (tens of milliseconds), well short of a client's patience. */
export function idempotencyLeaseSeconds(): number {
  return positiveSeconds(EnvVar.IdempotencyLeaseSeconds, 10);
}

export function idempotencyWaitMs(): number {
  return positiveSeconds(EnvVar.IdempotencyWaitMs, 4000);
}

/**
 * How long the AWS SDK may spend on one DynamoDB or Step Functions call: each attempt is
 * abandoned after `requestTimeoutMs` (`connectTimeoutMs` to connect), and the SDK makes at most
 * `maxAttempts`, with its own backoff between them. Without these the SDK waits for a hung
 * endpoint as long as the socket lives.
 */
export interface AwsCallBudget {
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
}

/**
 * An API route's, the default: a client waits for the answer, and fail-closed (503 with
 * Retry-After) must come within about two seconds of a store that hangs, for the client to
 * retry elsewhere or later rather than hold a connection. DynamoDB answers in milliseconds
 * when it is well, so a second per attempt is only ever spent on a store that is not.
 */
export const ROUTE_AWS_CALL_BUDGET: AwsCallBudget = { connectTimeoutMs: 500, requestTimeoutMs: 1000, maxAttempts: 2 };

/**
 * A saga step's and the reconciler's (the CDK app sets it on their functions): nobody waits
 * on them, so a store that blips is better retried once more inside the step than turned
 * into a state machine retry (seconds of backoff, and for a provider step the provider called
 * again). Its worst case, added to the provider's timeout, stays inside the function's
 * timeout, so a hung store fails the step by name (DatabaseUnavailable, retried) instead of
 * Lambda killing it.
 */
export const STEP_AWS_CALL_BUDGET: AwsCallBudget = { connectTimeoutMs: 500, requestTimeoutMs: 1000, maxAttempts: 3 };

/** The budget of this function: the route's unless its environment says otherwise. */
export function awsCallBudget(): AwsCallBudget {
  return {
    connectTimeoutMs: positiveSeconds(EnvVar.AwsConnectTimeoutMs, ROUTE_AWS_CALL_BUDGET.connectTimeoutMs),
    requestTimeoutMs: positiveSeconds(EnvVar.AwsRequestTimeoutMs, ROUTE_AWS_CALL_BUDGET.requestTimeoutMs),
    maxAttempts: Math.floor(positiveSeconds(EnvVar.AwsMaxAttempts, ROUTE_AWS_CALL_BUDGET.maxAttempts)),
  };
}

/** The environment that gives a function `budget`. */
export function awsCallBudgetEnvironment(budget: AwsCallBudget): Record<string, string> {
  return {
    [EnvVar.AwsConnectTimeoutMs]: String(budget.connectTimeoutMs),
    [EnvVar.AwsRequestTimeoutMs]: String(budget.requestTimeoutMs),
    [EnvVar.AwsMaxAttempts]: String(budget.maxAttempts),
  };
}

/**
 * The longest one call can take under `budget`: every attempt timing out, and the SDK's
 * backoff before each retry at its longest (standard mode: at most 50 ms x 2^retry for a
 * timeout, 1 s x 2^retry for throttling; the throttling bound is taken).
 */
export function worstCaseCallMs(budget: AwsCallBudget): number {
  let total = budget.maxAttempts * budget.requestTimeoutMs;
  for (let retry = 0; retry < budget.maxAttempts - 1; retry++) total += 1000 * 2 ** retry;
  return total;
}

/** Long enough to choose classes and find a card; short enough not to starve other buyers. */
export function cartHoldSeconds(): number {
  return positiveSeconds(EnvVar.CartHoldSeconds, 30 * 60);
}

function positiveSeconds(name: EnvVar, fallback: number): number {
  const raw = optionalEnv(name);
  const parsed = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}
