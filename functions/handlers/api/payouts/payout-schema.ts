import * as z from '../../shared/zod.ts';
import { type PayoutRequest, PayoutStatus } from '../../../domain/payout.ts';
import { currencyCode } from '../payment-schema.ts';
import { minorUnits } from '../refund-schema.ts';
import { currencyOut, minorAmount, unixTime } from '../response-schema.ts';

/** Stripe's bound on a payout's description. */
const MAX_DESCRIPTION = 255;

/** `POST /v1/payouts`. */
export const createPayoutBody = z.strictObject({
  amount: minorUnits(true),
  currency: currencyCode,
  description: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_DESCRIPTION))),
});

export function toPayoutRequest(body: z.infer<typeof createPayoutBody>): PayoutRequest {
  return { amount: body.amount, currency: body.currency, ...(body.description !== undefined && { description: body.description }) };
}

/** What a repeat of a payout request must match, by API field name. */
export function payoutParameters(request: PayoutRequest): Record<string, unknown> {
  return { amount: request.amount, currency: request.currency, description: request.description };
}

/** A payout as the API shows it (`payoutView` of payout-view.ts). */
export const payoutObject = z.strictObject({
  id: z.string(),
  object: z.literal('payout'),
  payout_no: z.string(),
  amount: minorAmount,
  currency: currencyOut,
  status: z.enum(Object.values(PayoutStatus)),
  arrival_date: z.nullable(unixTime),
  description: z.nullable(z.string()),
  created: unixTime,
  balance_transaction: z.string(),
  failure_code: z.nullable(z.string()),
});

/** What {@link payoutObject} describes. */
export type PayoutObject = z.infer<typeof payoutObject>;
