import { CART_METADATA_KEY } from './carts/model.ts';
import type { Currency } from './money.ts';
import { CAPTURE_METHOD_METADATA_KEY, DEPLOYMENT_METADATA_KEY } from './provider.ts';

/**
 * A payment's life:
 *
 *   pending ──authorize──▶ authorized ──capture──▶ succeeded
 *      │                       │
 *      └───────decline─────────┴──▶ failed
 *                              │
 *                              └──cancel──▶ canceled   (manual capture: the merchant canceled,
 *                                                       or never captured before the deadline)
 *
 * An automatic payment is captured as soon as it is authorized; a manual one waits at
 * `authorized` for the merchant's capture or cancel ({@link CaptureDecision}).
 */
export const PaymentStatus = {
  Pending: 'pending',
  Authorized: 'authorized',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Canceled: 'canceled',
} as const;
export type PaymentStatus = (typeof PaymentStatus)[keyof typeof PaymentStatus];

export const TerminalStatuses: readonly PaymentStatus[] = [
  PaymentStatus.Succeeded,
  PaymentStatus.Failed,
  PaymentStatus.Canceled,
];

export function isTerminal(status: PaymentStatus): boolean {
  return TerminalStatuses.includes(status);
}

/** The statuses each status may move to; anything else is refused by the repository. */
export const allowedTransitions: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  pending: ['authorized', 'failed', 'canceled'],
  authorized: ['succeeded', 'failed', 'canceled'],
  succeeded: [],
  failed: [],
  canceled: [],
};

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return allowedTransitions[from].includes(to);
}

/** Whether the saga captures a payment once authorized, or waits for the merchant (Stripe's `capture_method`). */
export const CaptureMethod = {
  Automatic: 'automatic',
  Manual: 'manual',
} as const;
export type CaptureMethod = (typeof CaptureMethod)[keyof typeof CaptureMethod];

/** What a merchant asked for: the part of a payment that makes its business key's "parameters". */
export interface PaymentRequest {
  readonly orderNo: string;
  readonly amount: number;
  readonly currency: Currency;
  readonly paymentMethod: string;
  readonly customerEmail?: string;
  readonly description?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Present only for a manual payment: absent is automatic, so older records read as they were made. */
  readonly captureMethod?: typeof CaptureMethod.Manual;
}

/** The merchant's word on a manual payment waiting at `authorized`: once given, it stands. */
export type CaptureDecision =
  /** Capture `amount` (at most the authorized amount; the rest is released). */
  | { readonly action: 'capture'; readonly amount: number }
  | { readonly action: 'cancel' };

/** Why a payment was canceled; stable, the API shows them. */
export const CancellationReason = {
  /** The merchant canceled it (`POST /v1/payments/{no}/cancel`). */
  Requested: 'requested',
  /** A manual payment nobody captured: voided before the provider's capture deadline. */
  CaptureDeadlinePassed: 'capture_deadline_passed',
} as const;
export type CancellationReason = (typeof CancellationReason)[keyof typeof CancellationReason];

export interface Payment extends PaymentRequest {
  readonly paymentNo: string;
  readonly merchantId: string;
  readonly status: PaymentStatus;
  /** Incremented by every write; each conditional write names the version it read. */
  readonly version: number;
  /** The provider's PaymentIntent id, once known. */
  readonly chargeId?: string;
  readonly amountCaptured: number;
  /** The total of its refunds not failed: reserved when a refund is recorded, given back if it fails. */
  readonly amountRefunded: number;
  /** Its refunds, in the order they were made. */
  readonly refundNos?: readonly string[];
  /** Why a payment failed: the provider's decline code, or one of ours. */
  readonly declineCode?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /**
   * A token of the request that created it, unique to that request: the put of a new payment
   * that finds one made by the same token is a retry of its own put (the SDK sends a put again
   * when its first attempt timed out, and that attempt may have landed), not a repeat.
   */
  readonly createdBy?: string;
  /** When the reconciler should look at this payment if it has not finished by then. */
  readonly reconcileAt?: string;
  /** How many executions the reconciler has started after the first. */
  readonly resumeCount: number;
  /** When the provider lets the authorization lapse, once the charge id is stored. */
  readonly captureBefore?: string;
  /** Present while the reconciler calls the provider for this payment itself. */
  readonly lease?: PaymentLease;
  /** Present while the payment is open and the reconciler could not decide how to close it. */
  readonly needsAttention?: Attention;
  /** A manual payment's capture or cancel, once the merchant asked for it. */
  readonly captureDecision?: CaptureDecision;
  /** Set when the payment is canceled. */
  readonly cancellationReason?: CancellationReason;
}

