import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ValidationError } from '../../domain/errors.ts';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
const PARAMETERS = ['limit', 'starting_after'];

/**
 * A list route's page, as Stripe's lists take it: `limit` (1 to 100, 10 by default) and
 * `starting_after`, the last item of the previous page (`what` names its kind in a refusal).
 * An unknown parameter is a 400 naming it.
 */
export function pageOf(event: APIGatewayProxyEvent, what: string): { limit: number; startingAfter?: string } {
  const query = event.queryStringParameters ?? {};
  const unknown = Object.keys(query).find((name) => !PARAMETERS.includes(name));
  if (unknown !== undefined) throw new ValidationError(unknown, 'is not a known parameter');
  const rawLimit = query['limit'];
  const limit = rawLimit === undefined ? DEFAULT_LIMIT : /^\d{1,3}$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new ValidationError('limit', `must be a whole number from 1 to ${MAX_LIMIT}`);
  const startingAfter = query['starting_after'];
  if (startingAfter === '') throw new ValidationError('starting_after', `must name ${what}`);
  return { limit, ...(startingAfter !== undefined && { startingAfter }) };
}
