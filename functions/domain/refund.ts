import type { ListPage, ListQuery } from './lists.ts';
import { createHash } from 'node:crypto';
import {
  AmountRefundedChangedError,
  ChargeonceError,
  IdempotencyKeyMismatchError,
  NotFoundError,
  PaymentNotCapturedError,
  RefundExceedsCapturedError,
} from './errors.ts';
import type { Currency } from './money.ts';
import { type Payment, PaymentStatus } from './payment.ts';
import type { ChargeWorkflow, Clock, PaymentRepository } from './ports.ts';
import { tryStartSaga } from './saga-start.ts';

/**
 * A refund's life: `pending` (written together with the payment's refunded total, so the
 * total can never pass what was captured, and kept while the provider holds its refund
 * pending) -> `succeeded` once the provider's refund succeeded, or `failed` if the provider
 * refused the request or its refund failed or was canceled, which gives the amount back to
 * the payment.
 */
export const RefundStatus = {
  Pending: 'pending',
  Succeeded: 'succeeded',
  Failed: 'failed',
} as const;
export type RefundStatus = (typeof RefundStatus)[keyof typeof RefundStatus];

export interface RefundRequest {
  readonly paymentNo: string;
  readonly amount: number;
  readonly reason?: string;
  readonly operatorId: string;
  /** The refunded total the caller saw; the refund is made only if it still is. */
  readonly expectedAmountRefunded?: number;
}

export interface Refund extends RefundRequest {
  readonly refundNo: string;
  readonly merchantId: string;
  readonly currency: Currency;
  /** The payment's charge at the provider. */
  readonly chargeId: string;
  readonly status: RefundStatus;
  readonly version: number;
  /** The provider's refund, once it is known to be pending there or final. */
  readonly providerRefundId?: string;
  readonly failureReason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When the reconciler should look at this refund if it is still pending. */
  readonly reconcileAt?: string;
  readonly resumeCount: number;
}

/** The refund_no is derived from the request's key, so one key can only ever make one refund. */
export function refundNoFor(merchantId: string, key: string): string {
  const digest = createHash('sha256').update(`${merchantId}\u0000refund\u0000${key}`).digest('hex');
  return `re_${digest.slice(0, 24)}`;
}

const REFUND_NO = /^re_[0-9a-f]{24}$/;

export function isRefundNo(value: string): boolean {
  return REFUND_NO.test(value);
}

/**
 * The key of a refund sent without an Idempotency-Key: the (payment, operator, amount) the
 * original design asks for, plus the refunded total the caller saw, so that a deliberate
 * second refund of the same amount is a new key and a retry of the first is not.
 */
export function derivedRefundKey(request: RefundRequest): string {
  return [request.paymentNo, request.operatorId, request.amount, request.expectedAmountRefunded ?? '-'].join('|');
}

/** Where refunds live; `create` writes the refund and the payment's refunded total at once. */
/** The merchant's refunds as the API lists them, of one payment if asked. */
export interface RefundLister {
  listForMerchant(merchantId: string, query: ListQuery<{ readonly paymentNo?: string }>): Promise<ListPage<Refund>>;
}

export interface RefundRepository {
  get(refundNo: string): Promise<Refund | undefined>;
  /**
   * In one transaction: writes `refund` unless its refund_no exists, and adds its amount to
   * its payment's refunded total if the payment is this merchant's, succeeded, has that much
   * left to refund and (when `expectedAmountRefunded` is given) still has that total.
   */
  create(refund: Refund): Promise<RefundCreation>;
  /**
   * Replaces `current` with `next` (its next version) if the stored refund is still `current`;
   * otherwise throws ConcurrentModification, for the state machine to retry on a fresh read.
   */
  replace(current: Refund, next: Refund): Promise<Refund>;
  /** `replace` to `failed`, and gives the refund's amount back to its payment, in one transaction. */
  fail(current: Refund, next: Refund): Promise<Refund>;
  /**
   * `failed -> succeeded` or `failed -> pending`, taking the amount from its payment again (if
   * the payment still has that much left to refund), in one transaction: the provider
   * refunded after all, or holds the refund pending.
   */
  revive(current: Refund, next: Refund): Promise<Refund>;
  /** The payment's refunds, in the order they were made, with the payment as of the same instant. */
  listForPayment(payment: Payment): Promise<{ payment: Payment; refunds: Refund[] }>;
  /** Pending refunds whose `reconcileAt` has passed, oldest first, at most `limit`. */
  listDue(now: Date, limit: number): Promise<Refund[]>;
}

