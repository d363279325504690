/**
 * Stripe's test PaymentMethods (https://docs.stripe.com/testing), with the outcome Stripe
 * gives each when a PaymentIntent is confirmed with it. Anything else is an unknown
 * PaymentMethod, as it would be in a test-mode account that never created it.
 */
export interface CardDetails {
  readonly brand: string;
  readonly last4: string;
  readonly funding: 'credit' | 'debit' | 'prepaid';
}

export type CardOutcome =
  | { readonly kind: 'authorized' }
  | { readonly kind: 'requires_action' }
  | {
      readonly kind: 'declined';
      readonly code: string;
      readonly declineCode?: string;
      readonly message: string;
    };

export interface TestPaymentMethod {
  readonly id: string;
  readonly card: CardDetails;
  readonly outcome: CardOutcome;
}

const authorized: CardOutcome = { kind: 'authorized' };

function declined(code: string, declineCode: string | undefined, message: string): CardOutcome {
  return declineCode === undefined
    ? { kind: 'declined', code, message }
    : { kind: 'declined', code, declineCode, message };
}

const visa: CardDetails = { brand: 'visa', last4: '4242', funding: 'credit' };

const table: Record<string, { card: CardDetails; outcome: CardOutcome }> = {
  pm_card_visa: { card: visa, outcome: authorized },
  pm_card_visa_debit: { card: { brand: 'visa', last4: '5556', funding: 'debit' }, outcome: authorized },
  pm_card_mastercard: { card: { brand: 'mastercard', last4: '4444', funding: 'credit' }, outcome: authorized },
  pm_card_mastercard_debit: { card: { brand: 'mastercard', last4: '8210', funding: 'debit' }, outcome: authorized },
  pm_card_mastercard_prepaid: { card: { brand: 'mastercard', last4: '5100', funding: 'prepaid' }, outcome: authorized },
  pm_card_amex: { card: { brand: 'amex', last4: '8431', funding: 'credit' }, outcome: authorized },
  pm_card_discover: { card: { brand: 'discover', last4: '1117', funding: 'credit' }, outcome: authorized },
  pm_card_diners: { card: { brand: 'diners', last4: '0004', funding: 'credit' }, outcome: authorized },
  pm_card_jcb: { card: { brand: 'jcb', last4: '0505', funding: 'credit' }, outcome: authorized },
  pm_card_unionpay: { card: { brand: 'unionpay', last4: '0005', funding: 'credit' }, outcome: authorized },

  pm_card_chargeDeclined: {
    card: { ...visa, last4: '0002' },
    outcome: declined('card_declined', 'generic_decline', 'Your card was declined.'),
  },
  pm_card_chargeDeclinedInsufficientFunds: {
    card: { ...visa, last4: '9995' },
    outcome: declined('card_declined', 'insufficient_funds', 'Your card has insufficient funds.'),
  },
  pm_card_chargeDeclinedLostCard: {
    card: { ...visa, last4: '9987' },
    outcome: declined('card_declined', 'lost_card', 'Your card was declined.'),
  },
  pm_card_chargeDeclinedStolenCard: {
    card: { ...visa, last4: '9979' },
    outcome: declined('card_declined', 'stolen_card', 'Your card was declined.'),
  },
  pm_card_chargeDeclinedFraudulent: {
    card: { ...visa, last4: '0019' },
    outcome: declined('card_declined', 'fraudulent', 'Your card was declined.'),
  },
  pm_card_chargeDeclinedVelocityLimitExceeded: {
    card: { ...visa, last4: '6975' },
    outcome: declined('card_declined', 'card_velocity_exceeded', 'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.'),
  },
  // Stripe reports these three with a specific `code` and no issuer `decline_code`.
  pm_card_chargeDeclinedExpiredCard: {
    card: { ...visa, last4: '0069' },
    outcome: declined('expired_card', undefined, 'Your card has expired.'),
  },
  pm_card_chargeDeclinedIncorrectCvc: {
    card: { ...visa, last4: '0127' },
    outcome: declined('incorrect_cvc', undefined, "Your card's security code is incorrect."),
  },
  pm_card_chargeDeclinedProcessingError: {
    card: { ...visa, last4: '0119' },
    outcome: declined('processing_error', undefined, 'An error occurred while processing your card. Try again in a little bit.'),
  },

  pm_card_authenticationRequired: {
    card: { ...visa, last4: '3184' },
    outcome: { kind: 'requires_action' },
  },
  pm_card_threeDSecure2Required: {
    card: { ...visa, last4: '3220' },
    outcome: { kind: 'requires_action' },
  },
};

// Stripe documents the declining methods under both spellings.
const aliases: Record<string, string> = {
  pm_card_visa_chargeDeclined: 'pm_card_chargeDeclined',
  pm_card_visa_chargeDeclinedInsufficientFunds: 'pm_card_chargeDeclinedInsufficientFunds',
  pm_card_visa_chargeDeclinedLostCard: 'pm_card_chargeDeclinedLostCard',
  pm_card_visa_chargeDeclinedStolenCard: 'pm_card_chargeDeclinedStolenCard',
  pm_card_visa_chargeDeclinedExpiredCard: 'pm_card_chargeDeclinedExpiredCard',
  pm_card_visa_chargeDeclinedIncorrectCvc: 'pm_card_chargeDeclinedIncorrectCvc',
  pm_card_visa_chargeDeclinedProcessingError: 'pm_card_chargeDeclinedProcessingError',
  pm_card_visa_chargeDeclinedFraudulent: 'pm_card_chargeDeclinedFraudulent',
};

/** Every test PaymentMethod the fake knows, under its first spelling (the ops page offers them). */
export const testPaymentMethodIds: readonly string[] = Object.keys(table);

export function findTestPaymentMethod(id: string): TestPaymentMethod | undefined {
  const entry = table[aliases[id] ?? id];
  return entry === undefined ? undefined : { id, ...entry };
}
