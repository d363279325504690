import {
  type AttributeValue,
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactGetCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ConcurrentModificationError } from '../../domain/errors.ts';
import type { Currency } from '../../domain/money.ts';
import type { Payment } from '../../domain/payment.ts';
import type { ListPage, ListQuery } from '../../domain/lists.ts';
import type { Refund, RefundCreation, RefundLister, RefundRepository, RefundStatus } from '../../domain/refund.ts';
import { translateDynamoError } from './client.ts';
import { type PaymentItem, fromItem as paymentFromItem, keyOf as paymentKeyOf } from './payment-repository.ts';
import { dueShardOf, listKeysOf, queryDue, queryList } from './table.ts';

/** A refund as stored: its own item, listed on its payment by `refund_nos`. */
export interface RefundItem {
  pk: string;
  sk: 'REFUND';
  type: 'refund';
  refund_no: string;
  payment_no: string;
  merchant_id: string;
  amount: number;
  currency: string;
  reason?: string;
  operator_id: string;
  expected_amount_refunded?: number;
  charge_id: string;
  status: RefundStatus;
  version: number;
  provider_refund_id?: string;
  failure_reason?: string;
  created_at: string;
  updated_at: string;
  resume_count: number;
  /** The `by_merchant` index: the merchant's refunds, newest first. */
  list_pk: string;
  list_sk: string;
  due_shard?: string;
  due_at?: string;
}

const keyOf = (refundNo: string) => ({ pk: `REFUND#${refundNo}`, sk: 'REFUND' as const });
const DUE_PREFIX = 'refund';
const TRANSACT_GET_LIMIT = 100;

export class DynamoRefundRepository implements RefundRepository, RefundLister {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listForMerchant(merchantId: string, query: ListQuery<{ readonly paymentNo?: string }>): Promise<ListPage<Refund>> {
    const { paymentNo } = query.filters;
    const page = await queryList<RefundItem>(
      this.db,
      this.tableName,
      { kind: 'refund', merchantId, tableKeyOf: keyOf },
      query,
      paymentNo === undefined ? undefined : { expression: 'payment_no = :paymentNo', names: {}, values: { ':paymentNo': paymentNo } },
    );
    return { data: page.data.map(fromItem), hasMore: page.hasMore };
  }

  async get(refundNo: string): Promise<Refund | undefined> {
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: keyOf(refundNo), ConsistentRead: true }))
      .catch(translateDynamoError);
    return Item ? fromItem(Item as RefundItem) : undefined;
  }

  async create(refund: Refund): Promise<RefundCreation> {
    const expected = refund.expectedAmountRefunded;
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: toItem(refund),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: paymentKeyOf(refund.paymentNo),
                UpdateExpression:
                  'SET amount_refunded = amount_refunded + :amount, amount_refundable = amount_refundable - :amount, ' +
                  '#version = #version + :one, updated_at = :now, refund_nos = list_append(if_not_exists(refund_nos, :none), :refund)',
                ConditionExpression:
                  '#status = :succeeded AND merchant_id = :merchant AND amount_refundable >= :amount' +
                  (expected === undefined ? '' : ' AND amount_refunded = :expected'),
                ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
                ExpressionAttributeValues: {
                  ':amount': refund.amount,
                  ':one': 1,
                  ':now': refund.createdAt,
                  ':none': [],
                  ':refund': [refund.refundNo],
                  ':succeeded': 'succeeded',
                  ':merchant': refund.merchantId,
                  ...(expected !== undefined && { ':expected': expected }),
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      );
      return { outcome: 'created' };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) return translateDynamoError(error);
      const [refundReason, paymentReason] = error.CancellationReasons ?? [];
      // The refund's own condition first: a repeat also fails the payment's (its amount is already taken).
      if (refundReason?.Code === 'ConditionalCheckFailed') {
        const existing = await this.get(refund.refundNo);
        if (existing) return { outcome: 'exists', refund: existing };
      }
      if (paymentReason?.Code === 'ConditionalCheckFailed') {
        const item = paymentReason.Item as Record<string, AttributeValue> | undefined;
        return { outcome: 'refused', payment: item ? paymentFromItem(unmarshall(item) as PaymentItem) : undefined };
      }
      // A conflict with another transaction in flight on the same items: worth another try.
      throw new ConcurrentModificationError(`refund ${refund.refundNo} met a concurrent transaction`, {
        cause: error,
        retryAfterSeconds: 1,
      });
    }
  }

  async replace(current: Refund, next: Refund): Promise<Refund> {
    try {
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: toItem(next), ...versionCondition(current) }),
      );
      return next;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw stale(current);
      return translateDynamoError(error);
    }
  }

  async fail(current: Refund, next: Refund): Promise<Refund> {
    return this.moveAmount(current, next, -current.amount);
  }

  async revive(current: Refund, next: Refund): Promise<Refund> {
    return this.moveAmount(current, next, current.amount);
  }

  /**
   * The refund replaced, and `amount` added to its payment's refunded total (taken from what
   * is left to refund, which must stay at 0 or more), in one transaction.
   */
  private async moveAmount(current: Refund, next: Refund, amount: number): Promise<Refund> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: toItem(next), ...versionCondition(current) } },
            {
              Update: {
                TableName: this.tableName,
                Key: paymentKeyOf(current.paymentNo),
                UpdateExpression:
                  'SET amount_refunded = amount_refunded + :amount, amount_refundable = amount_refundable - :amount, ' +
                  '#version = #version + :one, updated_at = :now',
                ConditionExpression: 'amount_refundable >= :amount',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':amount': amount, ':one': 1, ':now': next.updatedAt },
              },
            },
          ],
        }),
      );
      return next;
    } catch (error) {
      // Lost to another writer of the refund, to a transaction in flight, or (a revive) to a
      // refund that took the amount meanwhile: read again, later.
      if (error instanceof TransactionCanceledException) throw stale(current);
      return translateDynamoError(error);
    }
  }

  /**
   * Reads the payment's refunds and the payment again in one transaction, so the refunded
   * total and the refunds' statuses come from the same instant (a refund failing between two
   * plain reads would show a failed refund still counted in the total). Returns the payment
   * as read with them.
   */
  async listForPayment(payment: Payment): Promise<{ payment: Payment; refunds: Refund[] }> {
    const refundNos = payment.refundNos ?? [];
    if (refundNos.length === 0) return { payment, refunds: [] };
    // TransactGetItems reads at most 100 items: the payment and its first 99 refunds.
    const { Responses } = await this.db
      .send(
        new TransactGetCommand({
          TransactItems: [paymentKeyOf(payment.paymentNo), ...refundNos.slice(0, TRANSACT_GET_LIMIT - 1).map(keyOf)].map(
            (Key) => ({ Get: { TableName: this.tableName, Key } }),
          ),
        }),
      )
      .catch(translateDynamoError);
    const [paymentItem, ...refundItems] = (Responses ?? []).map((response) => response.Item);
    return {
      payment: paymentItem ? paymentFromItem(paymentItem as PaymentItem) : payment,
      refunds: refundItems.filter((item) => item !== undefined).map((item) => fromItem(item as RefundItem)),
    };
  }

  async listDue(now: Date, limit: number) {
    return (await queryDue<RefundItem>(this.db, this.tableName, 'refund', now, limit)).map(fromItem);
  }

}

