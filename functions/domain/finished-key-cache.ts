import type { IdempotencyRecord, IdempotencyStore } from './idempotency.ts';

/**
 * Keeps the records of finished requests in this process, so a repeat of a key this
 * function instance has already seen answered costs no DynamoDB request at all.
 *
 * Sound because a finished record never changes: only its lease owner can complete it, once,
 * and a completed record is never released. Its expiry still applies: the layer treats an
 * expired record as absent and claims the key at the store, which this cache never answers.
 * Unfinished records are never kept: their state is the store's alone.
 */
export function withFinishedKeyCache(store: IdempotencyStore, maxEntries: number): IdempotencyStore {
  const finished = new Map<string, IdempotencyRecord>();
  const keep = (record: IdempotencyRecord | undefined) => {
    if (record?.response === undefined) return record;
    finished.delete(record.id);
    finished.set(record.id, record);
    // A Map iterates in insertion order: the first key is the one used longest ago.
    if (finished.size > maxEntries) finished.delete(finished.keys().next().value as string);
    return record;
  };
  return {
    async get(id) {
      const cached = finished.get(id);
      return cached === undefined ? keep(await store.get(id)) : keep(cached);
    },
    async claim(record, nowSeconds) {
      return keep(await store.claim(record, nowSeconds));
    },
    takeOver: (id, lapsed, lease, parameters) => store.takeOver(id, lapsed, lease, parameters),
    complete: (id, owner, response) => store.complete(id, owner, response),
    release: (id, owner) => store.release(id, owner),
  };
}
