import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ValidationError } from '../../domain/errors.ts';
import { type ListCursor, type ListPage, type ListQuery, createdRange } from '../../domain/lists.ts';

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;
/** The last second of the year 9999: past it an instant has no ISO 8601 form. */
export const MAX_UNIX_SECONDS = 253_402_300_799;
export const CREATED_BOUNDS = ['gte', 'gt', 'lte', 'lt'] as const;

/** A list's own filter: its query parameter's raw value to the filter's value, or a refusal. */
export type FilterParser<T> = (raw: string) => T;

/** A filter whose value is one of `values` (a status), refused naming `name` otherwise. */
export function oneOf<T extends string>(name: string, values: readonly T[]): FilterParser<T> {
  return (raw) => {
    if (!(values as readonly string[]).includes(raw)) throw new ValidationError(name, `must be one of ${values.join(', ')}`);
    return raw as T;
  };
}

/** The page a list route was asked for, its cursors still ids. */
export interface ListRequest<F> {
  readonly query: Omit<ListQuery<F>, 'startingAfter' | 'endingBefore'>;
  readonly startingAfter?: string;
  readonly endingBefore?: string;
}

/**
 * Reads a list route's query string: `limit` (1 to 100, default 10), `starting_after` or
 * `ending_before` (a record's id), `created[gte|gt|lte|lt]` (Unix seconds) and the route's own
 * `filters`. Any other parameter, and any bad value, is a 400 naming it.
 */
export function parseListRequest<F extends Record<string, unknown>>(
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>,
  filters: { readonly [K in keyof F]: FilterParser<F[K]> },
): ListRequest<Partial<F>> {
  const query = refuseUnknownParameters(event, ['limit', 'starting_after', 'ending_before', ...CREATED_BOUNDS.map((bound) => `created[${bound}]`), ...Object.keys(filters)]);
  const limit = limitOf(query);

  const [startingAfter, endingBefore] = (['starting_after', 'ending_before'] as const).map((name) => {
    const id = query[name];
    if (id === '') throw new ValidationError(name, 'must name a record of the list');
    return id;
  });
  if (startingAfter !== undefined && endingBefore !== undefined) {
    throw new ValidationError('ending_before', 'cannot be given with starting_after');
  }

  const bounds: Partial<Record<(typeof CREATED_BOUNDS)[number], number>> = {};
  for (const bound of CREATED_BOUNDS) {
    const raw = query[`created[${bound}]`];
    if (raw === undefined) continue;
    const seconds = /^\d{1,12}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(seconds <= MAX_UNIX_SECONDS)) throw new ValidationError(`created[${bound}]`, `must be a Unix time in whole seconds, 0 to ${MAX_UNIX_SECONDS}`);
    bounds[bound] = seconds;
  }

  const parsedFilters: Partial<F> = {};
  for (const name of Object.keys(filters) as (keyof F & string)[]) {
    const raw = query[name];
    if (raw !== undefined) parsedFilters[name] = filters[name](raw);
  }
  return {
    query: { limit, ...createdRange(bounds), filters: parsedFilters },
    ...(startingAfter !== undefined && { startingAfter }),
    ...(endingBefore !== undefined && { endingBefore }),
  };
}

/**
 * Turns a cursor's id into its place in the list; an id that names no record of this merchant's
 * list (another merchant's among them) is a 400 naming the parameter, as an unknown id says
 * nothing about whether it exists.
 */
export async function withCursors<F>(
  request: ListRequest<F>,
  place: (id: string) => Promise<ListCursor | undefined>,
): Promise<ListQuery<F>> {
  const cursor = async (name: 'starting_after' | 'ending_before', id: string | undefined) => {
    if (id === undefined) return undefined;
    const found = await place(id);
    if (found === undefined) throw new ValidationError(name, `names nothing in this list: ${id}`);
    return found;
  };
  const startingAfter = await cursor('starting_after', request.startingAfter);
  const endingBefore = await cursor('ending_before', request.endingBefore);
  return { ...request.query, ...(startingAfter && { startingAfter }), ...(endingBefore && { endingBefore }) };
}

/** Refuses any query parameter a route does not take, by its name. */
export function refuseUnknownParameters(
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>,
  known: readonly string[],
): Record<string, string | undefined> {
  const query = event.queryStringParameters ?? {};
  const unknown = Object.keys(query).find((name) => !known.includes(name));
  if (unknown !== undefined) throw new ValidationError(unknown, 'is not a known parameter');
  return query;
}

/** The parameters of a list that pages one way only. */
export const PAGE_PARAMETERS: readonly string[] = ['limit', 'starting_after'];

/** `limit` (1 to 100, 10 when absent) and `starting_after` (not empty) of a list that pages one way only, Stripe's way. */
export function pageOf(query: Record<string, string | undefined>, what: string): { limit: number; startingAfter?: string } {
  const startingAfter = query['starting_after'];
  if (startingAfter === '') throw new ValidationError('starting_after', `must name ${what}`);
  return { limit: limitOf(query), ...(startingAfter !== undefined && { startingAfter }) };
}

function limitOf(query: Record<string, string | undefined>): number {
  const rawLimit = query['limit'];
  const limit = rawLimit === undefined ? DEFAULT_LIMIT : /^\d{1,3}$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new ValidationError('limit', `must be a whole number from 1 to ${MAX_LIMIT}`);
  return limit;
}

/** A list as the API answers it, Stripe's shape. */
export function listBody<T, V>(url: string, page: ListPage<T>, view: (item: T) => V): { object: 'list'; url: string; has_more: boolean; data: V[] } {
  return { object: 'list', url, has_more: page.hasMore, data: page.data.map(view) };
}
