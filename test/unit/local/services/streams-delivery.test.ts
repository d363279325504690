/**
 * How the local stack delivers a stream's records to a function, as Lambda's event source
 * mapping does: retries, bisection until a record that keeps failing is alone, and giving up
 * only what still fails once the retries are spent (to the on-failure destination), never a
 * record dropped unseen. Also the event filtering of a mapping's `FilterCriteria`.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { type Delivery, deliverWithRetries, matchesAny, withEmptyMapsTyped } from '../../../../local/services/streams-poller.ts';

interface Run {
  readonly invocations: number[][];
  readonly taken: Set<number>;
  readonly givenUp: { batch: number[]; retries: number }[];
}

/** Delivers `records` to a function that fails for each record `failsOn` says, and records what happened. */
async function deliver(records: number[], failsOn: (record: number, attempt: number) => boolean, how: Partial<Delivery<number>>): Promise<Run> {
  const run: Run = { invocations: [], taken: new Set(), givenUp: [] };
  await deliverWithRetries(records, {
    invoke: async (batch) => {
      run.invocations.push(batch);
      const attempt = run.invocations.length;
      if (batch.some((record) => failsOn(record, attempt))) throw new Error('the function failed');
      for (const record of batch) run.taken.add(record);
    },
    maximumRetryAttempts: 10,
    bisect: true,
    backoff: async () => undefined,
    giveUp: (batch, retries) => run.givenUp.push({ batch, retries }),
    ...how,
  });
  return run;
}

const records = [1, 2, 3, 4, 5, 6, 7, 8];

describe('delivering a batch of stream records', () => {
  it('invokes once with the whole batch when the function takes it', async () => {
    const run = await deliver(records, () => false, {});

    expect(run.invocations).toEqual([records]);
    expect(run.givenUp).toEqual([]);
  });

  it('retries a batch that failed for a while until the function takes it, giving nothing up', async () => {
    const run = await deliver(records, (_, attempt) => attempt <= 2, { bisect: false });

    expect(run.invocations).toEqual([records, records, records]);
    expect([...run.taken].sort()).toEqual(records);
    expect(run.givenUp).toEqual([]);
  });

  it('splits a failing batch until the record that keeps failing is alone, gives up only that one, and delivers every other', async () => {
    const run = await deliver(records, (record) => record === 5, {});

    expect(run.givenUp.map((given) => given.batch)).toEqual([[5]]);
    expect([...run.taken].sort()).toEqual([1, 2, 3, 4, 6, 7, 8]);
    // Halves of halves: the record is alone by the fourth invocation that holds it.
    expect(run.invocations.filter((batch) => batch.includes(5)).map((batch) => batch.length).slice(0, 4)).toEqual([8, 4, 2, 1]);
  });

  it('without bisection, retries the whole batch as often as the mapping allows, then gives the whole batch up', async () => {
    const run = await deliver(records, (record) => record === 5, { bisect: false, maximumRetryAttempts: 2 });

    expect(run.invocations).toEqual([records, records, records]);
    expect(run.givenUp).toEqual([{ batch: records, retries: 2 }]);
    expect(run.taken.size).toBe(0);
  });

  it('never gives up a failing record with unlimited retries (-1) while the mapping runs, only once it stops', async () => {
    let stopped = false;
    const run = await deliver([5], (_, attempt) => {
      if (attempt === 20) stopped = true;
      return true;
    }, { maximumRetryAttempts: -1, stopped: () => stopped });

    expect(run.invocations).toHaveLength(20);
    expect(run.givenUp).toEqual([{ batch: [5], retries: 19 }]);
  });
});

describe("a mapping's filter criteria", () => {
  const record = { eventName: 'MODIFY', dynamodb: { NewImage: { kind: { S: 'payment' }, status: { S: 'succeeded' } } } };

  it('passes every record when the mapping has no filter', () => {
    expect(matchesAny([], record)).toBe(true);
  });

  it('passes a record one of whose patterns matches every key it names, a list matching any of its values', () => {
    const succeeded = { dynamodb: { NewImage: { status: { S: ['succeeded'] } } } };
    const refunds = { dynamodb: { NewImage: { kind: { S: ['refund'] } } } };

    expect(matchesAny([refunds, succeeded], record)).toBe(true);
    expect(matchesAny([refunds], record)).toBe(false);
    expect(matchesAny([{ dynamodb: { NewImage: { status: { S: ['failed', 'canceled'] } } } }], record)).toBe(false);
    expect(matchesAny([{ dynamodb: { OldImage: { status: { S: ['pending'] } } } }], record)).toBe(false);
  });
});

describe('a stream record read from DynamoDB Local', () => {
  it('carries an empty map as AWS writes it, {"M": {}}, at any depth, where DynamoDB Local writes a bare {}', () => {
    // Prepare: a canceled cart with no items, as DynamoDB Local's GetRecords answered (seen in the integration suite)
    const image = { pk: { S: 'CART#c1' }, items: {}, lines: { L: [] }, nested: { M: { a: {}, b: { L: [{}] } } } };
    const record = { dynamodb: { SequenceNumber: '1', Keys: { pk: { S: 'CART#c1' } }, NewImage: image, OldImage: image } };

    // Act
    const typed = withEmptyMapsTyped(record);

    // Assess
    const expected = { pk: { S: 'CART#c1' }, items: { M: {} }, lines: { L: [] }, nested: { M: { a: { M: {} }, b: { L: [{ M: {} }] } } } };
    expect(typed.dynamodb).toEqual({ SequenceNumber: '1', Keys: { pk: { S: 'CART#c1' } }, NewImage: expected, OldImage: expected });
    expect(() => unmarshall(typed.dynamodb.NewImage as never)).not.toThrow();
    expect(() => unmarshall(record.dynamodb.NewImage as never)).toThrow(/No value defined/);
  });
});
