/**
 * A route's JSON body, parsed and checked against its zod schema. Apart from http.ts, which every
 * route imports: zod (and the English messages it is configured with) goes only into the bundles
 * of the routes that take a body.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from '../shared/zod.ts';
import { InvalidJsonError, ValidationError } from '../../domain/errors.ts';
import { bodyText } from './http.ts';

/** Parses and validates a JSON body against a zod schema; the first issue names the field. */
export function parseBody<T>(event: APIGatewayProxyEvent, schema: z.ZodMiniType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(bodyText(event) ?? '');
  } catch {
    throw new InvalidJsonError();
  }
  refuseUnstorableText(raw);
  const parsed = z.safeParse(schema, raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    throw new ValidationError([...issue.path, issue.keys[0]].join('.'), 'is not a known field');
  }
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new ValidationError(field, issue?.message ?? 'invalid request');
}

// In a `u` regex a surrogate pair is one code point, so this matches only a surrogate alone.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** A place in the body: the key, under its parent's place. */
type Place = { readonly key: string; readonly parent: Place } | undefined;

function fieldOf(place: Place): string {
  const keys: string[] = [];
  for (let at = place; at !== undefined; at = at.parent) keys.push(at.key);
  return keys.reverse().join('.') || 'body';
}

/**
 * JSON can carry what nothing downstream can hold. A lone surrogate (`"\ud800"`) is valid
 * JSON but not Unicode: it has no UTF-8 form, and the Stripe SDK's form encoding throws on it
 * (a payment accepted, then stuck pending). A `__proto__` key is parsed as data, then dropped
 * by every object it is copied into (a metadata entry accepted and silently lost). Both are
 * refused before any schema sees them, naming the field.
 */
function refuseUnstorableText(body: unknown): void {
  // A stack, not recursion: JSON.parse takes any depth, and 400 KB of `[` nest 200,000 deep.
  const pending: { value: unknown; place: Place }[] = [{ value: body, place: undefined }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, place } = next;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) throw new ValidationError(fieldOf(place), 'must be well-formed Unicode (no lone surrogates)');
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, item] of Object.entries(value)) {
      if (LONE_SURROGATE.test(key)) throw new ValidationError(fieldOf(place), 'has a key that is not well-formed Unicode (a lone surrogate)');
      if (key === '__proto__') throw new ValidationError(fieldOf({ key, parent: place }), 'is not allowed');
      pending.push({ value: item, place: { key, parent: place } });
    }
  }
}
