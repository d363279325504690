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

/** Freezes a stored value and everything in it: a caller that tries to change what it read fails loudly. */
export function frozen<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) frozen(inner);
    Object.freeze(value);
  }
  return value;
}
