/**
 * The single table's layout, shared by the repositories and the CDK construct.
 *
 * | item          | pk                     | sk        |
 * |---------------|------------------------|-----------|
 * | payment       | `PAYMENT#<payment_no>` | `PAYMENT` |
 * | API key       | `APIKEY#<sha256(key)>` | `APIKEY`  |
 * | merchant      | `MERCHANT#<id>`        | `MERCHANT`|
 */
export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
/** DynamoDB deletes items whose `expires_at` (epoch seconds) has passed. */
export const TTL_ATTRIBUTE = 'expires_at';

/**
 * Sparse index of unfinished payments by the time the reconciler should look at them.
 * Only non-terminal payments carry `due_shard`/`due_at`, so a query's cost follows the number
 * of stuck payments, never the size of the table; the shards spread the writes of a busy
 * checkout over several partitions.
 */
export const BY_DUE_INDEX = 'by_due';
export const DUE_SHARD_ATTRIBUTE = 'due_shard';
export const DUE_AT_ATTRIBUTE = 'due_at';
export const DUE_SHARDS = 8;

export function dueShardOf(paymentNo: string): string {
  const last = paymentNo.charCodeAt(paymentNo.length - 1);
  return `payment#${last % DUE_SHARDS}`;
}
