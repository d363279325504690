import { NotFoundError } from '../../../domain/errors.ts';
import { isEventId } from '../../../domain/events.ts';
import { redeliverEvent } from '../../../domain/webhooks.ts';
import { publishDeps } from '../../shared/webhooks.ts';
import { apiHandler } from '../http.ts';

/**
 * `POST /v1/events/{event_id}/redeliver`: 202, a new delivery to every endpoint that takes the
 * event's type now (with its usual retries); `deliveries` says how many.
 */
export const handler = apiHandler('RedeliverEvent', async ({ event, merchantId }) => {
  const eventId = event.pathParameters?.event_id ?? '';
  if (!isEventId(eventId)) throw new NotFoundError(`no event ${eventId}`, { field: 'event_id' });
  const { deliveries } = await redeliverEvent(publishDeps(), merchantId, eventId);
  return { status: 202, body: { id: eventId, object: 'event', deliveries } };
});
