import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../functions/adapters/dynamodb/client.ts';
import { DynamoPaymentRepository } from '../../../functions/adapters/dynamodb/payment-repository.ts';
import { DUE_SHARDS } from '../../../functions/adapters/dynamodb/table.ts';
import { DatabaseThrottledError, DatabaseUnavailableError } from '../../../functions/domain/errors.ts';
import type { Payment } from '../../../functions/domain/payment.ts';
import { StaleWriteError } from '../../../functions/domain/ports.ts';
import { USD } from '../../support/in-memory-provider.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const repository = new DynamoPaymentRepository(createDocumentClient(new DynamoDBClient({ region: 'us-east-1' })), 'payments');

const payment: Payment = {
  paymentNo: 'pay_0123456789abcdef01234567',
  merchantId: 'm_1',
  orderNo: 'o-1',
  amount: 1000,
  currency: USD,
  paymentMethod: 'pm_card_visa',
  status: 'pending',
  version: 1,
  amountCaptured: 0,
  amountRefunded: 0,
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T10:00:00.000Z',
  reconcileAt: '2026-11-23T10:05:00.000Z',
  resumeCount: 0,
};

const storedItem = (p: Payment) => ({
  pk: `PAYMENT#${p.paymentNo}`,
  sk: 'PAYMENT',
  type: 'payment',
  payment_no: p.paymentNo,
  merchant_id: p.merchantId,
  order_no: p.orderNo,
  amount: p.amount,
  currency: p.currency,
  payment_method: p.paymentMethod,
  status: p.status,
  version: p.version,
  amount_captured: p.amountCaptured,
  amount_refunded: p.amountRefunded,
  created_at: p.createdAt,
  updated_at: p.updatedAt,
  resume_count: p.resumeCount,
  ...(p.reconcileAt && { due_shard: 'payment#7', due_at: p.reconcileAt }),
});

function conditionFailed(item?: Record<string, unknown>) {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(item && { Item: marshall(item) }),
  });
}

beforeEach(() => dynamo.reset());

describe('DynamoPaymentRepository', () => {
  it('creates a payment with a condition that no payment has its payment_no', async () => {
    dynamo.on(PutCommand).resolves({});

    const result = await repository.create(payment);

    expect(result).toEqual({ created: true, payment });
    const put = dynamo.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(put.Item).toMatchObject({ pk: `PAYMENT#${payment.paymentNo}`, due_shard: expect.stringMatching(/^payment#\d$/) });
  });

  it('returns the stored payment from the failed condition, without a second read', async () => {
    const existing = { ...payment, status: 'succeeded' as const, reconcileAt: undefined };
    dynamo.on(PutCommand).rejects(conditionFailed(storedItem(existing)));

    const result = await repository.create(payment);

    expect(result.created).toBe(false);
    expect(result.payment.status).toBe('succeeded');
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('replaces only at the status and version read, leaving the due index when terminal', async () => {
    dynamo.on(PutCommand).resolves({});
    const { reconcileAt: _, ...rest } = payment;
    const next: Payment = { ...rest, status: 'failed', version: 2 };

    await repository.replace(payment, next);

    const put = dynamo.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.ConditionExpression).toBe('#status = :status AND #version = :version');
    expect(put.ExpressionAttributeValues).toEqual({ ':status': 'pending', ':version': 1 });
    expect(put.Item).not.toHaveProperty('due_shard');
    expect(put.Item).not.toHaveProperty('due_at');
  });

  it('reports a lost race as StaleWriteError carrying the record as it now is', async () => {
    dynamo.on(PutCommand).rejects(conditionFailed(storedItem({ ...payment, status: 'authorized', version: 2 })));

    const attempt = repository.replace(payment, { ...payment, version: 2 });

    await expect(attempt).rejects.toBeInstanceOf(StaleWriteError);
    await expect(attempt).rejects.toMatchObject({ current: { status: 'authorized', version: 2 } });
  });

  it("stores a payment's capture deadline, lease and call for attention, and reads them back", async () => {
    // Prepare
    const leased: Payment = {
      ...payment,
      status: 'authorized',
      version: 2,
      chargeId: 'pi_1',
      captureBefore: '2026-11-30T10:00:00.000Z',
      lease: { owner: 'reconciler-1', expiresAt: '2026-11-23T10:02:00.000Z' },
      needsAttention: { reason: 'captures_disagree', since: '2026-11-23T10:01:00.000Z' },
    };
    dynamo.on(PutCommand).resolves({});

    // Act
    await repository.replace(payment, leased);
    const item = dynamo.commandCalls(PutCommand)[0]!.args[0].input.Item!;
    dynamo.on(GetCommand).resolves({ Item: item });
    const read = await repository.get(payment.paymentNo);

    // Assess
    expect(item).toMatchObject({
      capture_before: '2026-11-30T10:00:00.000Z',
      lease_owner: 'reconciler-1',
      lease_expires_at: '2026-11-23T10:02:00.000Z',
      needs_attention: { reason: 'captures_disagree', since: '2026-11-23T10:01:00.000Z' },
    });
    expect(read).toEqual(leased);
  });

  it('names throttling DatabaseThrottled so the state machine retries it', async () => {
    dynamo.on(GetCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));

    await expect(repository.get(payment.paymentNo)).rejects.toBeInstanceOf(DatabaseThrottledError);
  });

  it('names a 5xx DatabaseUnavailable', async () => {
    dynamo.on(GetCommand).rejects(Object.assign(new Error('oops'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }));

    await expect(repository.get(payment.paymentNo)).rejects.toBeInstanceOf(DatabaseUnavailableError);
  });

  it('finds due payments by querying every shard of the sparse index, never scanning', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [] });
    dynamo.on(QueryCommand, { ExpressionAttributeValues: { ':shard': 'payment#7', ':now': '2026-11-23T11:00:00.000Z' } }).resolves({
      Items: [storedItem(payment)],
    });

    const due = await repository.listDue(new Date('2026-11-23T11:00:00Z'), 10);

    expect(due.map((p) => p.paymentNo)).toEqual([payment.paymentNo]);
    const queries = dynamo.commandCalls(QueryCommand);
    expect(queries).toHaveLength(DUE_SHARDS);
    expect(queries.every((q) => q.args[0].input.IndexName === 'by_due')).toBe(true);
    expect(dynamo.commandCalls(ScanCommand)).toHaveLength(0);
  });
});
