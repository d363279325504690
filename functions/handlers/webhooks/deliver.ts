import * as z from '../shared/zod.ts';
import { Metric } from '../../config/metrics.ts';
import { crashFunctionOf } from '../../crash/crash-points.ts';
import { asInvocationOf } from '../../crash/invocation.ts';
import { type DeliverResult, deliverOnce } from '../../domain/webhooks.ts';
import { errorFields, logger, metricsFor } from '../shared/observability.ts';
import { deliverDeps } from '../shared/webhooks.ts';
import { deliveryInput } from './delivery-input.ts';

const metrics = metricsFor('step', 'DeliverWebhook');

/**
 * One attempt of a webhook delivery (a Task of lib/webhook-delivery.ts). A failed attempt
 * throws `WebhookAttemptFailed`, which the state machine retries with backoff and jitter.
 */
export function handler(input: unknown): Promise<DeliverResult> {
  return asInvocationOf(crashFunctionOf('DeliverWebhook'), async () => {
    const { event_id: eventId, endpoint_id: endpointId, started_at: startedAt } = z.parse(deliveryInput, input);
    try {
      const result = await deliverOnce(deliverDeps(), { eventId, endpointId }, startedAt ?? new Date().toISOString());
      metrics.add(Metric.WebhookDeliveriesSucceeded, result.outcome === 'delivered' ? 1 : 0);
      logger.info('webhook', { event_id: eventId, endpoint_id: endpointId, ...result });
      return result;
    } catch (error) {
      metrics.add(Metric.WebhookAttemptsFailed);
      logger.warn('webhook attempt failed', { event_id: eventId, endpoint_id: endpointId, ...errorFields(error) });
      throw error;
    } finally {
      metrics.publish();
    }
  });
}
