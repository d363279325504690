import { type PayoutRequest, createPayout } from '../../../domain/payout.ts';
import { Metric } from '../../../config/metrics.ts';
import { createPayoutDeps } from '../../shared/workflow.ts';
import { apiHandler } from '../http.ts';
import { parseBody } from '../parse-body.ts';
import { type CreateRoute, REPLAYED_HEADER, idempotentRoute } from '../idempotent-route.ts';
import { createPayoutBody, payoutParameters, toPayoutRequest } from './payout-schema.ts';
import { payoutView } from './payout-view.ts';

const payoutCreation: CreateRoute<PayoutRequest> = {
  scope: 'payouts',
  parse: (event) => toPayoutRequest(parseBody(event, createPayoutBody)),
  // No defaultKey: two payouts of the same amount are two payouts, so the client names each.
  parameters: payoutParameters,
  // The payout_no comes from the layer's key, so one key makes one payout for good, not for 24 hours.
  async run(request, { merchantId, metrics }, key) {
    const { payout, created } = await createPayout(createPayoutDeps(), merchantId, key, request);
    metrics.add(created ? Metric.PayoutCreated : Metric.PayoutReplayed);
    return created
      ? { status: 201, body: payoutView(payout) }
      : { status: 200, body: payoutView(payout), headers: { [REPLAYED_HEADER]: 'true' } };
  },
};

/**
 * `POST /v1/payouts` (Idempotency-Key required): 201 with the pending payout, its amount moved
 * from `available` to `in_payout`; 200 and `Idempotent-Replayed: true` for a repeat; 409
 * `insufficient_funds` naming `amount` with nothing written.
 */
export const handler = apiHandler('CreatePayout', idempotentRoute(payoutCreation));