/** A manual payment authorized and waiting for the merchant's capture or cancel. */
export function awaitsCapture(payment: Payment): boolean {
  return payment.captureMethod === CaptureMethod.Manual && payment.status === PaymentStatus.Authorized && payment.captureDecision === undefined;
}

/** What the provider should capture of the payment: the merchant's amount for a manual one, else all of it. */
export function amountToCapture(payment: Payment): number {
  return payment.captureDecision?.action === 'capture' ? payment.captureDecision.amount : payment.amount;
}

/** Why the reconciler leaves a payment open to a person; stable, the API shows them. */
export const AttentionReason = {
  /** The provider could not be asked what it holds for the payment. */
  ProviderUnreachable: 'provider_unreachable',
  /** The provider captured money that does not match the payment (another amount, or more than one capture). */
  CapturesDisagree: 'captures_disagree',
} as const;
export type AttentionReason = (typeof AttentionReason)[keyof typeof AttentionReason];

export interface Attention {
  readonly reason: AttentionReason;
  /** When the reconciler first found it could not decide. */
  readonly since: string;
}

/**
 * The reconciler's claim on a payment while it captures or voids it itself. Writes are fenced
 * by the payment's version as always; the lease keeps the other actors from *calling the
 * provider* meanwhile (a saga step that finds it waits and retries), which a version
 * condition alone cannot do: a provider call is not a write we can make conditional.
 * It expires on its own, so a reconciler that dies holding it blocks no one for long.
 */
export interface PaymentLease {
  /** Unique per claim: tells whose claim it is in the record and the logs. */
  readonly owner: string;
  readonly expiresAt: string;
}

/** Whether another actor holds a live lease on the payment. */
export function isLeased(payment: Pick<Payment, 'lease'>, now: Date): boolean {
  return payment.lease !== undefined && Date.parse(payment.lease.expiresAt) > now.getTime();
}

/**
 * A write of a payment expressed as its changes, for a writer that has not read the payment
 * (it presumes the version an earlier step read): `set` the fields it gives, `remove` the
 * others it names, leave the rest as stored.
 */
export interface PaymentPatch {
  readonly set: Partial<Omit<Payment, 'paymentNo' | 'merchantId' | 'createdAt'>> & Pick<Payment, 'version' | 'updatedAt'>;
  readonly remove: readonly RemovableField[];
}

/** The fields a patch may drop: the ones that last only until the payment's next write, or until it is finished. */
export type RemovableField = 'lease' | 'needsAttention' | 'reconcileAt';

/** `payment` with `patch` applied: what the store holds once it wrote the patch. */
export function applyPatch(payment: Payment, patch: PaymentPatch): Payment {
  const kept: Record<string, unknown> = { ...payment };
  for (const field of patch.remove) delete kept[field];
  return { ...(kept as unknown as Payment), ...patch.set };
}

/**
 * Metadata keys the product writes or reads itself: on its charges at the provider (which
 * payment, order, merchant, refund, deployment a charge belongs to) and on a cart's payment
 * (the cart the saga settles). A merchant's metadata may use none of them, or it could point
 * a payment at another cart, or a charge at another payment or deployment.
 */
export const RESERVED_METADATA_KEYS = [
  CART_METADATA_KEY,
  DEPLOYMENT_METADATA_KEY,
  CAPTURE_METHOD_METADATA_KEY,
  'payment_no',
  'order_no',
  'merchant_id',
  'refund_no',
] as const;

/** The fields of a request that must match when the same business key is used again. */
export const comparedRequestFields = [
  'amount',
  'currency',
  'paymentMethod',
  'customerEmail',
  'description',
  'metadata',
  'captureMethod',
] as const satisfies readonly (keyof PaymentRequest)[];

/** What the merchant asked for, out of a payment as stored. */
export function requestOf(payment: Payment): PaymentRequest {
  return {
    orderNo: payment.orderNo,
    amount: payment.amount,
    currency: payment.currency,
    paymentMethod: payment.paymentMethod,
    ...(payment.customerEmail !== undefined && { customerEmail: payment.customerEmail }),
    ...(payment.description !== undefined && { description: payment.description }),
    ...(payment.metadata !== undefined && { metadata: payment.metadata }),
    ...(payment.captureMethod !== undefined && { captureMethod: payment.captureMethod }),
  };
}

/** The first field whose value differs between a stored payment and a new request, if any. */
export function firstDifferingField(
  stored: PaymentRequest,
  request: PaymentRequest,
): (typeof comparedRequestFields)[number] | undefined {
  return comparedRequestFields.find(
    (field) => canonical(stored[field]) !== canonical(request[field]),
  );
}

function canonical(value: unknown): string {
  if (value === undefined) return '';
  if (value !== null && typeof value === 'object') {
    return JSON.stringify(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
  }
  return JSON.stringify(value);
}
