import { NotFoundError, PaymentNotCapturableError, ValidationError } from './errors.ts';
import { type CaptureDecision, CaptureMethod, type Payment, PaymentStatus } from './payment.ts';
import type { ChargeWorkflow, Clock, PaymentRepository } from './ports.ts';
import { touch, withFreshPayment } from './saga.ts';
import { tryStartSaga } from './saga-start.ts';

export interface ManualCaptureDeps {
  readonly payments: PaymentRepository;
  readonly workflow: ChargeWorkflow;
  readonly clock: Clock;
  readonly reconcileAfterSeconds: number;
}

export interface DecisionResult {
  /** The payment with the merchant's word on record (still `authorized`: the saga acts on it). */
  readonly payment: Payment;
  /** False when the saga could not be started now; the reconciler starts it later. */
  readonly started: boolean;
}

/**
 * The merchant's capture (of `amount`, or of all that was authorized) or cancel of a manual
 * payment waiting at `authorized`. The word is written on the payment first, with the next
 * execution's number, then that execution is started: a crash between the two leaves the
 * payment due, and the reconciler starts it. The payment's saga then captures or voids through
 * its own steps. The same word again answers as the first did; another word is refused.
 */
export async function decideCapture(
  deps: ManualCaptureDeps,
  merchantId: string,
  paymentNo: string,
  request: CaptureRequest,
): Promise<DecisionResult> {
  const written = await withFreshPayment(deps, paymentNo, async (payment) => {
    if (payment.merchantId !== merchantId) throw new NotFoundError(`no payment ${paymentNo}`, { field: 'payment_no' });
    const decision: CaptureDecision = request.action === 'cancel' ? request : { action: 'capture', amount: request.amount ?? payment.amount };
    refuseUnlessDecidable(payment, decision);
    if (payment.captureDecision !== undefined) return payment;
    return deps.payments.replace(payment, touch(deps, payment, { captureDecision: decision, resumeCount: payment.resumeCount + 1 }));
  });
  if (written.status !== PaymentStatus.Authorized) return { payment: written, started: true };
  return { payment: written, started: await tryStartSaga(deps.workflow, written.paymentNo, written.resumeCount) };
}

/** What the merchant asks: a capture of `amount` (absent: all that was authorized), or a cancel. */
export type CaptureRequest = { readonly action: 'capture'; readonly amount?: number } | { readonly action: 'cancel' };

function refuseUnlessDecidable(payment: Payment, decision: CaptureDecision): void {
  const word = decision.action === 'capture' ? 'captured' : 'canceled';
  if (payment.captureMethod !== CaptureMethod.Manual) {
    throw new PaymentNotCapturableError(`payment ${payment.paymentNo} is captured automatically; only a manual payment is ${word} on request`);
  }
  if (payment.captureDecision !== undefined) {
    if (sameDecision(payment.captureDecision, decision)) return;
    throw new PaymentNotCapturableError(`payment ${payment.paymentNo} was already ${describe(payment.captureDecision)}`);
  }
  if (payment.status !== PaymentStatus.Authorized) {
    const when = payment.status === PaymentStatus.Pending ? 'once it is authorized' : 'only while it is authorized';
    throw new PaymentNotCapturableError(`payment ${payment.paymentNo} is ${payment.status}; it can be ${word} ${when}`);
  }
  if (decision.action === 'capture' && decision.amount > payment.amount) {
    throw new ValidationError('amount_to_capture', `must be at most the authorized amount, ${payment.amount}`);
  }
}

function sameDecision(a: CaptureDecision, b: CaptureDecision): boolean {
  return a.action === b.action && (a.action === 'cancel' || (b.action === 'capture' && a.amount === b.amount));
}

function describe(decision: CaptureDecision): string {
  return decision.action === 'cancel' ? 'canceled' : `captured for ${decision.amount}`;
}
