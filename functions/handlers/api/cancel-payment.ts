import { apiHandler } from './http.ts';
import { captureDecisionRoute } from './capture-decision-route.ts';
import { idempotentRoute } from './idempotent-route.ts';
import { parseEmptyBody } from './school/schemas.ts';

/**
 * `POST /v1/payments/{payment_no}/cancel`: 202 with the manual payment, still `authorized`,
 * its authorization being released (`payment.canceled` follows). 409 `payment_not_capturable`
 * for a payment that is automatic, not authorized, or already captured.
 */
export const handler = apiHandler(
  'CancelPayment',
  idempotentRoute(
    captureDecisionRoute('payment-cancel', (event) => {
      parseEmptyBody(event);
      return { action: 'cancel' };
    }),
  ),
);
