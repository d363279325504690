import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../functions/adapters/dynamodb/client.ts';
import { DynamoRefundRepository } from '../../../functions/adapters/dynamodb/refund-repository.ts';
import type { Refund } from '../../../functions/domain/refund.ts';
import { USD } from '../../support/currencies.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const repository = new DynamoRefundRepository(createDocumentClient(new DynamoDBClient({ region: 'us-east-1' })), 'payments');

const pending: Refund = {
  refundNo: 're_0123456789abcdef01234567',
  paymentNo: 'pay_0123456789abcdef01234567',
  merchantId: 'm_1',
  amount: 400,
  currency: USD,
  operatorId: 'op',
  chargeId: 'pi_1',
  status: 'pending',
  version: 1,
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T10:00:00.000Z',
  reconcileAt: '2026-11-23T10:05:00.000Z',
  resumeCount: 0,
};

beforeEach(() => {
  dynamo.reset();
  dynamo.on(TransactWriteCommand).resolves({});
});

/** The refund item a `fail` transaction puts. */
function failedItem() {
  const put = dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0]?.Put;
  return put?.Item;
}

describe('DynamoRefundRepository', () => {
  it('keeps a failed refund in the due index while the domain gives it a due time', async () => {
    // Act
    await repository.fail(pending, { ...pending, status: 'failed', version: 2, reconcileAt: '2026-11-23T10:10:00.000Z' });

    // Assess
    expect(failedItem()).toMatchObject({ status: 'failed', due_at: '2026-11-23T10:10:00.000Z', due_shard: expect.stringMatching(/^refund#/) });
  });

  it('takes a failed refund out of the due index when it has no due time', async () => {
    // Prepare
    const { reconcileAt: _dropped, ...finished } = pending;

    // Act
    await repository.fail(pending, { ...finished, status: 'failed', version: 2 });

    // Assess
    expect(failedItem()).not.toHaveProperty('due_at');
    expect(failedItem()).not.toHaveProperty('due_shard');
  });
});
