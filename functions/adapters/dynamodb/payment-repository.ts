import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Currency } from '../../domain/money.ts';
import {
  type Attention,
  type CancellationReason,
  type CaptureDecision,
  type CaptureMethod,
  type Payment,
  type PaymentPatch,
  type PaymentStatus,
  type RemovableField,
  isTerminal,
} from '../../domain/payment.ts';
import type { ListPage, ListQuery } from '../../domain/lists.ts';
import { type PaymentLister, type PaymentRepository, StaleWriteError } from '../../domain/ports.ts';
import { translateDynamoError } from './client.ts';
import { dueShardOf, listKeysOf, queryDue, queryList } from './table.ts';

/** A payment as stored: one item, keyed by its payment_no. */
export interface PaymentItem {
  pk: string;
  sk: 'PAYMENT';
  type: 'payment';
  payment_no: string;
  merchant_id: string;
  order_no: string;
  amount: number;
  currency: string;
  payment_method: string;
  customer_email?: string;
  description?: string;
  metadata?: Record<string, string>;
  status: PaymentStatus;
  version: number;
  charge_id?: string;
  amount_captured: number;
  amount_refunded: number;
  /**
   * What is left to refund: the condition a refund's transaction checks and decrements, as a
   * condition cannot add `amount_refunded` and the refund's amount itself.
   */
  amount_refundable: number;
  refund_nos?: string[];
  decline_code?: string;
  created_at: string;
  updated_at: string;
  created_by?: string;
  resume_count: number;
  capture_before?: string;
  lease_owner?: string;
  lease_expires_at?: string;
  needs_attention?: Attention;
  capture_method?: typeof CaptureMethod.Manual;
  capture_decision?: CaptureDecision;
  cancellation_reason?: CancellationReason;
  /** The `by_merchant` index: the merchant's payments, newest first. */
  list_pk: string;
  list_sk: string;
  /** Present only while the payment is unfinished: the sparse `by_due` index. */
  due_shard?: string;
  due_at?: string;
}

export const keyOf = (paymentNo: string) => ({ pk: `PAYMENT#${paymentNo}`, sk: 'PAYMENT' as const });

export class DynamoPaymentRepository implements PaymentRepository, PaymentLister {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(paymentNo: string): Promise<Payment | undefined> {
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: keyOf(paymentNo), ConsistentRead: true }))
      .catch(translateDynamoError);
    return Item ? fromItem(Item as PaymentItem) : undefined;
  }

  async create(payment: Payment) {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(payment),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true as const, payment };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return { created: false as const, payment: fromItem(unmarshalled(error.Item)) };
      }
      return translateDynamoError(error);
    }
  }

  async replace(current: Payment, next: Payment): Promise<Payment> {
    if (next.version !== current.version + 1 || next.paymentNo !== current.paymentNo) {
      throw new Error('a replacement must be the next version of the same payment');
    }
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(next),
          ConditionExpression: '#status = :status AND #version = :version',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: { ':status': current.status, ':version': current.version },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return next;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new StaleWriteError(error.Item ? fromItem(unmarshalled(error.Item)) : undefined);
      }
      return translateDynamoError(error);
    }
  }

  async update(expected: Pick<Payment, 'paymentNo' | 'status' | 'version'>, patch: PaymentPatch): Promise<Payment> {
    if (patch.set.version !== expected.version + 1) throw new Error('a patch must write the next version of the payment');
    const { set, remove } = updateOf(expected.paymentNo, patch);
    const names: Record<string, string> = { '#status': 'status', '#version': 'version' };
    const values: Record<string, unknown> = { ':expectedStatus': expected.status, ':expectedVersion': expected.version };
    const assignments = Object.entries(set).map(([attribute, value], i) => {
      names[`#s${i}`] = attribute;
      values[`:s${i}`] = value;
      return `#s${i} = :s${i}`;
    });
    // What is left to refund follows what was captured, less what is refunded, which only the item knows.
    if (patch.set.amountCaptured !== undefined) {
      assignments.push('amount_refundable = :s_captured - amount_refunded');
      values[':s_captured'] = patch.set.amountCaptured;
    }
    const removals = remove.map((attribute, i) => {
      names[`#r${i}`] = attribute;
      return `#r${i}`;
    });
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(expected.paymentNo),
          UpdateExpression: `SET ${assignments.join(', ')}${removals.length > 0 ? ` REMOVE ${removals.join(', ')}` : ''}`,
          ConditionExpression: '#status = :expectedStatus AND #version = :expectedVersion',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return fromItem(Attributes as PaymentItem);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new StaleWriteError(error.Item ? fromItem(unmarshalled(error.Item)) : undefined);
      }
      return translateDynamoError(error);
    }
  }

  async listDue(now: Date, limit: number) {
    return (await queryDue<PaymentItem>(this.db, this.tableName, 'payment', now, limit)).map(fromItem);
  }

  async listForMerchant(merchantId: string, query: ListQuery<{ readonly status?: PaymentStatus }>): Promise<ListPage<Payment>> {
    const { status } = query.filters;
    const page = await queryList<PaymentItem>(
      this.db,
      this.tableName,
      { kind: 'payment', merchantId, tableKeyOf: keyOf },
      query,
      status === undefined ? undefined : { expression: '#status = :status', names: { '#status': 'status' }, values: { ':status': status } },
    );
    return { data: page.data.map(fromItem), hasMore: page.hasMore };
  }

}