function versionCondition(current: Refund) {
  return {
    ConditionExpression: '#status = :status AND #version = :version',
    ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
    ExpressionAttributeValues: { ':status': current.status, ':version': current.version },
  };
}

function stale(current: Refund): ConcurrentModificationError {
  return new ConcurrentModificationError(`refund ${current.refundNo} moved on from version ${current.version}`);
}

function toItem(refund: Refund): RefundItem {
  // Due while the domain gives it a due time: pending, or failed and waiting for one more look.
  const unfinished = refund.reconcileAt !== undefined;
  return {
    ...keyOf(refund.refundNo),
    type: 'refund',
    refund_no: refund.refundNo,
    payment_no: refund.paymentNo,
    merchant_id: refund.merchantId,
    amount: refund.amount,
    currency: refund.currency,
    reason: refund.reason,
    operator_id: refund.operatorId,
    expected_amount_refunded: refund.expectedAmountRefunded,
    charge_id: refund.chargeId,
    status: refund.status,
    version: refund.version,
    provider_refund_id: refund.providerRefundId,
    failure_reason: refund.failureReason,
    created_at: refund.createdAt,
    updated_at: refund.updatedAt,
    resume_count: refund.resumeCount,
    ...(unfinished && { due_shard: dueShardOf(refund.refundNo, DUE_PREFIX), due_at: refund.reconcileAt }),
    ...listKeysOf('refund', refund.merchantId, refund.createdAt, refund.refundNo),
  };
}

export function fromItem(item: RefundItem): Refund {
  return {
    refundNo: item.refund_no,
    paymentNo: item.payment_no,
    merchantId: item.merchant_id,
    amount: item.amount,
    currency: item.currency as Currency,
    ...(item.reason !== undefined && { reason: item.reason }),
    operatorId: item.operator_id,
    ...(item.expected_amount_refunded !== undefined && { expectedAmountRefunded: item.expected_amount_refunded }),
    chargeId: item.charge_id,
    status: item.status,
    version: item.version,
    ...(item.provider_refund_id !== undefined && { providerRefundId: item.provider_refund_id }),
    ...(item.failure_reason !== undefined && { failureReason: item.failure_reason }),
    createdAt: item.created_at,
    updatedAt: item.updated_at,
    ...(item.due_at !== undefined && { reconcileAt: item.due_at }),
    resumeCount: item.resume_count,
  };
}
