import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { ListPage, ListQuery } from '../../domain/lists.ts';
import { translateDynamoError } from './client.ts';

/**
 * The single table's layout, shared by the repositories and the CDK construct.
 *
 * | item          | pk                     | sk        |
 * |---------------|------------------------|-----------|
 * | payment       | `PAYMENT#<payment_no>` | `PAYMENT` |
 * | API key       | `APIKEY#<sha256(key)>` | `APIKEY`  |
 * | merchant      | `MERCHANT#<id>`        | `MERCHANT`|
 * | API key reference | `MERCHANT#<id>`    | `KEY#<key_id>` |
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
 * | settlement statement | `SETTLEMENT#<merchant_id>` | `STATEMENT#<date>#<currency>` |
 * | merchant registry entry | `MERCHANTS` | `MERCHANT#<id>` |
 * | webhook endpoint | `MERCHANT#<id>` | `WEBHOOK#<endpoint_id>` |
 * | event         | `EVENT#<event_id>`     | `EVENT`   |
 * | event's delivery attempt | `EVENT#<event_id>` | `ATTEMPT#<at>#<endpoint_id>` |
 * | event's delivery outcome | `EVENT#<event_id>` | `DELIVERY#<endpoint_id>` |
 *
 * Listed records (payments, refunds, journal transactions, events) also carry the `by_merchant` index's keys (below).
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

/**
 * Index of each merchant's records of a kind by creation time, for the API's lists: every
 * record listed carries `list_pk` (`<kind>#<merchant_id>`) and `list_sk` (`<created_at>#<id>`),
 * written with the record itself, so a list never scans and never sees another merchant's.
 */
export const BY_MERCHANT_INDEX = 'by_merchant';
export const LIST_PK_ATTRIBUTE = 'list_pk';
export const LIST_SK_ATTRIBUTE = 'list_sk';

export type ListKind = 'payment' | 'refund' | 'cart' | 'journal' | 'event';

/** The `list_pk` of a merchant's records of a kind. */
export const listPartitionOf = (kind: ListKind, merchantId: string) => `${kind}#${merchantId}`;

export function listKeysOf(kind: ListKind, merchantId: string, createdAt: string, id: string) {
  return { [LIST_PK_ATTRIBUTE]: listPartitionOf(kind, merchantId), [LIST_SK_ATTRIBUTE]: `${createdAt}#${id}` };
}

/** Sort before and after every `list_sk` (an ISO 8601 time from the year 1000 on, `#`, an id of printable ASCII below `~`); a key may not be empty. */
const BEFORE_EVERY_RECORD = '0';
const AFTER_EVERY_RECORD = '~';

/**
 * One page of a merchant's list, newest first: a query of the index between the creation
 * bounds, from a cursor, with `filter` on what it reads (pages are read until the page is full
 * or the list ends, as a filter drops items after the query's limit).
 */
export async function queryList<T>(
  db: DynamoDBDocumentClient,
  tableName: string,
  list: { readonly kind: ListKind; readonly merchantId: string; readonly tableKeyOf: (id: string) => Record<string, string> },
  query: ListQuery<unknown>,
  filter?: { readonly expression: string; readonly names: Record<string, string>; readonly values: Record<string, unknown> },
): Promise<ListPage<T>> {
  const low = query.createdFrom ?? BEFORE_EVERY_RECORD;
  const high = query.createdUntil ?? AFTER_EVERY_RECORD;
  const backwards = query.endingBefore !== undefined;
  const cursor = query.endingBefore ?? query.startingAfter;
  const cursorSk = cursor === undefined ? undefined : `${cursor.createdAt}#${cursor.id}`;
  // Nothing is left between the bounds and the cursor (and DynamoDB refuses a start key outside them).
  const empty = low >= high || (cursorSk !== undefined && (backwards ? cursorSk >= high : cursorSk <= low));
  if (empty) return { data: [], hasMore: false };
  const startsInside = cursorSk !== undefined && cursorSk > low && cursorSk < high;
  let startKey: Record<string, unknown> | undefined = startsInside
    ? { ...list.tableKeyOf(cursor!.id), ...listKeysOf(list.kind, list.merchantId, cursor!.createdAt, cursor!.id) }
    : undefined;

  const wanted = query.limit + 1;
  const items: T[] = [];
  do {
    const page: QueryCommandOutput = await db
      .send(
        new QueryCommand({
          TableName: tableName,
          IndexName: BY_MERCHANT_INDEX,
          KeyConditionExpression: '#listPk = :listPk AND #listSk BETWEEN :low AND :high',
          ExpressionAttributeNames: { '#listPk': LIST_PK_ATTRIBUTE, '#listSk': LIST_SK_ATTRIBUTE, ...filter?.names },
          ExpressionAttributeValues: { ':listPk': listPartitionOf(list.kind, list.merchantId), ':low': low, ':high': high, ...filter?.values },
          ...(filter !== undefined && { FilterExpression: filter.expression }),
          ScanIndexForward: backwards,
          Limit: wanted - items.length,
          ...(startKey !== undefined && { ExclusiveStartKey: startKey }),
        }),
      )
      .catch(translateDynamoError);
    items.push(...((page.Items ?? []) as T[]));
    startKey = page.LastEvaluatedKey;
  } while (items.length < wanted && startKey !== undefined);

  const data = items.slice(0, query.limit);
  return { data: backwards ? data.reverse() : data, hasMore: items.length > query.limit };
}

/**
 * Every merchant has an entry in one registry partition, written with the merchant: what the
 * settlement schedule enumerates (one query, never a scan), and where it keeps its place.
 */
export const MERCHANT_REGISTRY_PARTITION = 'MERCHANTS';
export const merchantRegistrySk = (merchantId: string) => `MERCHANT#${merchantId}`;
