import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ValidationError } from '../../domain/errors.ts';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;

/** Refuses any query parameter a route does not take, by its name. */
export function refuseUnknownParameters(event: APIGatewayProxyEvent, known: readonly string[]): Record<string, string | undefined> {
  const query = event.queryStringParameters ?? {};
  const unknown = Object.keys(query).find((name) => !known.includes(name));
  if (unknown !== undefined) throw new ValidationError(unknown, 'is not a known parameter');
  return query;
}

/** `limit` (1 to 100, 10 when absent) and `starting_after` (not empty) of a list's query, Stripe's way. */
export function pageOf(query: Record<string, string | undefined>, what: string): { limit: number; startingAfter?: string } {
  const rawLimit = query['limit'];
  const limit = rawLimit === undefined ? DEFAULT_LIMIT : /^\d{1,3}$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new ValidationError('limit', `must be a whole number from 1 to ${MAX_LIMIT}`);
  const startingAfter = query['starting_after'];
  if (startingAfter === '') throw new ValidationError('starting_after', `must name ${what}`);
  return { limit, ...(startingAfter !== undefined && { startingAfter }) };
}
