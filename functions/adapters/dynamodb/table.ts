import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { translateDynamoError } from './client.ts';

/**
 * The single table's layout, shared by the repositories and the CDK construct.
 *
 * | item          | pk                     | sk        |
 * |---------------|------------------------|-----------|
 * | payment       | `PAYMENT#<payment_no>` | `PAYMENT` |
 * | API key       | `APIKEY#<sha256(key)>` | `APIKEY`  |
 * | merchant      | `MERCHANT#<id>`        | `MERCHANT`|
 * | refund        | `REFUND#<refund_no>`   | `REFUND`  |
 * | idempotency key | `IDEMPOTENCY#<sha256(merchant, scope, key)>` | `IDEMPOTENCY` |
 * | class         | `CLASS#<merchant_id>#<class_id>` | `CLASS` |
 * | seat hold     | `CLASS#<merchant_id>#<class_id>` | `HOLD#<cart_id>#<swimmer_id>` |
 * | student       | `CLASS#<merchant_id>#<class_id>` | `STUDENT#<account_id>#<swimmer_id>` |
 * | account       | `ACCOUNT#<merchant_id>#<account_id>` | `ACCOUNT` |
 * | swimmer       | `ACCOUNT#<merchant_id>#<account_id>` | `SWIMMER#<swimmer_id>` |
 * | points grant  | `ACCOUNT#<merchant_id>#<account_id>` | `POINTS#<grant_no>` |
 * | purchase      | `ACCOUNT#<merchant_id>#<account_id>` | `PURCHASE#<purchase_key>` |
 * | cart          | `CART#<cart_id>`       | `CART`    |
 * | journal transaction | `LEDGER#<merchant_id>` | `JOURNAL#<source key>` |
 * | balance transaction | `LEDGER#<merchant_id>` | `BTXN#<created_at>|<source key>` |
 * | balance       | `LEDGER#<merchant_id>` | `BALANCE#<currency>` |
 * | payout        | `LEDGER#<merchant_id>` | `PAYOUT#<created_at>|<payout_no>` |
 * | payout's place | `PAYOUT#<payout_no>`  | `PAYOUT`  |
 *
 * Client-chosen ids (classes, accounts, swimmers) carry their merchant in the key, so two
 * merchants may use the same id.
 */
export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
/** DynamoDB deletes items whose `expires_at` (epoch seconds) has passed. */
export const TTL_ATTRIBUTE = 'expires_at';

/**
 * Sparse index of unfinished work by the time the schedule should look at it: payments,
 * refunds, carts, seat holds, charges whose funds are pending and payouts not final. Only unfinished items carry `due_shard`/`due_at`, so a
 * query's cost follows the number of stuck items, never the size of the table; the shards
 * spread the writes of a busy checkout over several partitions.
 */
export const BY_DUE_INDEX = 'by_due';
export const DUE_SHARD_ATTRIBUTE = 'due_shard';
export const DUE_AT_ATTRIBUTE = 'due_at';
export const DUE_SHARDS = 8;

/** The kinds of item that share the index, each under its own shard names. */
export type DueKind = 'payment' | 'refund' | 'cart' | 'hold' | 'charge' | 'payout';

export function dueShardOf(id: string, kind: DueKind = 'payment'): string {
  const last = id.charCodeAt(id.length - 1);
  return `${kind}#${last % DUE_SHARDS}`;
}

/**
 * The items of one kind whose due time has passed, oldest first, at most `limit`: one query
 * per shard, so the cost follows the number of due items, never the size of the table.
 */
export async function queryDue<T extends { due_at?: string }>(
  db: DynamoDBDocumentClient,
  tableName: string,
  kind: DueKind,
  now: Date,
  limit: number,
): Promise<T[]> {
  const pages = await Promise.all(
    Array.from({ length: DUE_SHARDS }, (_, shard) =>
      db
        .send(
          new QueryCommand({
            TableName: tableName,
            IndexName: BY_DUE_INDEX,
            KeyConditionExpression: 'due_shard = :shard AND due_at <= :now',
            ExpressionAttributeValues: { ':shard': `${kind}#${shard}`, ':now': now.toISOString() },
            Limit: limit,
          }),
        )
        .catch(translateDynamoError),
    ),
  );
  return pages
    .flatMap((page) => (page.Items ?? []) as T[])
    .sort((a, b) => (a.due_at ?? '').localeCompare(b.due_at ?? ''))
    .slice(0, limit);
}
