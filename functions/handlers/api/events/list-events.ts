import { type EventType, eventBody, eventTypes, isEventId } from '../../../domain/events.ts';
import { eventStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { listBody, oneOf, parseListRequest, withCursors } from '../list-query.ts';

/** `GET /v1/events`: the merchant's events, newest first, Stripe's list parameters and `type`. */
export const handler = apiHandler('ListEvents', async ({ event, merchantId }) => {
  const request = parseListRequest<{ type: EventType }>(event, { type: oneOf('type', eventTypes) });
  const events = eventStore();
  const query = await withCursors(request, async (eventId) => {
    const found = isEventId(eventId) ? await events.get(eventId) : undefined;
    return found?.merchantId === merchantId ? { createdAt: found.createdAt, id: found.eventId } : undefined;
  });
  const page = await events.list(merchantId, query);
  return { status: 200, body: listBody('/v1/events', page, eventBody) };
});

