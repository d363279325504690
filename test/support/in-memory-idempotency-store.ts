import type { IdempotencyRecord, IdempotencyStore, KeyLease, StoredResponse } from '../../functions/domain/idempotency.ts';

/**
 * The idempotency store's contract in memory, under the same conditions the DynamoDB adapter
 * writes: claim only if absent or expired; take over only from the lapsed owner and only while
 * unfinished; complete and release only by the lease's owner.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly records = new Map<string, IdempotencyRecord>();
  /** Every call, by method name, in order. */
  readonly calls: string[] = [];
  /** Errors to throw, by method name: the table cannot be reached. */
  private readonly failures = new Map<string, Error>();
  /** Runs before every call answers: a slow store, or another request acting meanwhile. */
  beforeAnswer: (() => void | Promise<void>) | undefined;

  async get(id: string) {
    await this.enter('get');
    return this.copyOf(id);
  }

  async claim(record: IdempotencyRecord, nowSeconds: number) {
    await this.enter('claim');
    const existing = this.records.get(record.id);
    if (existing !== undefined && existing.expiresAt > nowSeconds) return structuredClone(existing);
    this.records.set(record.id, structuredClone(record));
    return undefined;
  }

  async takeOver(id: string, lapsed: KeyLease, lease: KeyLease, parameters: Readonly<Record<string, string>>) {
    await this.enter('takeOver');
    const stored = this.records.get(id);
    const held = stored?.lease;
    if (stored === undefined || stored.response !== undefined) return false;
    if (held?.owner !== lapsed.owner || held.expiresAt !== lapsed.expiresAt) return false;
    this.records.set(id, { ...stored, parameters: { ...parameters }, lease: { ...lease } });
    return true;
  }

  async complete(id: string, owner: string, response: StoredResponse) {
    await this.enter('complete');
    const stored = this.records.get(id);
    if (stored?.lease?.owner !== owner) return false;
    const { lease: _, ...rest } = stored;
    this.records.set(id, { ...rest, response: structuredClone(response) });
    return true;
  }

  async release(id: string, owner: string) {
    await this.enter('release');
    if (this.records.get(id)?.lease?.owner === owner) this.records.delete(id);
  }

  /** Makes `calls` (every call, unless named) throw `error` from now on. */
  failOn(error: Error, calls: string[] = ['get', 'claim', 'takeOver', 'complete', 'release']): void {
    for (const call of calls) this.failures.set(call, error);
  }

  /** The record as stored now, a copy the caller may keep. */
  copyOf(id: string): IdempotencyRecord | undefined {
    const stored = this.records.get(id);
    return stored === undefined ? undefined : structuredClone(stored);
  }

  private async enter(call: string) {
    this.calls.push(call);
    await this.beforeAnswer?.();
    const failure = this.failures.get(call);
    if (failure !== undefined) throw failure;
  }
}
