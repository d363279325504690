import * as z from '../shared/zod.ts';
import { PAY_BACK_OPERATOR_ID } from '../../domain/carts/model.ts';
import { MAX_AMOUNT } from '../../domain/money.ts';
import { type RefundRequest, RefundStatus } from '../../domain/refund.ts';
import { paymentObject } from './payment-schema.ts';
import { currencyOut, isoInstant, minorAmount } from './response-schema.ts';

/** An integer number of minor units up to the provider's limit: more than 0, or 0 and more. */
export const minorUnits = (positive: boolean) =>
  z
    .number({ error: 'must be an integer number of minor units' })
    .check(
      z.int('must be an integer number of minor units'),
      positive ? z.positive('must be greater than 0') : z.nonnegative('must be 0 or more'),
      z.lte(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`),
    );

/** `POST /v1/refunds`. */
export const createRefundBody = z.strictObject({
  payment_no: z.string().check(z.regex(/^pay_[0-9a-f]{24}$/, 'must be a payment_no (pay_...)')),
  amount: minorUnits(true),
  reason: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
  operator_id: z.string().check(
    z.minLength(1),
    z.maxLength(64),
    z.regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
    // A failed refund under it would come back to a cart's account as points.
    z.refine((id) => id !== PAY_BACK_OPERATOR_ID, 'is an operator_id Chargeonce reserves for itself'),
  ),
  expected_amount_refunded: z.optional(minorUnits(false)),
});

export function toRefundRequest(body: z.infer<typeof createRefundBody>): RefundRequest {
  return {
    paymentNo: body.payment_no,
    amount: body.amount,
    operatorId: body.operator_id,
    ...(body.reason !== undefined && { reason: body.reason }),
    ...(body.expected_amount_refunded !== undefined && { expectedAmountRefunded: body.expected_amount_refunded }),
  };
}

/** What a repeat of a refund request must match, by API field name. */
export function refundParameters(request: RefundRequest): Record<string, unknown> {
  return {
    payment_no: request.paymentNo,
    amount: request.amount,
    reason: request.reason,
    operator_id: request.operatorId,
    expected_amount_refunded: request.expectedAmountRefunded,
  };
}

/** The fields a refund sent without an Idempotency-Key is keyed by, as a refusal names them. */
export function derivedRefundKeyName(request: RefundRequest): string {
  const expected = request.expectedAmountRefunded === undefined ? '' : ` and expected_amount_refunded ${request.expectedAmountRefunded}`;
  return `payment_no ${request.paymentNo} with operator_id ${request.operatorId}, amount ${request.amount}${expected}`;
}

/** A refund as the API shows it (`refundView` of refund-view.ts). */
export const refundObject = z.strictObject({
  refund_no: z.string(),
  payment_no: z.string(),
  amount: minorAmount,
  currency: currencyOut,
  status: z.enum(Object.values(RefundStatus)),
  reason: z.optional(z.string()),
  operator_id: z.string(),
  failure_reason: z.optional(z.string()),
  created_at: isoInstant,
  updated_at: isoInstant,
});

/** `GET /v1/payments/{payment_no}`: the payment with its refunds. */
export const paymentWithRefunds = z.extend(paymentObject, { refunds: z.array(refundObject) });

/** A refund as the API shows it: what {@link refundObject} describes. */
export type RefundObject = z.infer<typeof refundObject>;
