/**
 * The one family of typed errors that every handler throws and the state machine's
 * Retry and Catch lists name.
 *
 * Lambda reports `error.name` to Step Functions as the state's error, so every class sets
 * `name` as a string literal (a minifier would rename `constructor.name`), and the CDK
 * construct imports {@link TransientErrorNames} and {@link TerminalErrorNames} rather than
 * spelling the names a second time.
 */

/** Stable, machine-readable codes; the API sends them to clients, so never rename one. */
export const ErrorCode = {
  ValidationFailed: 'validation_failed',
  InvalidJson: 'invalid_json',
  Unauthorized: 'unauthorized',
  NotFound: 'not_found',
  IdempotencyKeyMismatch: 'idempotency_key_mismatch',
  CardDeclined: 'card_declined',
  AuthorizationExpired: 'authorization_expired',
  PaymentClosed: 'payment_closed',
  ProviderUnavailable: 'provider_unavailable',
  ProviderRateLimited: 'provider_rate_limited',
  ProviderIdempotencyKeyInUse: 'idempotency_key_in_use',
  ProviderRejected: 'provider_rejected',
  DatabaseThrottled: 'database_throttled',
  DatabaseUnavailable: 'database_unavailable',
  WorkflowUnavailable: 'workflow_unavailable',
  ConcurrentModification: 'concurrent_modification',
  PaymentBusy: 'payment_busy',
  RequestInProgress: 'request_in_progress',
  RefundExceedsCaptured: 'refund_exceeds_captured',
  PaymentNotCaptured: 'payment_not_captured',
  PaymentNotCapturable: 'payment_not_capturable',
  AmountRefundedChanged: 'amount_refunded_changed',
  InsufficientFunds: 'insufficient_funds',
  /** A refund's failure reason when the provider failed it without one. */
  RefundDeclined: 'refund_declined',
  AlreadyExists: 'already_exists',
  SoldOut: 'sold_out',
  AlreadyRegistered: 'already_registered',
  NotRegistered: 'not_registered',
  CartLocked: 'cart_locked',
  CartClosed: 'cart_closed',
  CartEmpty: 'cart_empty',
  CurrencyMismatch: 'currency_mismatch',
  InsufficientPoints: 'insufficient_points',
  UnbalancedJournal: 'unbalanced_journal',
  UnbalancedStatement: 'unbalanced_statement',
  LedgerSourceNotPosted: 'ledger_source_not_posted',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class: a stable `code`, an HTTP status for the API, and the original cause. */
export abstract class ChargeonceError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly httpStatus: number;
  /** The request field at fault, when there is one. */
  readonly field?: string;
  /** When the client may usefully try again (the API's `Retry-After`), for errors that pass. */
  readonly retryAfterSeconds?: number;

  constructor(message: string, options?: ErrorOptions & { field?: string; retryAfterSeconds?: number }) {
    super(message, options);
    if (options?.field !== undefined) this.field = options.field;
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The request does not satisfy the API's schema. Nothing was written. */
export class ValidationError extends ChargeonceError {
  override readonly name = 'ValidationError';
  readonly code = ErrorCode.ValidationFailed;
  readonly httpStatus = 400;
  constructor(field: string, message: string) {
    super(message, { field });
  }
}

/** The request body is not JSON at all. */
export class InvalidJsonError extends ChargeonceError {
  override readonly name = 'InvalidJsonError';
  readonly code = ErrorCode.InvalidJson;
  readonly httpStatus = 400;
  constructor(message = 'The request body is not valid JSON.') {
    super(message, { field: 'body' });
  }
}

export class NotFoundError extends ChargeonceError {
  override readonly name = 'NotFoundError';
  readonly code = ErrorCode.NotFound;
  readonly httpStatus = 404;
}

/** The same business key arrived with other parameters: the first request stands. */
export class IdempotencyKeyMismatchError extends ChargeonceError {
  override readonly name = 'IdempotencyKeyMismatchError';
  readonly code = ErrorCode.IdempotencyKeyMismatch;
  readonly httpStatus = 409;
  constructor(field: string, message: string) {
    super(message, { field });
  }
}

/**
 * Another request with the same idempotency key is still being processed and did not finish
 * within the wait: the client should retry after `retryAfterSeconds` and will get its answer.
 */
export class RequestInProgressError extends ChargeonceError {
  override readonly name = 'RequestInProgressError';
  readonly code = ErrorCode.RequestInProgress;
  readonly httpStatus = 409;
  /** `keyName` and `field`: the key as the client knows it (`this Idempotency-Key`, `order_no o-1`) and its field. */
  constructor(keyName: string, field: string, retryAfterSeconds: number) {
    super(`A request with ${keyName} is still in progress; retry after a moment.`, { field, retryAfterSeconds });
  }
}

/** A refund would take the refunded total past what was captured. Nothing was written. */
export class RefundExceedsCapturedError extends ChargeonceError {
  override readonly name = 'RefundExceedsCapturedError';
  readonly code = ErrorCode.RefundExceedsCaptured;
  readonly httpStatus = 409;
  constructor(message: string) {
    super(message, { field: 'amount' });
  }
}

/** Only a succeeded (captured) payment can be refunded. Nothing was written. */
export class PaymentNotCapturedError extends ChargeonceError {
  override readonly name = 'PaymentNotCapturedError';
  readonly code = ErrorCode.PaymentNotCaptured;
  readonly httpStatus = 409;
  constructor(message: string) {
    super(message, { field: 'payment_no' });
  }
}

/** The caller's `expected_amount_refunded` is no longer the payment's: someone refunded meanwhile. */
export class AmountRefundedChangedError extends ChargeonceError {
  override readonly name = 'AmountRefundedChangedError';
  readonly code = ErrorCode.AmountRefundedChanged;
  readonly httpStatus = 409;
  constructor(message: string) {
    super(message, { field: 'expected_amount_refunded' });
  }
}

/** A payout asks for more than the merchant's available balance holds. Nothing was written. */
export class InsufficientFundsError extends ChargeonceError {
  override readonly name = 'InsufficientFundsError';
  readonly code = ErrorCode.InsufficientFunds;
  readonly httpStatus = 409;
  constructor(message: string) {
    super(message, { field: 'amount' });
  }
}

/** A conflict of the request with what is stored, naming the field: 409 with a stable code. Nothing was written. */
abstract class ConflictError extends ChargeonceError {
  readonly httpStatus = 409;
  constructor(field: string, message: string) {
    super(message, { field });
  }
}

/** An id given by the client already names something else. */
export class AlreadyExistsError extends ConflictError {
  override readonly name = 'AlreadyExistsError';
  readonly code = ErrorCode.AlreadyExists;
}

/** The class has no seat left to hold. */
export class SoldOutError extends ConflictError {
  override readonly name = 'SoldOutError';
  readonly code = ErrorCode.SoldOut;
}

/** The swimmer already has this class, or a seat in it held by another item. */
export class AlreadyRegisteredError extends ConflictError {
  override readonly name = 'AlreadyRegisteredError';
  readonly code = ErrorCode.AlreadyRegistered;
}

/** A cancel or change names a class the swimmer is not registered in. */
export class NotRegisteredError extends ConflictError {
  override readonly name = 'NotRegisteredError';
  readonly code = ErrorCode.NotRegistered;
}

/** The cart is checking out or paid: it can no longer be edited. */
export class CartLockedError extends ConflictError {
  override readonly name = 'CartLockedError';
  readonly code = ErrorCode.CartLocked;
}

/** The cart has ended (done, expired or canceled). */
export class CartClosedError extends ConflictError {
  override readonly name = 'CartClosedError';
  readonly code = ErrorCode.CartClosed;
}

/** A checkout of a cart without items. */
export class CartEmptyError extends ConflictError {
  override readonly name = 'CartEmptyError';
  readonly code = ErrorCode.CartEmpty;
}

/** A cart is priced in one currency; this class is priced in another. */
export class CurrencyMismatchError extends ConflictError {
  override readonly name = 'CurrencyMismatchError';
  readonly code = ErrorCode.CurrencyMismatch;
}

/** The account has fewer points than the checkout spends. */
export class InsufficientPointsError extends ConflictError {
  override readonly name = 'InsufficientPointsError';
  readonly code = ErrorCode.InsufficientPoints;
}

/**
 * The provider declined the card. Terminal: retrying the same card gives the same answer.
 * `chargeId` names the provider's PaymentIntent when one was created, so it can be voided.
 */
export class CardDeclinedError extends ChargeonceError {
  override readonly name = 'CardDeclined';
  readonly code = ErrorCode.CardDeclined;
  readonly httpStatus = 402;
  constructor(
    readonly declineCode: string,
    message: string,
    readonly chargeId?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The authorization lapsed at the provider before it was captured. Terminal. */
export class AuthorizationExpiredError extends ChargeonceError {
  override readonly name = 'AuthorizationExpired';
  readonly code = ErrorCode.AuthorizationExpired;
  readonly httpStatus = 409;
}

/**
 * Another actor closed the payment (failed or canceled) while this step was running.
 * Terminal for the execution: the compensation path voids what this execution may have
 * authorized and leaves the closed status alone.
 */
export class PaymentClosedError extends ChargeonceError {
  override readonly name = 'PaymentClosed';
  readonly code = ErrorCode.PaymentClosed;
  readonly httpStatus = 409;
}

/**
 * A capture or cancel the payment cannot take: it is not manual, not authorized (yet, or any
 * more), or the merchant already gave another word on it. Nothing was written.
 */
export class PaymentNotCapturableError extends ChargeonceError {
  override readonly name = 'PaymentNotCapturable';
  readonly code = ErrorCode.PaymentNotCapturable;
  readonly httpStatus = 409;
}

/** The provider could not be reached, timed out or answered 5xx. Transient. */
export class ProviderUnavailableError extends ChargeonceError {
  override readonly name = 'ProviderUnavailable';
  readonly code = ErrorCode.ProviderUnavailable;
  readonly httpStatus = 503;
}

/** The provider answered 429. Transient. */
export class ProviderRateLimitedError extends ChargeonceError {
  override readonly name = 'ProviderRateLimited';
  readonly code = ErrorCode.ProviderRateLimited;
  readonly httpStatus = 503;
}

/** The provider is still processing another request with the same idempotency key. Transient. */
export class ProviderIdempotencyKeyInUseError extends ChargeonceError {
  override readonly name = 'ProviderIdempotencyKeyInUse';
  readonly code = ErrorCode.ProviderIdempotencyKeyInUse;
  readonly httpStatus = 503;
}

/**
 * The provider refused the request for a reason that retrying cannot fix (an idempotency key
 * reused with other parameters, an invalid request). Neither retried nor caught: the execution
 * fails loudly and the reconciler reports the payment.
 */
export class ProviderRejectedError extends ChargeonceError {
  override readonly name = 'ProviderRejected';
  readonly code = ErrorCode.ProviderRejected;
  readonly httpStatus = 502;
}

/** DynamoDB throttled the request past the SDK's own retries. Transient. */
export class DatabaseThrottledError extends ChargeonceError {
  override readonly name = 'DatabaseThrottled';
  readonly code = ErrorCode.DatabaseThrottled;
  readonly httpStatus = 503;
}

/** DynamoDB could not be reached or answered 5xx. Transient. */
export class DatabaseUnavailableError extends ChargeonceError {
  override readonly name = 'DatabaseUnavailable';
  readonly code = ErrorCode.DatabaseUnavailable;
  readonly httpStatus = 503;
}

/** Step Functions could not be reached, throttled us or answered 5xx. Transient. */
export class WorkflowUnavailableError extends ChargeonceError {
  override readonly name = 'WorkflowUnavailable';
  readonly code = ErrorCode.WorkflowUnavailable;
  readonly httpStatus = 503;
}

/**
 * A conditional write found the record at another version than the one read: another actor
 * moved it in between. Transient: the step reads again and decides again.
 */
export class ConcurrentModificationError extends ChargeonceError {
  override readonly name = 'ConcurrentModification';
  readonly code = ErrorCode.ConcurrentModification;
  readonly httpStatus = 409;
}

/**
 * A journal transaction whose debits do not equal its credits (or whose amounts are not whole
 * minor units): a bug in the rule that made it. Refused before anything is written.
 */
export class UnbalancedJournalError extends ChargeonceError {
  override readonly name = 'UnbalancedJournal';
  readonly code = ErrorCode.UnbalancedJournal;
  readonly httpStatus = 500;
  constructor(
    readonly journalKey: string,
    reason: string,
  ) {
    super(`journal transaction ${journalKey} is unbalanced: ${reason}`);
  }
}

/**
 * A settlement statement that does not add up (its balance transactions do not explain its
 * journal's movements, or an entry is not of its day): never written; the day is left for a
 * person, alarmed, and retried by every run until it adds up.
 */
export class UnbalancedStatementError extends ChargeonceError {
  override readonly name = 'UnbalancedStatement';
  readonly code = ErrorCode.UnbalancedStatement;
  readonly httpStatus = 500;
  constructor(
    readonly settlementId: string,
    reason: string,
  ) {
    super(`settlement ${settlementId} does not add up: ${reason}`);
  }
}

/**
 * A posting needs another that is not in the ledger yet: a refund whose charge's capture the
 * stream has not delivered (the two records travel apart). Transient: delivered again, it finds it.
 */
export class LedgerSourceNotPostedError extends ChargeonceError {
  override readonly name = 'LedgerSourceNotPosted';
  readonly code = ErrorCode.LedgerSourceNotPosted;
  readonly httpStatus = 503;
}

/**
 * The reconciler holds the payment's lease while it captures or voids it itself. Transient:
 * the step waits for the lease to end and then finds the payment settled or free.
 */
export class PaymentBusyError extends ChargeonceError {
  override readonly name = 'PaymentBusy';
  readonly code = ErrorCode.PaymentBusy;
  readonly httpStatus = 409;
}

/**
 * A webhook endpoint did not answer a delivery with a 2xx (or not within the timeout): never
 * seen by the API, retried by the delivery's state machine with backoff and jitter.
 */
export class WebhookAttemptFailedError extends Error {
  override readonly name = 'WebhookAttemptFailed';
}

/** A webhook delivery still failing once it is three days old: given up, recorded failed. */
export class WebhookDeliveryExpiredError extends Error {
  override readonly name = 'WebhookDeliveryExpired';
}

/** What ends a webhook delivery as failed: the retried error once its attempts are spent, and the expiry. */
export const WebhookGiveUpErrorNames = ['WebhookAttemptFailed', 'WebhookDeliveryExpired'] as const satisfies readonly string[];

/**
 * The error name Lambda reports for a function whose process exited mid-invocation (killed,
 * out of memory, crashed). Such a process ran no code after its death: nothing it held was
 * released. The crash injection throws an error of this name to die the same way.
 */
export const PROCESS_EXIT_ERROR_NAME = 'Runtime.ExitError';

/** Whether `error` is a process death (see {@link PROCESS_EXIT_ERROR_NAME}) rather than a failure the code saw. */
export function isProcessExit(error: unknown): boolean {
  return error instanceof Error && error.name === PROCESS_EXIT_ERROR_NAME;
}

/**
 * For a best-effort call whose failure changes nothing (a cleanup that, failing, leaves a
 * lease to lapse): the failure is ignored, but not a process exit, which no code outlives to
 * ignore it. Use as `.catch(ignoreUnlessProcessExit)`.
 */
export function ignoreUnlessProcessExit(error: unknown): void {
  if (isProcessExit(error)) throw error;
}

/**
 * Lambda's own failures, as Step Functions names them (its "handle Lambda service exceptions"
 * advice), and a function that ran out of time: reported `Sandbox.Timedout`, or `Lambda.Unknown`
 * with out-of-memory errors. Every step is idempotent, so a step cut short is run again; a step
 * that keeps failing so still fails its execution once the retries are spent, for the
 * reconciler. A killed process (`Runtime.ExitError`) is not among them: the crash tests keep
 * the execution's death for the reconciler to find.
 */
export const LambdaServiceErrorNames = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
  'Sandbox.Timedout',
  'Lambda.Unknown',
] as const;

/**
 * Step Functions' name for a Task that ran past its `TimeoutSeconds`: its function never
 * answered (the invocation itself hung). Every step is idempotent, so it is retried like any
 * other transient failure, never caught into compensation.
 */
export const TaskTimeoutErrorName = 'States.Timeout';

/** Errors a state retries with exponential backoff and jitter. */
export const TransientErrorNames = [
  'ProviderUnavailable',
  'ProviderRateLimited',
  'ProviderIdempotencyKeyInUse',
  'DatabaseThrottled',
  'DatabaseUnavailable',
  'ConcurrentModification',
  TaskTimeoutErrorName,
  ...LambdaServiceErrorNames,
] as const satisfies readonly string[];

/**
 * Errors that mean "wait for the reconciler's lease to end": transient too, but retried on a
 * budget of their own that outlasts the lease (see the payment saga's Retry).
 */
export const LeaseWaitErrorNames = ['PaymentBusy'] as const satisfies readonly string[];

/** Errors that end the charge: caught into the compensation path. */
export const TerminalErrorNames = [
  'CardDeclined',
  'AuthorizationExpired',
  'PaymentClosed',
] as const satisfies readonly string[];

export type TerminalErrorName = (typeof TerminalErrorNames)[number];

/**
 * Errors that end a refund as `failed`: the provider refused the request. It cannot succeed by
 * retrying, and the refund saga has nothing to undo at the provider, so it is caught here where
 * the payment saga lets it fail the execution. A refund the provider accepted and then failed is
 * no error: the saga routes on its status.
 */
export const RefundTerminalErrorNames = ['ProviderRejected'] as const satisfies readonly string[];

/**
 * Errors that end a payout as `failed`, its amount given back: the provider refused the request
 * (its balance short, the bank account unusable). A payout the provider accepted and then
 * failed is no error: the saga routes on its status.
 */
export const PayoutTerminalErrorNames = ['ProviderRejected'] as const satisfies readonly string[];

/** The decline code recorded on a failed payment when the provider gave none. */
export const declineCodeForTerminalError: Readonly<Record<TerminalErrorName, string>> = {
  CardDeclined: ErrorCode.CardDeclined,
  AuthorizationExpired: ErrorCode.AuthorizationExpired,
  PaymentClosed: ErrorCode.PaymentClosed,
};
