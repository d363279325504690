/**
 * A read that trails the writes it reflects, as a DynamoDB global secondary index or Stripe's
 * search index does: it answers from a snapshot no older than `maxLagMs` of the clock, and
 * `catchUp()` brings it up to date (the index caught up). Without a lag it reads the source.
 */
export class TrailingView<T> {
  private snapshot: { readonly value: T; readonly takenAtMs: number } | undefined;

  constructor(
    private readonly read: () => T,
    private readonly nowMs: () => number,
    private readonly maxLagMs: number | undefined,
  ) {}

  current(): T {
    if (this.maxLagMs === undefined) return this.read();
    if (this.snapshot === undefined || this.nowMs() - this.snapshot.takenAtMs > this.maxLagMs) this.catchUp();
    return (this.snapshot as { value: T }).value;
  }

  catchUp(): void {
    this.snapshot = { value: this.read(), takenAtMs: this.nowMs() };
  }
}

/**
 * The sparse `by_due` index the reconciler queries: the records that carry a due time, as a
 * global secondary index holds them (possibly behind the table), oldest due first.
 */
export class DueIndex<T extends { readonly reconcileAt?: string }> {
  private readonly view: TrailingView<readonly T[]>;

  constructor(indexed: () => readonly T[], nowMs: () => number, maxLagMs: number | undefined) {
    this.view = new TrailingView(indexed, nowMs, maxLagMs);
  }

  /** The records due at `now`, oldest due first, at most `limit`. */
  due(now: Date, limit: number): T[] {
    const at = now.toISOString();
    return this.view
      .current()
      .filter((record) => (record.reconcileAt as string) <= at)
      .sort((a, b) => (a.reconcileAt as string).localeCompare(b.reconcileAt as string))
      .slice(0, limit);
  }

  catchUp(): void {
    this.view.catchUp();
  }
}

/** Freezes a stored value and everything in it: a caller that tries to change what it read fails loudly. */
export function frozen<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) frozen(inner);
    Object.freeze(value);
  }
  return value;
}
