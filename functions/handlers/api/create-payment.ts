import { createPayment } from '../../domain/create-payment.ts';
import type { PaymentRequest } from '../../domain/payment.ts';
import { createPaymentDeps } from '../shared/workflow.ts';
import { Metric } from '../../config/metrics.ts';
import { logger } from '../shared/observability.ts';
import { apiHandler } from './http.ts';
import { parseBody } from './parse-body.ts';
import { type CreateRoute, REPLAYED_HEADER, idempotentRoute, plainRoute } from './idempotent-route.ts';
import { createPaymentBody, paymentParameters, toPaymentRequest } from './payment-schema.ts';
import { paymentView } from './payment-view.ts';

const paymentCreation: CreateRoute<PaymentRequest> = {
  scope: 'payments',
  parse: (event) => toPaymentRequest(parseBody(event, createPaymentBody)),
  defaultKey: (request) => ({ key: request.orderNo, name: `order_no ${request.orderNo}`, field: 'order_no' }),
  // The payment's conditional put on (merchant, order_no) is the claim, and its first answer is rebuilt from it.
  defaultKeyClaimedByRun: true,
  parameters: paymentParameters,
  async run(request, { merchantId, log, metrics }) {
    const { payment, created, started, firstAnswer } = await createPayment(createPaymentDeps(), merchantId, request);
    if (!started) {
      // Stored but not started: the reconciler starts it once it is due.
      logger.warn('saga not started; left to the reconciler', { ...log, payment_no: payment.paymentNo });
      metrics.add(Metric.SagaStartDeferred);
    }
    if (created) return { status: 201, body: paymentView(firstAnswer) };
    // A repeat of the order (without a key, under another key, or one whose record expired).
    metrics.add(Metric.PaymentReplayed);
    return { status: 200, body: paymentView(firstAnswer), headers: { [REPLAYED_HEADER]: 'true' } };
  },
};

/** The route without the Idempotency-Key layer (the business key still holds): the benchmark's baseline wraps it. */
export const createPaymentRoute = plainRoute(paymentCreation);

/**
 * `POST /v1/payments`: 201 with a new payment; 200 and `Idempotent-Replayed: true` with the
 * first answer for a repeated key or a repeated order.
 */
export const handler = apiHandler('CreatePayment', idempotentRoute(paymentCreation));
