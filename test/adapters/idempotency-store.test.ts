import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { DynamoIdempotencyStore } from '../../functions/adapters/dynamodb/idempotency-store.ts';
import type { IdempotencyRecord } from '../../functions/domain/idempotency.ts';
import { ensureTables, localClientConfig, startDynamoDbLocal, type DynamoDbLocal } from '../../local/runtime/dynamodb-local.ts';
import { synthesizeTemplate } from '../../local/synth.ts';

/**
 * The idempotency store against DynamoDB Local, with the table the CDK app synthesizes: its
 * expressions are parsed by DynamoDB itself (reserved words and all), which a mock never does.
 */
let dynamo: DynamoDbLocal;
let client: DynamoDBClient;
let store: DynamoIdempotencyStore;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({});
  client = new DynamoDBClient({ ...localClientConfig, endpoint: dynamo.endpoint });
  const [tableName] = Object.values(await ensureTables(client, synthesizeTemplate()));
  store = new DynamoIdempotencyStore(createDocumentClient(client), tableName!);
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await dynamo?.stop();
});

const NOW = Date.parse('2026-11-23T10:00:00Z');

function claimed(): IdempotencyRecord {
  return {
    id: randomBytes(32).toString('hex'),
    parameters: { order_no: 'd-order', amount: 'd-1000' },
    lease: { owner: 'owner-1', expiresAt: NOW + 10_000 },
    expiresAt: NOW / 1000 + 86_400,
  };
}

describe('DynamoIdempotencyStore on DynamoDB Local', () => {
  it("takes over a lapsed claim with the taker's parameters, once", async () => {
    // Prepare
    const record = claimed();
    expect(await store.claim(record, NOW / 1000)).toBeUndefined();
    const mine = { owner: 'owner-2', expiresAt: NOW + 30_000 };

    // Act
    const first = await store.takeOver(record.id, record.lease!, mine, { order_no: 'd-order', amount: 'd-1250' });
    const second = await store.takeOver(record.id, record.lease!, { owner: 'owner-3', expiresAt: NOW + 40_000 }, {});

    // Assess
    expect([first, second]).toEqual([true, false]);
    expect(await store.get(record.id)).toEqual({ ...record, parameters: { order_no: 'd-order', amount: 'd-1250' }, lease: mine });
  });

  it('completes a claim for its owner only, and frees it for its owner only', async () => {
    // Prepare
    const answered = claimed();
    const freed = claimed();
    await store.claim(answered, NOW / 1000);
    await store.claim(freed, NOW / 1000);

    // Act
    const byStranger = await store.complete(answered.id, 'owner-9', { status: 201, body: {} });
    const byOwner = await store.complete(answered.id, 'owner-1', { status: 201, body: { payment_no: 'pay_1' } });
    await store.release(freed.id, 'owner-9');
    const afterStranger = await store.get(freed.id);
    await store.release(freed.id, 'owner-1');

    // Assess
    expect([byStranger, byOwner]).toEqual([false, true]);
    expect(await store.get(answered.id)).toMatchObject({ response: { status: 201, body: { payment_no: 'pay_1' } } });
    expect(afterStranger).toBeDefined();
    expect(await store.get(freed.id)).toBeUndefined();
  });
});
