import type { Currency } from './money.ts';
import type { CaptureMethod } from './payment.ts';

/**
 * The payment provider, as the domain needs it. One adapter implements it on the official
 * `stripe` SDK; locally that adapter talks to a Stripe-compatible fake.
 *
 * Every call that moves money takes an idempotency key derived from our own ids, so a call
 * repeated after a crash or a lost response is answered from the provider's record instead
 * of moving money twice.
 *
 * Errors: {@link CardDeclinedError} for declines (including authentication the server cannot
 * complete), {@link AuthorizationExpiredError} when capturing a lapsed authorization,
 * {@link ProviderUnavailableError} / {@link ProviderRateLimitedError} /
 * {@link ProviderIdempotencyKeyInUseError} for transient faults, {@link ProviderRejectedError}
 * for everything a retry cannot fix.
 */
export interface PaymentProvider {
  /** Creates and confirms an uncaptured charge (`capture_method=manual`). */
  authorizeCharge(input: AuthorizeChargeInput): Promise<Charge>;
  /**
   * Captures an authorized charge: `amount` of it (the rest is released), or all of it.
   * Capturing a captured charge returns it.
   */
  captureCharge(input: { chargeId: string; idempotencyKey: string; amount?: number }): Promise<Charge>;
  /** Releases an uncaptured charge. Voiding a voided charge returns it. */
  voidCharge(input: { chargeId: string; idempotencyKey: string }): Promise<Charge>;
  retrieveCharge(chargeId: string): Promise<Charge>;
  /** Every charge whose metadata names this payment_no, newest first. */
  findChargesByPaymentNo(paymentNo: string): Promise<Charge[]>;
  /**
   * Refunds part or all of a captured charge. The answer may be `pending`: the refund is final
   * only once {@link retrieveRefund} says `succeeded`, `failed` or `canceled`. A repeat under
   * the same key answers the first response again, status included, however old it is.
   */
  refundCharge(input: RefundChargeInput): Promise<ProviderRefund>;
  /** A refund as the provider holds it now. */
  retrieveRefund(refundId: string): Promise<ProviderRefund>;
  /** Every refund of a charge, newest first: how a refund is found once its key is forgotten. */
  findRefundsOfCharge(chargeId: string): Promise<ProviderRefund[]>;
  /**
   * Uncaptured charges of one deployment (tagged {@link DEPLOYMENT_METADATA_KEY}) made for
   * payments of one capture method ({@link CAPTURE_METHOD_METADATA_KEY}) and created before
   * `createdBefore`, at most `limit`. The answer may trail the provider's writes (Stripe's
   * search index lags by up to a minute): read a charge again before acting on it.
   */
  listOpenAuthorizations(input: { deployment: string; captureMethod: CaptureMethod; createdBefore: Date; limit: number }): Promise<Charge[]>;
  /**
   * Pays out of the balance to the bank account. The answer is `pending` (or `in_transit`): the
   * payout is final only once {@link retrievePayout} says `paid`, `failed` or `canceled`. A repeat
   * under the same key answers the first payout, as long as the provider keeps the key.
   */
  createPayout(input: CreatePayoutInput): Promise<ProviderPayout>;
  /** A payout as the provider holds it now. */
  retrievePayout(payoutId: string): Promise<ProviderPayout>;
  /**
   * The payouts made since `createdSince` whose metadata names `payoutNo`, newest first: how a
   * payout whose id was never written is found once the provider has forgotten its key.
   */
  findPayouts(input: { payoutNo: string; createdSince: Date }): Promise<ProviderPayout[]>;
}

/**
 * The metadata key that names the deployment a charge belongs to. Several deployments may
 * share one provider account; the reconciler only ever voids charges carrying its own.
 */
export const DEPLOYMENT_METADATA_KEY = 'chargeonce_deployment';

/**
 * The metadata key that marks the charge of a manual payment (`manual`; absent on an automatic
 * one). Such a charge stays uncaptured for days by design: the sweep of open authorizations
 * looks at it only near its deadline, so the many that wait never crowd out the few left behind.
 */
export const CAPTURE_METHOD_METADATA_KEY = 'chargeonce_capture';

/**
 * How long before its authorization lapses a payment is settled by the reconciler itself:
 * a day, so that a provider outage on the last day still leaves many runs to get it done.
 */
export const CAPTURE_DEADLINE_MARGIN_SECONDS = 24 * 3600;

/** Card networks hold an uncaptured authorization for 7 days, when the provider does not say. */
export const CARD_AUTHORIZATION_WINDOW_SECONDS = 7 * 24 * 3600;

/** How long the provider keeps an idempotency key, less an hour of margin for clocks and retries. */
export const IDEMPOTENCY_KEY_TRUSTED_FOR_MS = 23 * 3600 * 1000;

