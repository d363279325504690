/**
 * The pieces the API's answers are made of, as zod schemas: the views are typed by them
 * (`z.infer`), and the OpenAPI document (functions/contract/) is generated from them, so what
 * the document promises is what the code returns. Only types are imported from here by the
 * views, so a route's bundle carries none of it.
 */
import * as z from '../shared/zod.ts';

/** An amount in integer minor units of its currency. */
export const minorAmount = z.int();
/** An ISO 4217 code, upper case. */
export const currencyOut = z.string().check(z.regex(/^[A-Z]{3}$/));
/** An instant as ISO 8601 text (`toISOString`). */
export const isoInstant = z.string();
/** An instant in Unix seconds, as Stripe's objects show them. */
export const unixTime = z.int();

/** Every refusal, the handlers' and API Gateway's alike: a stable code, a message, and the field at fault when there is one. */
export const errorResponse = z.strictObject({
  error: z.strictObject({
    code: z.string().check(z.regex(/^[a-z_]+$/)),
    message: z.string(),
    field: z.optional(z.string()),
  }),
});
export type ErrorResponse = z.infer<typeof errorResponse>;

/** A page of a list, Stripe's shape: `url` is the list's path. */
export const listOf = <T extends z.ZodMiniType>(url: string, item: T) =>
  z.strictObject({ object: z.literal('list'), url: z.literal(url), has_more: z.boolean(), data: z.array(item) });
