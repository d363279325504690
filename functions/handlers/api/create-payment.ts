import { withCrashPoints } from '../../crash/crashing-ports.ts';
import { createPayment } from '../../domain/create-payment.ts';
import { createPaymentDeps } from '../shared/workflow.ts';
import { logger, MetricUnit } from '../shared/observability.ts';
import { type ApiRequest, type ApiResult, apiHandler, parseBody } from './http.ts';
import { createPaymentBody, toPaymentRequest } from './payment-schema.ts';
import { paymentView } from './payment-view.ts';

/**
 * The route without an idempotency layer of its own (the business key still makes it
 * idempotent): what the layer wraps, and what the benchmark's Powertools baseline wraps.
 */
export async function createPaymentRoute({ event, merchantId, log, metrics }: ApiRequest): Promise<ApiResult> {
  const request = toPaymentRequest(parseBody(event, createPaymentBody));
  const { payment, created, started } = await createPayment(
    withCrashPoints(createPaymentDeps(), 'create-payment'),
    merchantId,
    request,
  );
  if (!created) metrics.addMetric('PaymentReplayed', MetricUnit.Count, 1);
  if (!started) {
    // Stored but not started: the reconciler starts it once it is due.
    logger.warn('saga not started; left to the reconciler', { ...log, payment_no: payment.paymentNo });
    metrics.addMetric('SagaStartDeferred', MetricUnit.Count, 1);
  }
  return { status: created ? 201 : 200, body: paymentView(payment) };
}

/** `POST /v1/payments`: 201 with a new payment, 200 with the one this order already has. */
export const handler = apiHandler('CreatePayment', createPaymentRoute);
