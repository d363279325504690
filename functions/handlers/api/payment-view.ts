import type { Payment } from '../../domain/payment.ts';
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
    created_at: payment.createdAt,
    updated_at: payment.updatedAt,
  };
}
