import type { DynamoDBStreamEvent } from 'aws-lambda';
import { resourceChangeOf } from '../adapters/dynamodb/stream-changes.ts';
import { Metric } from '../config/metrics.ts';
import { asInvocationOf } from '../crash/invocation.ts';
import { type ResourceChange, transitionOf } from '../domain/events.ts';
import { publishTransition } from '../domain/webhooks.ts';
import { cartView } from './api/carts/views.ts';
import { paymentView } from './api/payment-view.ts';
import { payoutView } from './api/payouts/payout-view.ts';
import { refundView } from './api/refund-view.ts';
import { errorFields, logger, serviceMetrics as metrics } from './shared/observability.ts';
import { publishDeps } from './shared/webhooks.ts';

/** The record as `GET` of it answers: an event's `data.object`. */
function viewOf(change: ResourceChange): unknown {
  if (change.kind === 'payment') return paymentView(change.after);
  if (change.kind === 'refund') return refundView(change.after);
  if (change.kind === 'payout') return payoutView(change.after);
  return cartView(change.after);
}

/**
 * The table's stream, filtered to payments, refunds, carts and payouts in a status that makes an event:
 * each transition's event written once (its id follows from the transition) and its
 * deliveries started. A record that fails fails the batch, which the event source mapping
 * delivers again; records published before it publish again as no-ops.
 */
export function handler(event: DynamoDBStreamEvent): Promise<{ published: number }> {
  return asInvocationOf('event-publisher', async () => {
    let published = 0;
    try {
      for (const record of event.Records) {
        const change = resourceChangeOf(record);
        const transition = change === undefined ? undefined : transitionOf(change);
        if (change === undefined || transition === undefined) continue;
        const fields = { type: transition.type, id: transition.resourceId, sequence: record.dynamodb?.SequenceNumber };
        try {
          const outcome = await publishTransition(publishDeps(), transition, viewOf(change));
          if (outcome.created) {
            published += 1;
            metrics.add(Metric.EventsPublished);
          }
          logger.info('event', { ...fields, ...outcome });
        } catch (error) {
          logger.error('could not publish the event', { ...fields, ...errorFields(error) });
          throw error;
        }
      }
      return { published };
    } finally {
      metrics.publish();
    }
  });
}
