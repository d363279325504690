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
import { newPayment } from '../../contracts/payment-repository.contract.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const repository = new DynamoPaymentRepository(createDocumentClient(new DynamoDBClient({ region: 'us-east-1' })), 'payments');

/** The shard of the due index is the last character's: this payment_no lands in `payment#7`. */
const payment = newPayment({ paymentNo: 'pay_0123456789abcdef01234567', merchantId: 'm_1', orderNo: 'o-1' });

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

/**
 * What DynamoDB Local cannot show: the cost of a refusal, how DynamoDB's failures are named,
 * and how the due index is read. The conditions themselves are held to the repository's
 * contract on DynamoDB Local (test/adapters/repositories.test.ts).
 */
describe('DynamoPaymentRepository', () => {
  it('returns the stored payment from the failed condition, without a second read', async () => {
    const existing = { ...payment, status: 'succeeded' as const, reconcileAt: undefined };
    dynamo.on(PutCommand).rejects(conditionFailed(storedItem(existing)));

    const result = await repository.create(payment);

    expect(result.created).toBe(false);
    expect(result.payment.status).toBe('succeeded');
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(0);
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
