import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModificationError } from '../../domain/errors.ts';
import type { Posting } from '../../domain/ledger/postings.ts';
import type { Currency } from '../../domain/money.ts';
import type { Payout, PayoutCreation, PayoutStatus, PayoutStore } from '../../domain/payout.ts';
import { translateDynamoError } from './client.ts';
import { ledgerPartitionOf as partitionOf, postingWrites } from './ledger-store.ts';
import { dueShardOf, queryDue } from './table.ts';

/** A payout as stored, in its merchant's ledger partition, sorted by creation. */
export interface PayoutItem {
  pk: string;
  sk: string;
  type: 'payout';
  payout_no: string;
  merchant_id: string;
  amount: number;
  currency: string;
  description?: string;
  status: PayoutStatus;
  version: number;
  balance_transaction_id: string;
  provider_payout_id?: string;
  arrival_date?: string;
  failure_reason?: string;
  created_at: string;
  updated_at: string;
  resume_count: number;
  due_shard?: string;
  due_at?: string;
}

/** Where a payout is, found by its payout_no alone (what a saga step or a GET knows); never changes. */
interface PayoutPlaceItem {
  pk: string;
  sk: 'PAYOUT';
  type: 'payout_place';
  merchant_id: string;
  created_at: string;
}

const PAYOUT_PREFIX = 'PAYOUT#';
const payoutSk = (createdAt: string, payoutNo: string) => `${PAYOUT_PREFIX}${createdAt}|${payoutNo}`;
const placeKey = (payoutNo: string) => ({ pk: `PAYOUT#${payoutNo}`, sk: 'PAYOUT' as const });

/**
 * Payouts in the payments table: each in its merchant's ledger partition
 * (`PAYOUT#<created_at>|<payout_no>`, so a merchant's list is one query, newest first), beside
 * the balance its making moves in the same transaction; and its place (`PAYOUT#<payout_no>`),
 * written with it, which finds it from its payout_no and makes a second payout under the same
 * payout_no impossible.
 */
export class DynamoPayoutStore implements PayoutStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(payoutNo: string): Promise<Payout | undefined> {
    const place = await this.getItem<PayoutPlaceItem>(placeKey(payoutNo));
    if (place === undefined) return undefined;
    const item = await this.getItem<PayoutItem>({ pk: partitionOf(place.merchant_id), sk: payoutSk(place.created_at, payoutNo) });
    return item === undefined ? undefined : fromItem(item);
  }

  async create(payout: Payout, posting: Posting): Promise<PayoutCreation> {
    const place: PayoutPlaceItem = { ...placeKey(payout.payoutNo), type: 'payout_place', merchant_id: payout.merchantId, created_at: payout.createdAt };
    const writes = postingWrites(this.tableName, posting, payout.amount);
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: place, ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: this.tableName, Item: toItem(payout), ConditionExpression: 'attribute_not_exists(pk)' } },
            ...writes,
          ],
        }),
      );
      return { outcome: 'created' };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) return translateDynamoError(error);
      const reasons = error.CancellationReasons ?? [];
      // Its place first: a repeat also finds its journal key taken (and maybe the balance short).
      if (reasons[0]?.Code === 'ConditionalCheckFailed') {
        const existing = await this.get(payout.payoutNo);
        if (existing !== undefined) return { outcome: 'exists', payout: existing };
      }
      const balance = reasons[2 + posting.transactions.length];
      if (balance?.Code === 'ConditionalCheckFailed') return { outcome: 'insufficient_funds' };
      throw new ConcurrentModificationError(`payout ${payout.payoutNo} met a concurrent transaction`, { cause: error, retryAfterSeconds: 1 });
    }
  }

  async replace(current: Payout, next: Payout, posting?: Posting): Promise<Payout> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: toItem(next),
                ConditionExpression: '#status = :status AND #version = :version',
                ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
                ExpressionAttributeValues: { ':status': current.status, ':version': current.version },
              },
            },
            ...(posting === undefined ? [] : postingWrites(this.tableName, posting)),
          ],
        }),
      );
      return next;
    } catch (error) {
      // Lost to another writer of the payout, or to a transaction in flight on its balance: read again.
      if (error instanceof TransactionCanceledException) {
        throw new ConcurrentModificationError(`payout ${current.payoutNo} moved on from version ${current.version}`, { cause: error });
      }
      return translateDynamoError(error);
    }
  }

  async list(merchantId: string, page: { limit: number; startingAfter?: Payout }) {
    const pk = partitionOf(merchantId);
    const after = page.startingAfter;
    const { Items = [] } = await this.db
      .send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': PAYOUT_PREFIX },
          ScanIndexForward: false,
          ConsistentRead: true,
          // One more than asked: whether there is a next page, without a second query.
          Limit: page.limit + 1,
          ...(after !== undefined && { ExclusiveStartKey: { pk, sk: payoutSk(after.createdAt, after.payoutNo) } }),
        }),
      )
      .catch(translateDynamoError);
    const data = (Items as PayoutItem[]).map(fromItem);
    return { data: data.slice(0, page.limit), hasMore: data.length > page.limit };
  }

  async listDue(now: Date, limit: number): Promise<Payout[]> {
    return (await queryDue<PayoutItem>(this.db, this.tableName, 'payout', now, limit)).map(fromItem);
  }

  private async getItem<T>(key: { pk: string; sk: string }): Promise<T | undefined> {
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))
      .catch(translateDynamoError);
    return Item as T | undefined;
  }
}

function toItem(payout: Payout): PayoutItem {
  return {
    pk: partitionOf(payout.merchantId),
    sk: payoutSk(payout.createdAt, payout.payoutNo),
    type: 'payout',
    payout_no: payout.payoutNo,
    merchant_id: payout.merchantId,
    amount: payout.amount,
    currency: payout.currency,
    ...(payout.description !== undefined && { description: payout.description }),
    status: payout.status,
    version: payout.version,
    balance_transaction_id: payout.balanceTransactionId,
    ...(payout.providerPayoutId !== undefined && { provider_payout_id: payout.providerPayoutId }),
    ...(payout.arrivalDate !== undefined && { arrival_date: payout.arrivalDate }),
    ...(payout.failureReason !== undefined && { failure_reason: payout.failureReason }),
    created_at: payout.createdAt,
    updated_at: payout.updatedAt,
    resume_count: payout.resumeCount,
    // Due while the domain gives it a due time: not final yet.
    ...(payout.reconcileAt !== undefined && { due_shard: dueShardOf(payout.payoutNo, 'payout'), due_at: payout.reconcileAt }),
  };
}

export function fromItem(item: PayoutItem): Payout {
  return {
    payoutNo: item.payout_no,
    merchantId: item.merchant_id,
    amount: item.amount,
    currency: item.currency as Currency,
    ...(item.description !== undefined && { description: item.description }),
    status: item.status,
    version: item.version,
    balanceTransactionId: item.balance_transaction_id,
    ...(item.provider_payout_id !== undefined && { providerPayoutId: item.provider_payout_id }),
    ...(item.arrival_date !== undefined && { arrivalDate: item.arrival_date }),
    ...(item.failure_reason !== undefined && { failureReason: item.failure_reason }),
    createdAt: item.created_at,
    updatedAt: item.updated_at,
    ...(item.due_at !== undefined && { reconcileAt: item.due_at }),
    resumeCount: item.resume_count,
  };
}
