import type { APIGatewayProxyEvent } from 'aws-lambda';
import { Metric } from '../../config/metrics.ts';
import { type CaptureRequest, decideCapture } from '../../domain/manual-capture.ts';
import { createPaymentDeps } from '../shared/workflow.ts';
import { logger } from '../shared/observability.ts';
import type { CreateRoute } from './idempotent-route.ts';
import { paymentNoOf } from './payment-schema.ts';
import { paymentView } from './payment-view.ts';

type DecisionInput = { readonly paymentNo: string; readonly request: CaptureRequest };

/**
 * A manual payment's capture or cancel as a route behind the idempotency layer. The header is
 * optional: the merchant's word stands once given, so a repeat without one answers as the first
 * did, and another word is a 409 either way.
 */
export function captureDecisionRoute(
  scope: string,
  parseRequest: (event: APIGatewayProxyEvent) => CaptureRequest,
): CreateRoute<DecisionInput> {
  return {
    scope,
    parse: (event) => ({ paymentNo: paymentNoOf(event), request: parseRequest(event) }),
    keyOptional: true,
    parameters: ({ paymentNo, request }) => ({
      payment_no: paymentNo,
      ...(request.action === 'capture' && { amount_to_capture: request.amount }),
    }),
    async run({ paymentNo, request }, { merchantId, log, metrics }) {
      const { payment, started } = await decideCapture(createPaymentDeps(), merchantId, paymentNo, request);
      if (!started) {
        logger.warn('saga not started; left to the reconciler', { ...log, payment_no: payment.paymentNo });
        metrics.add(Metric.SagaStartDeferred);
      }
      return { status: 202, body: paymentView(payment) };
    },
  };
}
