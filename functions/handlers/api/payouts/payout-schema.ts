import * as z from '../../shared/zod.ts';
import { type Payout, type PayoutRequest, PayoutStatus } from '../../../domain/payout.ts';
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

const unixSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** A payout as the API shows it (`payoutView`). */
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

/** A payout as the API shows it: Stripe's payout (its id our payout_no), times in Unix seconds as Stripe's. */
export function payoutView(payout: Payout): z.infer<typeof payoutObject> {
  return {
    id: payout.payoutNo,
    object: 'payout' as const,
    payout_no: payout.payoutNo,
    amount: payout.amount,
    currency: payout.currency,
    status: payout.status,
    arrival_date: payout.arrivalDate === undefined ? null : unixSeconds(payout.arrivalDate),
    description: payout.description ?? null,
    created: unixSeconds(payout.createdAt),
    balance_transaction: payout.balanceTransactionId,
    failure_code: payout.failureReason ?? null,
  };
}
