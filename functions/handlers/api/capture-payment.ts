import { apiHandler } from './http.ts';
import { parseBody } from './parse-body.ts';
import { captureDecisionRoute } from './capture-decision-route.ts';
import { idempotentRoute } from './idempotent-route.ts';
import { capturePaymentBody } from './payment-schema.ts';

/**
 * `POST /v1/payments/{payment_no}/capture {amount_to_capture?}`: 202 with the manual payment,
 * still `authorized`, its capture under way (`payment.succeeded` follows). 409
 * `payment_not_capturable` for a payment that is automatic, not authorized, or already
 * canceled or captured for another amount; 400 naming `amount_to_capture` above what was
 * authorized.
 */
export const handler = apiHandler(
  'CapturePayment',
  idempotentRoute(
    captureDecisionRoute('payment-capture', (event) => {
      const body = parseBody(event, capturePaymentBody);
      return { action: 'capture', ...(body.amount_to_capture !== undefined && { amount: body.amount_to_capture }) };
    }),
  ),
);
