/**
 * Apart from shared/webhooks.ts, which the publisher and the redeliver route import too: only the
 * delivery steps parse with zod.
 */
import * as z from '../shared/zod.ts';

/** A delivery step's input: the execution's, and when the execution started (`$$.Execution.StartTime`). */
export const deliveryInput = z.looseObject({
  event_id: z.string().check(z.minLength(1)),
  endpoint_id: z.string().check(z.minLength(1)),
  started_at: z.optional(z.string()),
});