/**
 * Whether the provider may have forgotten a key first used no earlier than `since` (Stripe keeps
 * keys 24 hours): past that, a repeated request is a new one, and what the first one made must
 * be found another way.
 */
export function mayHaveForgottenKey(now: Date, since: string): boolean {
  return now.getTime() - Date.parse(since) > IDEMPOTENCY_KEY_TRUSTED_FOR_MS;
}

export interface AuthorizeChargeInput {
  readonly paymentNo: string;
  readonly amount: number;
  readonly currency: Currency;
  readonly paymentMethod: string;
  readonly idempotencyKey: string;
  /** Always carries `payment_no`, so a charge whose id we lost can be found again. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly description?: string;
  readonly customerEmail?: string;
}

/** Stripe's PaymentIntent statuses. */
export type ChargeStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export interface Charge {
  readonly id: string;
  readonly status: ChargeStatus;
  readonly amount: number;
  readonly currency: Currency;
  /** Minor units captured; 0 until captured. */
  readonly amountCaptured: number;
  readonly amountRefunded: number;
  /** The payment_no from the charge's metadata, when it has one. */
  readonly paymentNo?: string;
  /** The deployment that made it ({@link DEPLOYMENT_METADATA_KEY}), when it says. */
  readonly deployment?: string;
  /** Seconds since the epoch, as Stripe gives them. */
  readonly createdAt: number;
  /** When an uncaptured authorization lapses (seconds since the epoch), when known. */
  readonly captureBefore?: number;
  /** The decline code of the last failed confirmation, if any. */
  readonly declineCode?: string;
}

export interface RefundChargeInput {
  readonly chargeId: string;
  readonly amount: number;
  readonly idempotencyKey: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Stripe's refund statuses. `pending` and `requires_action` (a method that needs the customer
 * to do something; never a card's) may still end either way; `failed` and `canceled` give the
 * amount back to the charge.
 */
export type ProviderRefundStatus = 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';

export interface ProviderRefund {
  readonly id: string;
  /** The charge refunded, when the provider names it. */
  readonly chargeId?: string;
  readonly amount: number;
  readonly status: ProviderRefundStatus;
  /** Stripe's `failure_reason` of a failed refund (`expired_or_canceled_card`, `lost_or_stolen_card`, `unknown`, ...). */
  readonly failureReason?: string;
  /** The refund_no from the refund's metadata, when it has one. */
  readonly refundNo?: string;
}

/**
 * The provider's own record of money moved on the account: Stripe's balance transactions
 * (charges, refunds, payouts, ...), which the settlement compares with the ledger's.
 */
export interface ProviderBalanceLedger {
  /**
   * The balance transactions created in `[createdFrom, createdBefore)` (whole seconds, as the
   * provider dates them), of this deployment and of none, every page. The account is shared by
   * merchants and deployments: each transaction says whose it is when its source says.
   */
  listBalanceTransactions(input: { createdFrom: Date; createdBefore: Date }): Promise<ProviderBalanceTransaction[]>;
}

export interface ProviderBalanceTransaction {
  readonly id: string;
  /** Stripe's `type`: `charge`, `refund`, `payout`, ... */
  readonly type: string;
  /**
   * What the ledger names the same money by: a charge's PaymentIntent (the ledger's charge
   * source), a refund's refund_no from its metadata, any other's source id as the provider gives it.
   */
  readonly source: string;
  readonly amount: number;
  readonly fee: number;
  readonly net: number;
  readonly currency: Currency;
  readonly createdAt: string;
  /** The merchant its source's metadata names (`merchant_id`), when it names one. */
  readonly merchantId?: string;
  /** The deployment its source's metadata names ({@link DEPLOYMENT_METADATA_KEY}), when it names one. */
  readonly deployment?: string;
}

export interface CreatePayoutInput {
  readonly amount: number;
  readonly currency: Currency;
  readonly description?: string;
  readonly idempotencyKey: string;
  /** Always carries `payout_no` and `merchant_id`, so a payout whose id we lost can be found again. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Stripe's payout statuses: `paid` is final, and so are `failed` and `canceled`, which give the amount back. */
export type ProviderPayoutStatus = 'pending' | 'in_transit' | 'paid' | 'failed' | 'canceled';

export interface ProviderPayout {
  readonly id: string;
  readonly amount: number;
  readonly currency: Currency;
  readonly status: ProviderPayoutStatus;
  /** When the provider expects (or saw) it arrive: seconds since the epoch, as Stripe gives them. */
  readonly arrivalDate: number;
  /** Stripe's `failure_code` of a failed (or canceled) payout. */
  readonly failureCode?: string;
  /** The payout_no from its metadata, when it has one. */
  readonly payoutNo?: string;
}
