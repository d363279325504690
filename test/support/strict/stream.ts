import type { SourceChange } from '../../../functions/domain/ledger/ledger.ts';

/** A change as the table's stream holds it: its shard's sequence number, and the images before and after. */
export interface StreamRecord {
  readonly sequence: number;
  readonly change: SourceChange;
}

/**
 * The table's stream (NEW_AND_OLD_IMAGES) as DynamoDB Streams keeps it, in memory: every write
 * of a payment or refund item is a record in the shard its key hashes to, in the order of that
 * item's writes (records of different items in different shards have no order between them).
 * Each shard has its reader's checkpoint: what comes after it is read again after a failure, so
 * every record is delivered at least once. `onRecord` tells the reader a shard has news.
 */
export class StrictStream {
  private readonly shards: StreamRecord[][];
  private readonly checkpoints: number[];
  private sequence = 0;
  onRecord: ((shard: number) => void) | undefined;

  constructor(shardCount: number) {
    this.shards = Array.from({ length: shardCount }, () => []);
    this.checkpoints = this.shards.map(() => 0);
  }

  get shardCount(): number {
    return this.shards.length;
  }

  /** A write of the item `key`: its record, in the shard the key hashes to. */
  append(key: string, change: SourceChange): void {
    const shard = shardOf(key, this.shards.length);
    this.shards[shard]?.push({ sequence: ++this.sequence, change: structuredClone(change) });
    this.onRecord?.(shard);
  }

  /** Up to `limit` records after the shard's checkpoint, oldest first. */
  read(shard: number, limit: number): StreamRecord[] {
    const from = this.checkpoints[shard] ?? 0;
    return (this.shards[shard] ?? []).slice(from, from + limit);
  }

  /** Moves the shard's checkpoint past `count` more records: they are not delivered again. */
  checkpoint(shard: number, count: number): void {
    this.checkpoints[shard] = (this.checkpoints[shard] ?? 0) + count;
  }

  /** Records written and not yet past their shard's checkpoint. */
  undelivered(): number {
    return this.shards.reduce((sum, records, i) => sum + records.length - (this.checkpoints[i] ?? 0), 0);
  }
}

/** DynamoDB's hash of the partition key, as far as a shard goes: stable, and spread. */
function shardOf(key: string, count: number): number {
  let hash = 0;
  for (const char of key) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  return hash % count;
}