export type RefundCreation =
  | { readonly outcome: 'created' }
  /** A refund with this refund_no exists: this request repeats it. */
  | { readonly outcome: 'exists'; readonly refund: Refund }
  /** The payment refused the amount: `payment` as stored, if it exists. */
  | { readonly outcome: 'refused'; readonly payment: Payment | undefined };

export interface CreateRefundDeps {
  readonly refunds: RefundRepository;
  readonly payments: PaymentRepository;
  readonly workflow: ChargeWorkflow;
  readonly clock: Clock;
  readonly reconcileAfterSeconds: number;
}

export interface CreateRefundResult {
  readonly refund: Refund;
  /** False when this key's refund already existed: a replay. */
  readonly created: boolean;
}

/**
 * Records a refund against a captured payment and starts the refund saga. The refund_no
 * comes from the key, so a repeat finds the first refund; the amount is reserved on the
 * payment in the same transaction, so concurrent refunds can never together pass what was
 * captured.
 */
export async function createRefund(
  deps: CreateRefundDeps,
  merchantId: string,
  key: string,
  request: RefundRequest,
): Promise<CreateRefundResult> {
  const refundNo = refundNoFor(merchantId, key);
  // A repeat is told by the transaction itself (its refund exists): no read of it first.
  const payment = await deps.payments.get(request.paymentNo);
  if (!payment || payment.merchantId !== merchantId) throw paymentMissing(request.paymentNo);
  if (payment.chargeId === undefined) throw notCaptured(payment);
  const now = deps.clock();
  const refund: Refund = {
    ...request,
    refundNo,
    merchantId,
    currency: payment.currency,
    chargeId: payment.chargeId,
    status: RefundStatus.Pending,
    version: 1,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    reconcileAt: new Date(now.getTime() + deps.reconcileAfterSeconds * 1000).toISOString(),
    resumeCount: 0,
  };
  const creation = await deps.refunds.create(refund);
  if (creation.outcome === 'exists') return { refund: sameRequestOrRefuse(creation.refund, request), created: false };
  if (creation.outcome === 'refused') throw refusal(merchantId, request, creation.payment);
  await tryStartSaga(deps.workflow, refund.refundNo);
  return { refund, created: true };
}

const comparedRefundFields = [
  ['paymentNo', 'payment_no'],
  ['amount', 'amount'],
  ['operatorId', 'operator_id'],
  ['reason', 'reason'],
  ['expectedAmountRefunded', 'expected_amount_refunded'],
] as const;

function sameRequestOrRefuse(refund: Refund, request: RefundRequest): Refund {
  const differing = comparedRefundFields.find(([field]) => refund[field] !== request[field]);
  if (differing !== undefined) {
    throw new IdempotencyKeyMismatchError(differing[1], `this refund's key was used with another ${differing[1]}`);
  }
  return refund;
}

/** Why the payment refused the amount, told from the payment as the transaction found it. */
function refusal(merchantId: string, request: RefundRequest, payment: Payment | undefined): ChargeonceError {
  if (!payment || payment.merchantId !== merchantId) return paymentMissing(request.paymentNo);
  if (payment.status !== PaymentStatus.Succeeded) return notCaptured(payment);
  if (request.expectedAmountRefunded !== undefined && payment.amountRefunded !== request.expectedAmountRefunded) {
    return new AmountRefundedChangedError(
      `payment ${payment.paymentNo} has ${payment.amountRefunded} refunded now, not ${request.expectedAmountRefunded}`,
    );
  }
  return new RefundExceedsCapturedError(
    `payment ${payment.paymentNo} has ${payment.amountCaptured - payment.amountRefunded} left to refund, less than ${request.amount}`,
  );
}

function paymentMissing(paymentNo: string): NotFoundError {
  return new NotFoundError(`no payment ${paymentNo}`, { field: 'payment_no' });
}

function notCaptured(payment: Payment): PaymentNotCapturedError {
  return new PaymentNotCapturedError(`payment ${payment.paymentNo} is ${payment.status}; only a succeeded payment can be refunded`);
}
