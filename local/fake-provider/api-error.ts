/**
 * Stripe's error envelope, `{"error": {type, code, decline_code, message, param, ...}}`, with
 * the status codes Stripe pairs with each type, so the SDK raises the same error classes
 * against the fake as against Stripe.
 */
export interface StripeErrorBody {
  type: 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  charge?: string;
  doc_url?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
}

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /**
     * Whether the endpoint began to run before it refused. Stripe keeps the answer for an
     * idempotency key only then: a request whose parameters failed validation keeps nothing,
     * and the corrected request runs under the same key.
     */
    readonly executed = true,
  ) {
    super(body.message);
  }
}

export function invalidRequest(
  message: string,
  details: { code?: string; param?: string; payment_intent?: unknown } = {},
): StripeApiError {
  return new StripeApiError(400, { type: 'invalid_request_error', message, ...details });
}

/** A 400 for the request's parameters themselves, found before the endpoint runs: nothing is kept for its key. */
export function invalidParameter(message: string, details: { code?: string; param?: string } = {}): StripeApiError {
  return new StripeApiError(400, { type: 'invalid_request_error', message, ...details }, false);
}

export function resourceMissing(kind: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    param,
    message: `No such ${kind}: '${id}'`,
  });
}

export function unauthorized(message: string): StripeApiError {
  return new StripeApiError(401, { type: 'invalid_request_error', message });
}

export function idempotencyKeyInUse(key: string): StripeApiError {
  return new StripeApiError(409, {
    type: 'invalid_request_error',
    code: 'idempotency_key_in_use',
    message:
      `There is currently another in-progress request using this idempotency key '${key}'. ` +
      'Try again later.',
  });
}

export function idempotencyMismatch(key: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'idempotency_error',
    message:
      'Keys for idempotent requests can only be used with the same parameters they were first ' +
      `used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });
}

/** The prefix stripe-node gives the key it makes up for a POST sent without one. */
export const SDK_DEFAULT_KEY_PREFIX = 'stripe-node-retry-';

/**
 * The fake's own rule, stricter than Stripe (which makes the key optional), on when it was
 * started with `requireIdempotencyKey`: a POST must carry an Idempotency-Key of the caller's
 * own. The key stripe-node makes up when the caller gives none counts as none, or a call
 * that dropped its key would pass unnoticed.
 */
export function idempotencyKeyRequired(key: string | undefined): StripeApiError {
  const missing =
    key === undefined || key === ''
      ? 'This request has no Idempotency-Key header'
      : `This request's Idempotency-Key '${key}' is the one stripe-node makes up when its caller gives none`;
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    code: 'idempotency_key_required',
    message:
      `${missing}. This fake provider requires an Idempotency-Key of the caller's own on every POST: ` +
      "a rule of the fake, stricter than Stripe's, so that a money-moving call without one fails here.",
  });
}

export function rateLimited(): StripeApiError {
  return new StripeApiError(429, {
    type: 'invalid_request_error',
    code: 'rate_limit',
    message: 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
  });
}

export function serverError(status: 500 | 503): StripeApiError {
  return new StripeApiError(status, {
    type: 'api_error',
    message:
      status === 503
        ? 'Stripe is temporarily unavailable. Please try again later.'
        : 'An unknown error occurred.',
  });
}

export function envelope(error: StripeApiError): string {
  return JSON.stringify({ error: error.body }, null, 2);
}
