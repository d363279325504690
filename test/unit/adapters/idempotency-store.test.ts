import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../functions/adapters/dynamodb/client.ts';
import { DynamoIdempotencyStore } from '../../../functions/adapters/dynamodb/idempotency-store.ts';
import { DatabaseThrottledError, DatabaseUnavailableError } from '../../../functions/domain/errors.ts';
import type { IdempotencyRecord } from '../../../functions/domain/idempotency.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const store = new DynamoIdempotencyStore(createDocumentClient(new DynamoDBClient({ region: 'us-east-1' })), 'payments');

const id = 'a'.repeat(64);
const key = { pk: `IDEMPOTENCY#${id}`, sk: 'IDEMPOTENCY' };
const NOW_SECONDS = Date.parse('2026-11-23T10:00:00Z') / 1000;

const claimed: IdempotencyRecord = {
  id,
  parameters: { order_no: 'd1', amount: 'd2' },
  lease: { owner: 'owner-1', expiresAt: NOW_SECONDS * 1000 + 10_000 },
  expiresAt: NOW_SECONDS + 86_400,
};

const claimedItem = {
  ...key,
  type: 'idempotency_key',
  parameters: { order_no: 'd1', amount: 'd2' },
  lease_owner: 'owner-1',
  lease_expires_at: NOW_SECONDS * 1000 + 10_000,
  expires_at: NOW_SECONDS + 86_400,
};

function conditionFailed(item?: Record<string, unknown>) {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(item && { Item: marshall(item) }),
  });
}

const throttled = () => Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
const serverError = () => Object.assign(new Error('oops'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });

beforeEach(() => dynamo.reset());

/**
 * What DynamoDB Local cannot show: reads that must be consistent, the cost of a refusal, and
 * how DynamoDB's failures are named. The conditions themselves are held to the store's
 * contract on DynamoDB Local (test/adapters/repositories.test.ts).
 */
describe('DynamoIdempotencyStore', () => {
  it('reads a key strongly consistently, and nothing for a key it does not have', async () => {
    dynamo.on(GetCommand).resolves({});

    const record = await store.get(id);

    expect(record).toBeUndefined();
    expect(dynamo.commandCalls(GetCommand)[0]!.args[0].input).toEqual({ TableName: 'payments', Key: key, ConsistentRead: true });
  });

  describe('claim', () => {
    it('returns the record that holds the key from the failed condition, without a second read', async () => {
      const answer = { status: 201, body: { payment_no: 'pay_1' } };
      const { lease_owner: _o, lease_expires_at: _e, ...finished } = claimedItem;
      dynamo.on(PutCommand).rejects(conditionFailed({ ...finished, response_status: 201, response_body: JSON.stringify(answer.body) }));

      const existing = await store.claim({ ...claimed, lease: { owner: 'owner-2', expiresAt: 1 } }, NOW_SECONDS);

      expect(existing).toEqual({ id, parameters: claimed.parameters, response: answer, expiresAt: claimed.expiresAt });
      expect(dynamo.commandCalls(GetCommand)).toHaveLength(0);
    });
  });

  describe('failures', () => {
    it.each([
      ['throttling', throttled, DatabaseThrottledError],
      ['a 5xx', serverError, DatabaseUnavailableError],
    ])('names %s on every call, so the API fails closed with 503', async (_, failure, named) => {
      dynamo.on(GetCommand).rejects(failure());
      dynamo.on(PutCommand).rejects(failure());
      dynamo.on(UpdateCommand).rejects(failure());
      dynamo.on(DeleteCommand).rejects(failure());

      await expect(store.get(id)).rejects.toBeInstanceOf(named);
      await expect(store.claim(claimed, NOW_SECONDS)).rejects.toBeInstanceOf(named);
      await expect(store.takeOver(id, claimed.lease!, { owner: 'owner-2', expiresAt: 1 }, claimed.parameters)).rejects.toBeInstanceOf(named);
      await expect(store.complete(id, 'owner-1', { status: 201, body: {} })).rejects.toBeInstanceOf(named);
      await expect(store.release(id, 'owner-1')).rejects.toBeInstanceOf(named);
    });
  });
});
