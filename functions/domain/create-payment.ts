import { createHash, randomUUID } from 'node:crypto';
import { IdempotencyKeyMismatchError } from './errors.ts';
import { type Payment, type PaymentRequest, PaymentStatus, firstDifferingField, requestOf } from './payment.ts';
import type { ChargeWorkflow, Clock, PaymentRepository } from './ports.ts';
import { tryStartSaga } from './saga-start.ts';

export interface CreatePaymentDeps {
  readonly payments: PaymentRepository;
  readonly workflow: ChargeWorkflow;
  readonly clock: Clock;
  readonly reconcileAfterSeconds: number;
}

export interface CreatePaymentResult {
  readonly payment: Payment;
  /** False when (merchant, order_no) already had this payment: a replay. */
  readonly created: boolean;
  /** False when the saga could not be started now; the reconciler starts it later. */
  readonly started: boolean;
  /**
   * The payment as its first request answered it, whatever happened to it since: every repeat
   * of the order gets the first answer again. It is rebuilt from what the payment stores, so
   * the payment itself is the only record of the order a repeat needs (no idempotency record).
   */
  readonly firstAnswer: Payment;
}

/**
 * The payment_no is derived from (merchant, order_no), so the business key's uniqueness is
 * one conditional put on the payment itself, for as long as the payment exists, and the
 * saga's execution name (the payment_no) is known before anything is written.
 */
export function paymentNoFor(merchantId: string, orderNo: string): string {
  const digest = createHash('sha256').update(`${merchantId}\u0000${orderNo}`).digest('hex');
  return `pay_${digest.slice(0, 24)}`;
}

const PAYMENT_NO = /^pay_[0-9a-f]{24}$/;

/** Whether a string can be a payment_no at all: lets a lookup refuse garbage without a read. */
export function isPaymentNo(value: string): boolean {
  return PAYMENT_NO.test(value);
}

/**
 * Creates the payment unless (merchant, order_no) has one, and starts its saga. The same
 * order with the same parameters answers with the first payment; with other parameters it
 * is refused and nothing changes.
 */
export async function createPayment(
  deps: CreatePaymentDeps,
  merchantId: string,
  request: PaymentRequest,
): Promise<CreatePaymentResult> {
  const paymentNo = paymentNoFor(merchantId, request.orderNo);
  // Read first: a read that fails or hangs leaves nothing behind, so a request refused while
  // the table is unreachable can be sent again corrected. Only the put can land after its
  // caller gave up on it, as any write can.
  const found = await deps.payments.get(paymentNo);
  const { created, payment } =
    found === undefined ? await createOnce(deps.payments, newPayment(deps, { paymentNo, merchantId }, request, deps.clock(), randomUUID())) : { created: false, payment: found };
  if (!created) {
    const field = firstDifferingField(payment, request);
    if (field !== undefined) {
      throw new IdempotencyKeyMismatchError(
        toSnakeCase(field),
        `order_no ${request.orderNo} was already used with another ${toSnakeCase(field)}`,
      );
    }
  }
  // A replay of a payment whose first start was lost starts it now; for one already
  // started, the same execution name and input make the start a no-op.
  const started = payment.status === PaymentStatus.Pending ? await tryStartSaga(deps.workflow, payment.paymentNo) : true;
  const firstAnswer = created ? payment : newPayment(deps, payment, requestOf(payment), new Date(payment.createdAt), payment.createdBy);
  return { payment, created, started, firstAnswer };
}

/**
 * Puts the new payment unless its order has one. The SDK sends a put again when its first
 * attempt timed out, and that attempt may have landed: the put then finds the payment this
 * request wrote, by its token, which is this request's own (201), not a repeat's (200).
 */
async function createOnce(payments: PaymentRepository, attempted: Payment): Promise<{ created: boolean; payment: Payment }> {
  const { created, payment } = await payments.create(attempted);
  return { created: created || payment.createdBy === attempted.createdBy, payment };
}

/** A payment as it is first written: everything in it follows from the request, the time and the request's token. */
function newPayment(
  deps: Pick<CreatePaymentDeps, 'reconcileAfterSeconds'>,
  { paymentNo, merchantId }: Pick<Payment, 'paymentNo' | 'merchantId'>,
  request: PaymentRequest,
  now: Date,
  createdBy: string | undefined,
): Payment {
  return {
    ...request,
    paymentNo,
    merchantId,
    ...(createdBy !== undefined && { createdBy }),
    status: PaymentStatus.Pending,
    version: 1,
    amountCaptured: 0,
    amountRefunded: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    reconcileAt: new Date(now.getTime() + deps.reconcileAfterSeconds * 1000).toISOString(),
    resumeCount: 0,
  };
}

function toSnakeCase(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
