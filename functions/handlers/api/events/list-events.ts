import { ValidationError } from '../../../domain/errors.ts';
import { type EventType, eventBody, eventTypes, isEventId, isEventType } from '../../../domain/events.ts';
import { eventStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { listBody, parseListRequest, withCursors } from '../list-query.ts';

/** `GET /v1/events`: the merchant's events, newest first, Stripe's list parameters and `type`. */
export const handler = apiHandler('ListEvents', async ({ event, merchantId }) => {
  const request = parseListRequest<{ type: EventType }>(event, { type: eventType });
  const events = eventStore();
  const query = await withCursors(request, async (eventId) => {
    const found = isEventId(eventId) ? await events.get(eventId) : undefined;
    return found?.merchantId === merchantId ? { createdAt: found.createdAt, id: found.eventId } : undefined;
  });
  const page = await events.list(merchantId, query);
  return { status: 200, body: listBody('/v1/events', page, eventBody) };
});

function eventType(raw: string): EventType {
  if (!isEventType(raw)) throw new ValidationError('type', `must be one of ${eventTypes.join(', ')}`);
  return raw;
}
