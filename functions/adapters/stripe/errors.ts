import Stripe from 'stripe';
import {
  CardDeclinedError,
  ChargeonceError,
  ProviderIdempotencyKeyInUseError,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../domain/errors.ts';

const { StripeError, StripeCardError, StripeConnectionError, StripeIdempotencyError, StripeRateLimitError } = Stripe.errors;

/**
 * Turns what the SDK throws into the domain's error family: retry what is transient (the
 * connection, 5xx, 429, a key still in use), and reject loudly what a retry cannot fix.
 * Errors that are not Stripe's (bugs) pass through untouched.
 */
export function toDomainError(error: unknown): unknown {
  if (error instanceof ChargeonceError || !(error instanceof StripeError)) return error;
  const options = { cause: error };
  const where = error.requestId === undefined ? '' : ` (request ${error.requestId})`;
  const message = `Stripe: ${error.message}${where}`;

  if (error instanceof StripeCardError) {
    return new CardDeclinedError(
      // The SDK defaults a missing decline_code to ''; expired_card and friends only set `code`.
      error.decline_code || error.code || 'card_declined',
      error.message,
      error.payment_intent?.id,
      options,
    );
  }
  if (error.type === 'StripeInvalidRequestError' && error.param === 'payment_method') {
    // A payment method the provider does not know or cannot use is as final as a decline:
    // the payment fails with a code the merchant can act on, instead of retrying forever.
    return new CardDeclinedError('invalid_payment_method', error.message, error.payment_intent?.id, options);
  }
  if (error instanceof StripeRateLimitError || error.statusCode === 429) {
    return new ProviderRateLimitedError(message, options);
  }
  if (error.code === 'idempotency_key_in_use') return new ProviderIdempotencyKeyInUseError(message, options);
  if (error instanceof StripeIdempotencyError) return new ProviderRejectedError(message, options);
  if (
    error instanceof StripeConnectionError ||
    error.statusCode === undefined ||
    error.statusCode >= 500 ||
    // Other conflicts (lock_timeout) clear up on their own.
    error.statusCode === 409
  ) {
    return new ProviderUnavailableError(message, options);
  }
  return new ProviderRejectedError(message, options);
}

/** What a refused charge can be about besides the card: the charge itself. */
const CHARGE_PARAMETERS = new Set(['amount', 'currency']);

/**
 * {@link toDomainError} for creating a charge: an amount or a currency the provider will not
 * charge (under its minimum, which for a foreign currency depends on the day's rate; over its
 * maximum; a currency it does not support) is as final as a decline. The payment fails with
 * the provider's code instead of its execution failing on every retry while it stays pending.
 */
export function toAuthorizationError(error: unknown): unknown {
  if (error instanceof StripeError && error.type === 'StripeInvalidRequestError' && CHARGE_PARAMETERS.has(error.param ?? '')) {
    return new CardDeclinedError(error.code || `invalid_${error.param}`, error.message, error.payment_intent?.id, { cause: error });
  }
  return toDomainError(error);
}

/** Stripe's answer when an action does not fit the PaymentIntent's current status. */
export function isUnexpectedState(error: unknown): error is InstanceType<typeof StripeError> {
  return error instanceof StripeError && error.code === 'payment_intent_unexpected_state';
}
