import { createEndpoint } from '../../../domain/webhooks.ts';
import { systemClock } from '../../shared/once.ts';
import { webhookEndpointStore } from '../../shared/persistence.ts';
import { allowLoopbackUrls } from '../../shared/webhooks.ts';
import { apiHandler, parseBody } from '../http.ts';
import { createEndpointBody, endpointView } from './endpoint-view.ts';

/**
 * `POST /v1/webhook_endpoints {url, enabled_events, description?}`: 201 with the endpoint and
 * its signing `secret`, which no other answer shows.
 */
export const handler = apiHandler('CreateWebhookEndpoint', async ({ event, merchantId }) => {
  const body = parseBody(event, createEndpointBody);
  const endpoint = await createEndpoint(
    { endpoints: webhookEndpointStore(), clock: systemClock, allowLoopback: allowLoopbackUrls() },
    merchantId,
    { url: body.url, enabledEvents: body.enabled_events, ...(body.description !== undefined && { description: body.description }) },
  );
  return { status: 201, body: { ...endpointView(endpoint), secret: endpoint.secret } };
});
