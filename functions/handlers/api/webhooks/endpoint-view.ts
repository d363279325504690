/**
 * What the API shows, apart from the zod objects of endpoint-schema.ts that describe it for the contract:
 * a route that only answers (a GET, the event publisher) then bundles no zod.
 */
import type { WebhookEndpoint } from '../../../domain/webhooks.ts';
import { unixSeconds } from '../unix-seconds.ts';
import type { EndpointObject } from './endpoint-schema.ts';

/** An endpoint as the API shows it; its secret only in the answer that made it. */
export function endpointView(endpoint: WebhookEndpoint): EndpointObject {
  return {
    id: endpoint.endpointId,
    object: 'webhook_endpoint' as const,
    url: endpoint.url,
    enabled_events: [...endpoint.enabledEvents],
    description: endpoint.description ?? null,
    created: unixSeconds(endpoint.createdAt),
  };
}
