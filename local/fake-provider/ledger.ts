import type { StripeErrorBody } from './api-error.ts';
import { Lookup } from './tracked-state.ts';
import type { CardDetails } from './test-cards.ts';

/**
 * What the fake provider has done with money: every PaymentIntent with each capture,
 * cancellation and refund as a separate entry, so a double capture shows up as two captures
 * instead of being folded into a status.
 */
export interface Ledger {
  /** In creation order. */
  paymentIntents: PaymentIntentRecord[];
  /** In creation order. */
  refunds: RefundRecord[];
  /** In creation order. Absent from ledgers written before payouts. */
  payouts: PayoutRecord[];
  /**
   * Every POST the fake executed, in order, with the Idempotency-Key it carried: what shows
   * that a capture went out under its payment's key. A replay is answered from its first
   * call's record and not listed again.
   */
  calls: CallRecord[];
}

export interface CallRecord {
  /** Method and path, e.g. `POST /v1/payment_intents/pi_1/capture`. */
  request: string;
  idempotencyKey: string | null;
  status: number;
  /** The PaymentIntent the call concerned: the one its path names, or its answer (or error) carries. */
  paymentIntent: string | null;
  /** The id of the object the call answered with (a PaymentIntent, a refund), when it succeeded. */
  objectId: string | null;
  /** Seconds since the epoch. */
  at: number;
}

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export interface PaymentIntentRecord {
  id: string;
  /** Seconds since the epoch, as Stripe gives them. */
  created: number;
  amount: number;
  /** Lower case, as Stripe stores it. */
  currency: string;
  status: PaymentIntentStatus;
  captureMethod: 'automatic' | 'automatic_async' | 'manual';
  paymentMethod: string | null;
  metadata: Record<string, string>;
  description: string | null;
  receiptEmail: string | null;
  /** The charge of the last confirmation attempt; null until one reached the card network. */
  charge: ChargeRecord | null;
  lastPaymentError: StripeErrorBody | null;
  captures: CaptureEvent[];
  cancellation: CancellationEvent | null;
}

export interface ChargeRecord {
  id: string;
  created: number;
  status: 'succeeded' | 'failed';
  card: CardDetails;
  /** When the uncaptured authorization lapses; only for manual capture. */
  captureBefore: number | null;
  failureCode: string | null;
  failureMessage: string | null;
}

export interface CaptureEvent {
  amount: number;
  at: number;
}

export interface CancellationEvent {
  at: number;
  /** Stripe's `cancellation_reason`; `automatic` when the authorization lapsed. */
  reason: string | null;
}

/** Stripe's refund statuses the fake produces: card refunds never need the customer (`requires_action`). */
export type RefundStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

/** How a pending refund ends. */
export type RefundEnd = Exclude<RefundStatus, 'pending'>;

export interface RefundRecord {
  id: string;
  created: number;
  paymentIntent: string;
  charge: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string | null;
  metadata: Record<string, string>;
  /** Stripe's `failure_reason` of a failed (or canceled) refund. Absent in ledgers written before refunds could fail. */
  failureReason?: string | null;
  /** How and when (seconds since the epoch) a pending refund settles by itself; null: when told to. */
  settlement?: RefundSettlement | null;
}

export interface RefundSettlement {
  at: number;
  status: RefundEnd;
  failureReason: string | null;
}

/** Whether a refund takes its amount from its charge: a failed or canceled one gives it back, as at Stripe. */
export function takesFromCharge(refund: RefundRecord): boolean {
  return refund.status === 'pending' || refund.status === 'succeeded';
}

const refundsByCharge = new Lookup<RefundRecord>((refund) => refund.charge);

/** What the charge's refunds take from it. */
export function amountRefunded(refunds: readonly RefundRecord[], chargeId: string): number {
  return refundsByCharge
    .all(refunds, chargeId)
    .filter(takesFromCharge)
    .reduce((sum, refund) => sum + refund.amount, 0);
}

/** Stripe's payout statuses. */
export type PayoutStatus = 'pending' | 'in_transit' | 'paid' | 'failed' | 'canceled';

/** How a payout ends. */
export type PayoutEnd = Extract<PayoutStatus, 'paid' | 'failed' | 'canceled'>;

export interface PayoutRecord {
  id: string;
  created: number;
  amount: number;
  currency: string;
  description: string | null;
  metadata: Record<string, string>;
  status: PayoutStatus;
  /** Seconds since the epoch: when it is (or was) paid. */
  arrivalDate: number;
  balanceTransaction: string;
  failureCode: string | null;
  /** The balance transaction that gave a failed or canceled payout's amount back. */
  failureBalanceTransaction: string | null;
  /** Seconds since the epoch: when a failed or canceled payout ended (absent from ledgers written before). */
  endedAt?: number;
  /** Whether it moves on as time passes; false once final, or while held for the test to settle. */
  travels: boolean;
}

/** A response kept for an idempotency key, replayed byte for byte. */
export interface IdempotencyRecord {
  apiKey: string;
  key: string;
  method: string;
  path: string;
  params: string;
  status: number;
  body: string;
  requestId: string;
  /** Milliseconds since the epoch; Stripe forgets keys after 24 hours. */
  at: number;
}

export interface FakeState {
  ledger: Ledger;
  idempotency: IdempotencyRecord[];
}
