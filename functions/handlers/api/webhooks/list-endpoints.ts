import { webhookEndpointStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { listBody, refuseUnknownParameters } from '../list-query.ts';
import { endpointView } from './endpoint-view.ts';

/** `GET /v1/webhook_endpoints`: every endpoint of the merchant (a handful), without their secrets. */
export const handler = apiHandler('ListWebhookEndpoints', async ({ event, merchantId }) => {
  refuseUnknownParameters(event, []);
  const endpoints = await webhookEndpointStore().list(merchantId);
  return { status: 200, body: listBody('/v1/webhook_endpoints', { data: endpoints, hasMore: false }, endpointView) };
});
