import { type EndpointRequest, createEndpoint } from '../../../domain/webhooks.ts';
import { systemClock } from '../../shared/once.ts';
import { webhookEndpointStore } from '../../shared/persistence.ts';
import { allowLoopbackUrls } from '../../shared/webhooks.ts';
import { apiHandler } from '../http.ts';
import { parseBody } from '../parse-body.ts';
import { type CreateRoute, REPLAYED_HEADER, idempotentRoute } from '../idempotent-route.ts';
import { createEndpointBody } from './endpoint-schema.ts';
import { endpointView } from './endpoint-view.ts';

const endpointCreation: CreateRoute<EndpointRequest> = {
  scope: 'webhook_endpoints',
  parse: (event) => {
    const body = parseBody(event, createEndpointBody);
    return { url: body.url, enabledEvents: body.enabled_events, ...(body.description !== undefined && { description: body.description }) };
  },
  // Two endpoints for one URL may be meant: without an Idempotency-Key, each request makes one.
  keyOptional: true,
  parameters: ({ url, enabledEvents, description }) => ({ url, enabled_events: enabledEvents, ...(description !== undefined && { description }) }),
  // The endpoint's id comes from the key, so a run again under it finds the endpoint, not a second one.
  async run(request, { merchantId }, key) {
    const { endpoint, created } = await createEndpoint(
      { endpoints: webhookEndpointStore(), clock: systemClock, allowLoopback: allowLoopbackUrls() },
      merchantId,
      request,
      key,
    );
    const body = { ...endpointView(endpoint), secret: endpoint.secret };
    return created ? { status: 201, body } : { status: 200, body, headers: { [REPLAYED_HEADER]: 'true' } };
  },
};

/**
 * `POST /v1/webhook_endpoints {url, enabled_events, description?}`: 201 with the endpoint and
 * its signing `secret`, which only this answer (and its replays) shows. With an
 * Idempotency-Key a repeat answers 200 with the first answer and `Idempotent-Replayed: true`;
 * without one, each request makes an endpoint.
 */
export const handler = apiHandler('CreateWebhookEndpoint', idempotentRoute(endpointCreation));
