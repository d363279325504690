import * as z from '../../shared/zod.ts';
import { eventTypes } from '../../../domain/events.ts';
import { unixTime } from '../response-schema.ts';

/** `POST /v1/webhook_endpoints`: the URL and the event types are checked by the domain, naming the field. */
export const createEndpointBody = z.strictObject({
  url: z.string(),
  enabled_events: z.array(z.string()),
  description: z.optional(z.string()),
});

/** A webhook endpoint as the API shows it (`endpointView`). */
export const endpointObject = z.strictObject({
  id: z.string(),
  object: z.literal('webhook_endpoint'),
  url: z.string(),
  enabled_events: z.array(z.enum(['*', ...eventTypes])),
  description: z.nullable(z.string()),
  created: unixTime,
});

/** The answer that made the endpoint: the only one that shows its signing secret. */
export const createdEndpointObject = z.strictObject({ ...endpointObject.shape, secret: z.string().check(z.regex(/^whsec_/)) });

export const deletedEndpointObject = z.strictObject({ id: z.string(), object: z.literal('webhook_endpoint'), deleted: z.literal(true) });

/** What {@link endpointObject} describes. */
export type EndpointObject = z.infer<typeof endpointObject>;
