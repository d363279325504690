import * as z from '../shared/zod.ts';
import { Metric } from '../../config/metrics.ts';
import { crashFunctionOf } from '../../crash/crash-points.ts';
import { asInvocationOf } from '../../crash/invocation.ts';
import { giveUpDelivery } from '../../domain/webhooks.ts';
import { systemClock } from '../shared/once.ts';
import { logger, metricsFor } from '../shared/observability.ts';
import { eventStore } from '../shared/persistence.ts';
import { deliveryInput } from './delivery-input.ts';

const metrics = metricsFor('step', 'GiveUpWebhook');

/** A delivery whose attempts all failed: recorded failed, counted (the alarm watches the count). */
export function handler(input: unknown): Promise<{ outcome: 'failed' }> {
  return asInvocationOf(crashFunctionOf('GiveUpWebhook'), async () => {
    const { event_id: eventId, endpoint_id: endpointId } = z.parse(deliveryInput, input);
    try {
      await giveUpDelivery({ events: eventStore(), clock: systemClock }, { eventId, endpointId });
      metrics.add(Metric.WebhookDeliveriesFailed);
      logger.error('webhook delivery given up', { event_id: eventId, endpoint_id: endpointId });
      return { outcome: 'failed' as const };
    } finally {
      metrics.publish();
    }
  });
}
