/**
 * What a list of a merchant's records asks for, as Stripe's lists do: newest first, a page of
 * `limit`, after or before a record of the list (its cursor), within a range of creation
 * times, and any filters of the kind of record listed.
 */
export interface ListQuery<F = Record<never, never>> {
  readonly limit: number;
  /** Older than this record. */
  readonly startingAfter?: ListCursor;
  /** Newer than this record (the page before it). */
  readonly endingBefore?: ListCursor;
  /** Created at or after this instant (ISO 8601). */
  readonly createdFrom?: string;
  /** Created before this instant (ISO 8601). */
  readonly createdUntil?: string;
  readonly filters: F;
}

/** Where a record stands in its list: its creation time, then its id among records created at the same instant. */
export interface ListCursor {
  readonly createdAt: string;
  readonly id: string;
}

export interface ListPage<T> {
  /** Newest first. */
  readonly data: readonly T[];
  /** Whether the list goes on past the page, in the direction it was read. */
  readonly hasMore: boolean;
}

/** `created[gte|gt|lte|lt]` in Unix seconds, as the half-open range of instants they leave. A record's `created` is its creation time's whole second. */
export function createdRange(bounds: { readonly gte?: number; readonly gt?: number; readonly lte?: number; readonly lt?: number }): {
  readonly createdFrom?: string;
  readonly createdUntil?: string;
} {
  const fromSeconds = Math.max(bounds.gte ?? -Infinity, bounds.gt === undefined ? -Infinity : bounds.gt + 1);
  const untilSeconds = Math.min(bounds.lt ?? Infinity, bounds.lte === undefined ? Infinity : bounds.lte + 1);
  return {
    ...(fromSeconds !== -Infinity && { createdFrom: new Date(fromSeconds * 1000).toISOString() }),
    ...(untilSeconds !== Infinity && { createdUntil: new Date(untilSeconds * 1000).toISOString() }),
  };
}
