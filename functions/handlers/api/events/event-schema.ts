import * as z from '../../shared/zod.ts';
import { eventTypes } from '../../../domain/events.ts';
import { unixTime } from '../response-schema.ts';

/** An event as the API shows it and a webhook carries it (`eventBody`): `data.object` is the record as its GET showed it then. */
export const eventObject = z.strictObject({
  id: z.string(),
  object: z.literal('event'),
  type: z.enum(eventTypes),
  created: unixTime,
  data: z.strictObject({ object: z.record(z.string(), z.unknown()) }),
});

/** `GET /v1/events/{event_id}`: the event, each attempt to deliver it, and how each delivery ended. */
export const eventWithDeliveries = z.strictObject({
  ...eventObject.shape,
  delivery_attempts: z.array(
    z.strictObject({
      endpoint: z.string(),
      url: z.string(),
      created: unixTime,
      status_code: z.nullable(z.int()),
      error: z.nullable(z.string()),
      duration_ms: z.int(),
    }),
  ),
  deliveries: z.array(z.strictObject({ endpoint: z.string(), status: z.enum(['delivered', 'failed']), updated: unixTime })),
});

/** `POST /v1/events/{event_id}/redeliver`: how many deliveries it started. */
export const redeliveryObject = z.strictObject({ id: z.string(), object: z.literal('event'), deliveries: z.int() });
