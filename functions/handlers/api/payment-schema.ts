import * as z from '../shared/zod.ts';
import { type Currency, MAX_AMOUNT, minimumCharge, parseCurrency } from '../../domain/money.ts';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { isPaymentNo } from '../../domain/create-payment.ts';
import { CancellationReason, CaptureMethod, type PaymentRequest, PaymentStatus, RESERVED_METADATA_KEYS } from '../../domain/payment.ts';
import { pathParameter } from './http.ts';
import { currencyOut, isoInstant, minorAmount } from './response-schema.ts';

/** Printable ASCII without spaces: safe in URLs, logs and provider metadata. */
const token = (max: number) =>
  z.string().check(z.minLength(1), z.maxLength(max), z.regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'));

/** An ISO 4217 code in either case, as its upper-case Currency. */
export const currencyCode = z.pipe(
  z.string(),
  z.transform((code: string, ctx) => {
    const currency = parseCurrency(code);
    if (currency === undefined) {
      ctx.issues.push({ code: 'custom', message: 'must be an ISO 4217 currency code', input: code });
      return z.NEVER;
    }
    return currency;
  }),
);

/** A payment method at the provider, e.g. `pm_card_visa`. */
export const paymentMethodId = z.string().check(z.regex(/^pm_[A-Za-z0-9_]{1,100}$/, 'must be a payment method id (pm_...)'));

/** An amount a request gives, in minor units. */
const requestAmount = z
  .number({ error: 'must be an integer number of minor units' })
  .check(
    z.int('must be an integer number of minor units'),
    z.positive('must be greater than 0'),
    z.lte(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`),
  );

/** `POST /v1/payments`. Bounds follow the provider's, so nothing valid here fails there. */
export const createPaymentBody = z
  .strictObject({
    order_no: token(64),
    amount: requestAmount,
    currency: currencyCode,
    payment_method: paymentMethodId,
    capture_method: z.optional(z.enum(Object.values(CaptureMethod))),
    customer_email: z.optional(z.email().check(z.maxLength(254))),
    description: z.optional(z.string().check(z.maxLength(1000))),
    metadata: z.optional(
      z.record(z.string().check(z.minLength(1), z.maxLength(40)), z.string().check(z.maxLength(500))).check(
        z.superRefine((metadata, ctx) => {
          const reserved = RESERVED_METADATA_KEYS.find((key) => Object.hasOwn(metadata, key));
          if (reserved !== undefined) ctx.addIssue({ code: 'custom', path: [reserved], message: 'is a key Chargeonce reserves for itself' });
        }),
        z.refine((m) => Object.keys(m).length <= 20, 'must have at most 20 keys'),
      ),
    ),
  })
  .check(z.superRefine(withinProviderLimits));

/**
 * What the provider would refuse: an amount under its minimum for the currency, a metadata key
 * with brackets (its form encoding nests on them). Refused here, before anything is written,
 * rather than accepted and then failed.
 */
function withinProviderLimits(
  body: { amount: number; currency: Currency; metadata?: Record<string, string> | undefined },
  ctx: z.core.$RefinementCtx,
): void {
  const minimum = minimumCharge(body.currency);
  if (body.amount < minimum) {
    ctx.addIssue({ code: 'custom', path: ['amount'], message: `must be at least ${minimum} in ${body.currency}, the provider's minimum` });
  }
  const bracketed = Object.keys(body.metadata ?? {}).find((key) => /[[\]]/.test(key));
  if (bracketed !== undefined) ctx.addIssue({ code: 'custom', path: ['metadata', bracketed], message: 'must not contain [ or ]' });
}

export function toPaymentRequest(body: z.infer<typeof createPaymentBody>): PaymentRequest {
  return {
    orderNo: body.order_no,
    amount: body.amount,
    currency: body.currency,
    paymentMethod: body.payment_method,
    ...(body.customer_email !== undefined && { customerEmail: body.customer_email }),
    ...(body.description !== undefined && { description: body.description }),
    ...(body.metadata !== undefined && { metadata: body.metadata }),
    ...(body.capture_method === CaptureMethod.Manual && { captureMethod: CaptureMethod.Manual }),
  };
}

/** `POST /v1/payments/{payment_no}/capture`: absent, the whole authorized amount. */
export const capturePaymentBody = z.strictObject({ amount_to_capture: z.optional(requestAmount) });

/** The payment_no a path names; anything else is a 400 naming it. */
export const paymentNoOf = (event: APIGatewayProxyEvent) =>
  pathParameter(event, 'payment_no', isPaymentNo, 'must be a payment_no (pay_ and 24 hex digits)');

/** What a repeat of a payment request must match, by API field name. */
export function paymentParameters(request: PaymentRequest): Record<string, unknown> {
  return {
    order_no: request.orderNo,
    amount: request.amount,
    currency: request.currency,
    payment_method: request.paymentMethod,
    customer_email: request.customerEmail,
    description: request.description,
    metadata: request.metadata,
    capture_method: request.captureMethod ?? CaptureMethod.Automatic,
  };
}

/** A payment as the API shows it (`paymentView`). */
export const paymentObject = z.strictObject({
  payment_no: z.string(),
  order_no: z.string(),
  amount: minorAmount,
  currency: currencyOut,
  status: z.enum(Object.values(PaymentStatus)),
  amount_captured: minorAmount,
  amount_refunded: minorAmount,
  decline_code: z.optional(z.string()),
  customer_email: z.optional(z.string()),
  description: z.optional(z.string()),
  metadata: z.optional(z.record(z.string(), z.string())),
  needs_attention: z.optional(z.strictObject({ reason: z.string(), since: isoInstant })),
  capture_method: z.enum(Object.values(CaptureMethod)),
  /** A manual payment's: whether it waits at authorized for the merchant's capture or cancel. */
  awaiting_capture: z.optional(z.boolean()),
  /** When the authorization lapses, once the provider said: a manual payment must be captured before. */
  capture_before: z.optional(isoInstant),
  /** What the merchant asked to capture of a manual payment (the rest released). */
  amount_to_capture: z.optional(minorAmount),
  cancellation_reason: z.optional(z.enum(Object.values(CancellationReason))),
  created_at: isoInstant,
  updated_at: isoInstant,
});
export type PaymentObject = z.infer<typeof paymentObject>;
