import type { IdempotencyRecord, IdempotencyStore, KeyLease, StoredResponse } from '../../../functions/domain/idempotency.ts';
import type { Clock } from '../../../functions/domain/ports.ts';
import { frozen } from './trailing-view.ts';

/**
 * The idempotency store with the DynamoDB adapter's conditions, in memory: `claim` only where
 * no record exists or it expired (`attribute_not_exists(pk) OR expires_at <= :now`); `takeOver`
 * only from the lapsed lease, exactly as read, of a record without an answer (the taker's parameters
 * replacing the first request's); `complete` and
 * `release` only by the lease's owner. An expired record stays readable until the table's TTL
 * deletes it, some time later: {@link sweepExpired} is that deletion, when the caller says.
 * Answers are kept as JSON text, as the adapter keeps them.
 */
export class StrictIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, IdempotencyRecord>();

  constructor(private readonly clock: Clock) {}

  async get(id: string): Promise<IdempotencyRecord | undefined> {
    return this.records.get(id);
  }

  async claim(record: IdempotencyRecord, nowSeconds: number): Promise<IdempotencyRecord | undefined> {
    const existing = this.records.get(record.id);
    if (existing !== undefined && existing.expiresAt > nowSeconds) return existing;
    this.store(record);
    return undefined;
  }

  async takeOver(id: string, lapsed: KeyLease, lease: KeyLease, parameters: Readonly<Record<string, string>>): Promise<boolean> {
    const stored = this.records.get(id);
    if (stored === undefined || stored.response !== undefined) return false;
    if (stored.lease?.owner !== lapsed.owner || stored.lease.expiresAt !== lapsed.expiresAt) return false;
    this.store({ ...stored, lease, parameters });
    return true;
  }

  async complete(id: string, owner: string, response: StoredResponse): Promise<boolean> {
    const stored = this.records.get(id);
    if (stored?.lease?.owner !== owner) return false;
    const { lease: _ended, ...rest } = stored;
    this.store({ ...rest, response: { status: response.status, body: JSON.parse(JSON.stringify(response.body ?? null)) } });
    return true;
  }

  async release(id: string, owner: string): Promise<void> {
    if (this.records.get(id)?.lease?.owner === owner) this.records.delete(id);
  }

  /** A record as a request long gone left it, written past every condition: how a test sets the table up. */
  put(record: IdempotencyRecord): void {
    this.store(record);
  }

  /** DynamoDB's TTL deletes what expired, as it does some time after `expires_at`. */
  sweepExpired(): number {
    const nowSeconds = this.clock().getTime() / 1000;
    let deleted = 0;
    for (const [id, record] of this.records) {
      if (record.expiresAt <= nowSeconds) {
        this.records.delete(id);
        deleted++;
      }
    }
    return deleted;
  }

  all(): IdempotencyRecord[] {
    return [...this.records.values()];
  }

  private store(record: IdempotencyRecord): void {
    this.records.set(record.id, frozen(structuredClone(record)));
  }
}
