import { CaptureMethod, type Payment, PaymentStatus, awaitsCapture } from '../../domain/payment.ts';
import type { PaymentObject } from './payment-schema.ts';

/** A payment as the API shows it. */
export function paymentView(payment: Payment): PaymentObject {
  return {
    payment_no: payment.paymentNo,
    order_no: payment.orderNo,
    amount: payment.amount,
    currency: payment.currency,
    status: payment.status,
    amount_captured: payment.amountCaptured,
    amount_refunded: payment.amountRefunded,
    ...(payment.declineCode !== undefined && { decline_code: payment.declineCode }),
    ...(payment.customerEmail !== undefined && { customer_email: payment.customerEmail }),
    ...(payment.description !== undefined && { description: payment.description }),
    ...(payment.metadata !== undefined && { metadata: payment.metadata }),
    // The reconciler could not decide how to close it: a person should look.
    ...(payment.needsAttention !== undefined && {
      needs_attention: { reason: payment.needsAttention.reason, since: payment.needsAttention.since },
    }),
    capture_method: payment.captureMethod ?? CaptureMethod.Automatic,
    ...(payment.captureMethod === CaptureMethod.Manual && { awaiting_capture: awaitsCapture(payment) }),
    ...(payment.captureBefore !== undefined && payment.status === PaymentStatus.Authorized && { capture_before: payment.captureBefore }),
    ...(payment.captureDecision?.action === 'capture' && { amount_to_capture: payment.captureDecision.amount }),
    ...(payment.cancellationReason !== undefined && { cancellation_reason: payment.cancellationReason }),
    created_at: payment.createdAt,
    updated_at: payment.updatedAt,
  };
}
