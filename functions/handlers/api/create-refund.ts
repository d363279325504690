import { type RefundRequest, createRefund, derivedRefundKey } from '../../domain/refund.ts';
import { createRefundDeps } from '../shared/workflow.ts';
import { Metric } from '../../config/metrics.ts';
import { apiHandler } from './http.ts';
import { parseBody } from './parse-body.ts';
import { type CreateRoute, REPLAYED_HEADER, idempotentRoute } from './idempotent-route.ts';
import { createRefundBody, derivedRefundKeyName, refundParameters, toRefundRequest } from './refund-schema.ts';
import { refundView } from './refund-view.ts';

const refundCreation: CreateRoute<RefundRequest> = {
  scope: 'refunds',
  parse: (event) => toRefundRequest(parseBody(event, createRefundBody)),
  defaultKey: (request) => ({ key: derivedRefundKey(request), name: derivedRefundKeyName(request), field: 'payment_no' }),
  parameters: refundParameters,
  // The refund_no comes from the layer's key, so one key makes one refund for good, not for 24 hours.
  async run(request, { merchantId, metrics }, key) {
    const { refund, created } = await createRefund(createRefundDeps(), merchantId, key, request);
    metrics.add(created ? Metric.RefundCreated : Metric.RefundReplayed);
    return created
      ? { status: 201, body: refundView(refund) }
      : { status: 200, body: refundView(refund), headers: { [REPLAYED_HEADER]: 'true' } };
  },
};

/**
 * `POST /v1/refunds`: 201 with the pending refund; 200 and `Idempotent-Replayed: true` for a
 * repeat; 409 `refund_exceeds_captured` / `payment_not_captured` / `amount_refunded_changed`
 * with nothing written.
 */
export const handler = apiHandler('CreateRefund', idempotentRoute(refundCreation));
