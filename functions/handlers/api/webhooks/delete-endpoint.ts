import { NotFoundError } from '../../../domain/errors.ts';
import { isEndpointId } from '../../../domain/webhooks.ts';
import { webhookEndpointStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';

/**
 * `DELETE /v1/webhook_endpoints/{endpoint_id}`: no delivery sends to it from now on (each
 * attempt reads its endpoint first). Another merchant's endpoint is as absent as a missing one.
 */
export const handler = apiHandler('DeleteWebhookEndpoint', async ({ event, merchantId }) => {
  const endpointId = event.pathParameters?.endpoint_id ?? '';
  const deleted = isEndpointId(endpointId) && (await webhookEndpointStore().delete(merchantId, endpointId));
  if (!deleted) throw new NotFoundError(`no webhook endpoint ${endpointId}`, { field: 'endpoint_id' });
  return { status: 200, body: { id: endpointId, object: 'webhook_endpoint', deleted: true } };
});
