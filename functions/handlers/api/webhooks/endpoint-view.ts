import * as z from '../../shared/zod.ts';
import type { WebhookEndpoint } from '../../../domain/webhooks.ts';

/** `POST /v1/webhook_endpoints`: the URL and the event types are checked by the domain, naming the field. */
export const createEndpointBody = z.strictObject({
  url: z.string(),
  enabled_events: z.array(z.string()),
  description: z.optional(z.string()),
});

/** An endpoint as the API shows it; its secret only in the answer that made it. */
export function endpointView(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.endpointId,
    object: 'webhook_endpoint' as const,
    url: endpoint.url,
    enabled_events: endpoint.enabledEvents,
    description: endpoint.description ?? null,
    created: Math.floor(Date.parse(endpoint.createdAt) / 1000),
  };
}
