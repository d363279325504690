import { NotFoundError } from '../../../domain/errors.ts';
import { eventBody, isEventId } from '../../../domain/events.ts';
import { eventStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { unixSeconds } from '../unix-seconds.ts';

/** `GET /v1/events/{event_id}`: the event, every attempt to deliver it, and how each delivery ended. */
export const handler = apiHandler('GetEvent', async ({ event, merchantId }) => {
  const eventId = event.pathParameters?.event_id ?? '';
  const events = eventStore();
  const found = isEventId(eventId) ? await events.get(eventId) : undefined;
  if (found === undefined || found.merchantId !== merchantId) throw new NotFoundError(`no event ${eventId}`, { field: 'event_id' });
  const { attempts, outcomes } = await events.history(eventId);
  return {
    status: 200,
    body: {
      ...eventBody(found),
      delivery_attempts: attempts.map((attempt) => ({
        endpoint: attempt.endpointId,
        url: attempt.url,
        created: unixSeconds(attempt.at),
        status_code: attempt.statusCode ?? null,
        error: attempt.error ?? null,
        duration_ms: attempt.durationMs,
      })),
      deliveries: outcomes.map((outcome) => ({ endpoint: outcome.endpointId, status: outcome.status, updated: unixSeconds(outcome.at) })),
    },
  };
});