/** The failed condition's item arrives in DynamoDB's wire format; the document client does not convert it. */
function unmarshalled(item: Record<string, AttributeValue>): PaymentItem {
  return unmarshall(item) as PaymentItem;
}

/**
 * The attributes of the fields a patch may set (those RecordAuthorization and MarkSucceeded
 * write), as {@link toItem} writes them. A patch of any other field is refused rather than
 * written under a name the item may not use.
 */
const patchableAttributes = {
  status: 'status',
  version: 'version',
  updatedAt: 'updated_at',
  chargeId: 'charge_id',
  amountCaptured: 'amount_captured',
  captureBefore: 'capture_before',
} as const satisfies Partial<Record<keyof Payment, keyof PaymentItem>>;

/** The attributes a patch sets and removes, derived ones (the due index's) included. */
function updateOf(paymentNo: string, patch: PaymentPatch): { set: Record<string, unknown>; remove: string[] } {
  const set: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch.set)) {
    if (field === 'reconcileAt') {
      Object.assign(set, { due_shard: dueShardOf(paymentNo), due_at: value });
    } else if (field in patchableAttributes) {
      set[patchableAttributes[field as keyof typeof patchableAttributes]] = value;
    } else {
      throw new Error(`a patch of payment ${paymentNo} cannot set ${field}`);
    }
  }
  const removed: Record<RemovableField, readonly string[]> = {
    lease: ['lease_owner', 'lease_expires_at'],
    needsAttention: ['needs_attention'],
    reconcileAt: ['due_shard', 'due_at'],
  };
  return { set, remove: patch.remove.flatMap((field) => removed[field]) };
}

function toItem(payment: Payment): PaymentItem {
  const unfinished = !isTerminal(payment.status) && payment.reconcileAt !== undefined;
  return {
    ...keyOf(payment.paymentNo),
    type: 'payment',
    payment_no: payment.paymentNo,
    merchant_id: payment.merchantId,
    order_no: payment.orderNo,
    amount: payment.amount,
    currency: payment.currency,
    payment_method: payment.paymentMethod,
    customer_email: payment.customerEmail,
    description: payment.description,
    metadata: payment.metadata ? { ...payment.metadata } : undefined,
    status: payment.status,
    version: payment.version,
    charge_id: payment.chargeId,
    amount_captured: payment.amountCaptured,
    amount_refunded: payment.amountRefunded,
    amount_refundable: payment.amountCaptured - payment.amountRefunded,
    refund_nos: payment.refundNos === undefined ? undefined : [...payment.refundNos],
    decline_code: payment.declineCode,
    created_at: payment.createdAt,
    updated_at: payment.updatedAt,
    created_by: payment.createdBy,
    resume_count: payment.resumeCount,
    capture_before: payment.captureBefore,
    lease_owner: payment.lease?.owner,
    lease_expires_at: payment.lease?.expiresAt,
    needs_attention: payment.needsAttention === undefined ? undefined : { ...payment.needsAttention },
    capture_method: payment.captureMethod,
    capture_decision: payment.captureDecision === undefined ? undefined : { ...payment.captureDecision },
    cancellation_reason: payment.cancellationReason,
    ...(unfinished && { due_shard: dueShardOf(payment.paymentNo), due_at: payment.reconcileAt }),
    ...listKeysOf('payment', payment.merchantId, payment.createdAt, payment.paymentNo),
  };
}

export function fromItem(item: PaymentItem): Payment {
  return {
    paymentNo: item.payment_no,
    merchantId: item.merchant_id,
    orderNo: item.order_no,
    amount: item.amount,
    currency: item.currency as Currency,
    paymentMethod: item.payment_method,
    ...(item.customer_email !== undefined && { customerEmail: item.customer_email }),
    ...(item.description !== undefined && { description: item.description }),
    ...(item.metadata !== undefined && { metadata: item.metadata }),
    status: item.status,
    version: item.version,
    ...(item.charge_id !== undefined && { chargeId: item.charge_id }),
    amountCaptured: item.amount_captured,
    amountRefunded: item.amount_refunded,
    ...(item.refund_nos !== undefined && { refundNos: item.refund_nos }),
    ...(item.decline_code !== undefined && { declineCode: item.decline_code }),
    createdAt: item.created_at,
    updatedAt: item.updated_at,
    ...(item.created_by !== undefined && { createdBy: item.created_by }),
    ...(item.due_at !== undefined && { reconcileAt: item.due_at }),
    resumeCount: item.resume_count ?? 0,
    ...(item.capture_before !== undefined && { captureBefore: item.capture_before }),
    ...(item.lease_owner !== undefined &&
      item.lease_expires_at !== undefined && { lease: { owner: item.lease_owner, expiresAt: item.lease_expires_at } }),
    ...(item.needs_attention !== undefined && { needsAttention: item.needs_attention }),
    ...(item.capture_method !== undefined && { captureMethod: item.capture_method }),
    ...(item.capture_decision !== undefined && { captureDecision: item.capture_decision }),
    ...(item.cancellation_reason !== undefined && { cancellationReason: item.cancellation_reason }),
  };
}
