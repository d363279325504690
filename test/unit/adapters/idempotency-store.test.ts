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

describe('DynamoIdempotencyStore', () => {
  it('reads a key strongly consistently, and nothing for a key it does not have', async () => {
    dynamo.on(GetCommand).resolves({});

    const record = await store.get(id);

    expect(record).toBeUndefined();
    expect(dynamo.commandCalls(GetCommand)[0]!.args[0].input).toEqual({ TableName: 'payments', Key: key, ConsistentRead: true });
  });

  describe('claim', () => {
    it('writes the record on the condition that none exists or the one there has expired', async () => {
      dynamo.on(PutCommand).resolves({});

      const existing = await store.claim(claimed, NOW_SECONDS);

      expect(existing).toBeUndefined();
      const put = dynamo.commandCalls(PutCommand)[0]!.args[0].input;
      expect(put.ConditionExpression).toBe('attribute_not_exists(pk) OR expires_at <= :now');
      expect(put.ExpressionAttributeValues).toEqual({ ':now': NOW_SECONDS });
      expect(put.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
      expect(put.Item).toEqual(claimedItem);
    });

    it('returns the record that holds the key from the failed condition, without a second read', async () => {
      const answer = { status: 201, body: { payment_no: 'pay_1' } };
      const { lease_owner: _o, lease_expires_at: _e, ...finished } = claimedItem;
      dynamo.on(PutCommand).rejects(conditionFailed({ ...finished, response_status: 201, response_body: JSON.stringify(answer.body) }));

      const existing = await store.claim({ ...claimed, lease: { owner: 'owner-2', expiresAt: 1 } }, NOW_SECONDS);

      expect(existing).toEqual({ id, parameters: claimed.parameters, response: answer, expiresAt: claimed.expiresAt });
      expect(dynamo.commandCalls(GetCommand)).toHaveLength(0);
    });
  });

  describe('takeOver', () => {
    it("moves the lease and the taker's parameters in, only from the lapsed owner and expiry, and only while unfinished", async () => {
      dynamo.on(UpdateCommand).resolves({});
      const lapsed = claimed.lease!;

      const tookOver = await store.takeOver(id, lapsed, { owner: 'owner-2', expiresAt: lapsed.expiresAt + 20_000 }, { amount: 'd3' });

      expect(tookOver).toBe(true);
      const update = dynamo.commandCalls(UpdateCommand)[0]!.args[0].input;
      expect(update.Key).toEqual(key);
      expect(update.ConditionExpression).toBe(
        'lease_owner = :lapsedOwner AND lease_expires_at = :lapsedExpires AND attribute_not_exists(response_status)',
      );
      expect(update.UpdateExpression).toBe('SET lease_owner = :owner, lease_expires_at = :expires, #parameters = :parameters');
      expect(update.ExpressionAttributeNames).toEqual({ '#parameters': 'parameters' });
      expect(update.ExpressionAttributeValues).toEqual({
        ':owner': 'owner-2',
        ':expires': lapsed.expiresAt + 20_000,
        ':parameters': { amount: 'd3' },
        ':lapsedOwner': 'owner-1',
        ':lapsedExpires': lapsed.expiresAt,
      });
    });

    it('answers false when another request took over, or the first finished, meanwhile', async () => {
      dynamo.on(UpdateCommand).rejects(conditionFailed());

      expect(await store.takeOver(id, claimed.lease!, { owner: 'owner-3', expiresAt: 1 }, claimed.parameters)).toBe(false);
    });
  });

  describe('complete', () => {
    it("stores the answer as JSON and ends the lease, on the condition that the caller still holds it", async () => {
      dynamo.on(UpdateCommand).resolves({});

      const completed = await store.complete(id, 'owner-1', { status: 201, body: { payment_no: 'pay_1', amount: 1000 } });

      expect(completed).toBe(true);
      const update = dynamo.commandCalls(UpdateCommand)[0]!.args[0].input;
      expect(update.ConditionExpression).toBe('lease_owner = :owner');
      expect(update.UpdateExpression).toBe(
        'SET response_status = :status, response_body = :body REMOVE lease_owner, lease_expires_at',
      );
      expect(update.ExpressionAttributeValues).toEqual({
        ':owner': 'owner-1',
        ':status': 201,
        ':body': '{"payment_no":"pay_1","amount":1000}',
      });
    });

    it('answers false to an owner whose lease was taken over', async () => {
      dynamo.on(UpdateCommand).rejects(conditionFailed());

      expect(await store.complete(id, 'owner-1', { status: 201, body: {} })).toBe(false);
    });
  });

  describe('release', () => {
    it('deletes the record on the condition that the caller still holds its lease', async () => {
      dynamo.on(DeleteCommand).resolves({});

      await store.release(id, 'owner-1');

      const del = dynamo.commandCalls(DeleteCommand)[0]!.args[0].input;
      expect(del).toMatchObject({
        Key: key,
        ConditionExpression: 'lease_owner = :owner',
        ExpressionAttributeValues: { ':owner': 'owner-1' },
      });
    });

    it('leaves, without an error, a record another owner holds', async () => {
      dynamo.on(DeleteCommand).rejects(conditionFailed());

      await expect(store.release(id, 'owner-1')).resolves.toBeUndefined();
    });
  });

  it('stores a record and its answer, and reads them back as written', async () => {
    // Prepare
    dynamo.on(PutCommand).resolves({});
    dynamo.on(UpdateCommand).resolves({});
    const body = { payment_no: 'pay_1', amount: 1000, metadata: { cart: 'c-9' }, decline_code: null, tags: ['a', 'b'] };

    // Act: claim, complete, then read the item the two writes leave.
    await store.claim(claimed, NOW_SECONDS);
    await store.complete(id, 'owner-1', { status: 201, body });
    const { lease_owner: _o, lease_expires_at: _e, ...item } = dynamo.commandCalls(PutCommand)[0]!.args[0].input.Item!;
    const values = dynamo.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues!;
    dynamo.on(GetCommand).resolves({ Item: { ...item, response_status: values[':status'], response_body: values[':body'] } });
    const read = await store.get(id);

    // Assess
    expect(read).toEqual({ id, parameters: claimed.parameters, response: { status: 201, body }, expiresAt: claimed.expiresAt });
  });

  it('reads back an unfinished record with its lease', async () => {
    dynamo.on(GetCommand).resolves({ Item: claimedItem });

    expect(await store.get(id)).toEqual(claimed);
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
