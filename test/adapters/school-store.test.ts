import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { type StoredHold, holdFromItem, keys } from '../../functions/adapters/dynamodb/school-items.ts';
import { DynamoSchoolStore } from '../../functions/adapters/dynamodb/school-store.ts';
import { localClientConfig } from '../../local/services/dynamodb-local.ts';
import { describeSchoolStoreContract } from '../contracts/school-store.ts';
import { localTableForThisFile } from './local-table.ts';

/**
 * The DynamoDB adapter of the school's store against DynamoDB Local (see local-table.ts): the
 * conditions and cancellation reasons are DynamoDB's own, which a mock could only repeat back.
 * The same contract runs on the in-memory store in the unit project.
 */

const localTable = localTableForThisFile();

describeSchoolStoreContract('DynamoDB', () => ({
  store: new DynamoSchoolStore(localTable().db, localTable().name),
  // A seat hold as stored, read around the store (which has no reason to read one hold).
  peekHold: async (merchantId, classId, cartId, swimmerId) => {
    const { db, name } = localTable();
    const { Item } = await db.send(
      new GetCommand({ TableName: name, Key: keys.hold(merchantId, classId, cartId, swimmerId), ConsistentRead: true }),
    );
    const item = Item as StoredHold | undefined;
    return item && { hold: holdFromItem(item), dueAt: item.due_at };
  },
}));

describe('DynamoSchoolStore: what DynamoDB reports besides refusals', () => {
  // DynamoDB Local runs transactions one at a time and never reports a conflict or a throttle: a mocked client does.
  const canceled = (...codes: string[]) =>
    new TransactionCanceledException({
      message: `Transaction cancelled [${codes.join(', ')}]`,
      $metadata: {},
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  const mocked = () => {
    const db = createDocumentClient(new DynamoDBClient({ ...localClientConfig, endpoint: 'http://127.0.0.1:9' }));
    return { store: new DynamoSchoolStore(db, 'table'), mock: mockClient(db) };
  };
  const release = {
    hold: { kind: 'deleteHold', merchantId: 'm_1', classId: 'cls_1', cartId: 'cart_1', swimmerId: 'swm_1' },
    class: { kind: 'moveSeat', merchantId: 'm_1', classId: 'cls_1', from: 'seatsHeld', to: 'seatsRemain' },
  } as const;

  it('reports a transaction that met another in flight as a conflict, not a refusal', async () => {
    const { store, mock } = mocked();
    mock.on(TransactWriteCommand).rejects(canceled('None', 'TransactionConflict'));

    expect(await store.commit(release)).toEqual({ status: 'conflict' });
  });

  it('reports a lone write that met a transaction in flight as a conflict', async () => {
    const { store, mock } = mocked();
    mock.on(UpdateCommand).rejects(Object.assign(new Error('conflict'), { name: 'TransactionConflictException' }));

    expect(await store.commit({ class: release.class })).toEqual({ status: 'conflict' });
  });

  it('reports a failed condition as a refusal even when another item met a conflict', async () => {
    const { store, mock } = mocked();
    mock.on(TransactWriteCommand).rejects(canceled('ConditionalCheckFailed', 'TransactionConflict'));

    expect(await store.commit(release)).toEqual({ status: 'refused', refused: { hold: { current: undefined } } });
  });

  it('maps a refused lone write back to its item in domain types', async () => {
    const { store, mock } = mocked();
    const stored = { ...keys.hold('m_1', 'cls_1', 'cart_1', 'swm_1'), type: 'hold', merchant_id: 'm_1', class_id: 'cls_1', cart_id: 'cart_1', account_id: 'acc_1', swimmer_id: 'swm_1', item_id: 'itm_1', held_at: 'T', due_shard: 'hold#1', due_at: 'T' };
    mock.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {}, Item: marshall(stored) }));

    const result = await store.commit({ hold: { kind: 'postponeHold', merchantId: 'm_1', classId: 'cls_1', cartId: 'cart_1', swimmerId: 'swm_1', dueAt: 'T' } });

    expect(result).toEqual({ status: 'refused', refused: { hold: { current: holdFromItem(stored as StoredHold) } } });
  });

  it('turns a throttled transaction into database_throttled, which callers retry', async () => {
    const { store, mock } = mocked();
    mock.on(TransactWriteCommand).rejects(canceled('ThrottlingError', 'None'));

    await expect(store.commit(release)).rejects.toMatchObject({ name: 'DatabaseThrottled', code: 'database_throttled' });
  });
});
