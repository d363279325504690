/**
 * What the API shows, apart from the zod objects of refund-schema.ts that describe it for the contract:
 * a route that only answers (a GET, the event publisher) then bundles no zod.
 */
import type { Refund } from '../../domain/refund.ts';
import type { RefundObject } from './refund-schema.ts';

/** A refund as the API shows it. */
export function refundView(refund: Refund): RefundObject {
  return {
    refund_no: refund.refundNo,
    payment_no: refund.paymentNo,
    amount: refund.amount,
    currency: refund.currency,
    status: refund.status,
    ...(refund.reason !== undefined && { reason: refund.reason }),
    operator_id: refund.operatorId,
    ...(refund.failureReason !== undefined && { failure_reason: refund.failureReason }),
    created_at: refund.createdAt,
    updated_at: refund.updatedAt,
  };
}
