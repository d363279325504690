/**
 * The local stand-in for Lambda's event source mappings on DynamoDB Streams: for each mapping
 * of the template, it reads the table's stream from DynamoDB Local (DescribeStream, its shards
 * parents first, GetShardIterator, GetRecords), keeps the records its filter criteria pass,
 * invokes the function with batches of at most its batch size in shard order, and moves a
 * shard's checkpoint past a batch only once the function took it. A failed invocation is
 * retried as the mapping says (split in two when it bisects), and a batch that exhausts its
 * retries goes to its on-failure destination (kept here: `failures()`), never dropped unseen.
 */
import type { FilterPattern, LocalStreamMapping } from '../assembly/resources.ts';
import { localClientConfig } from './dynamodb-local.ts';

/** A stream record as Lambda hands it to the function (`DynamoDBRecord`). */
export interface StreamRecord {
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly eventSource: 'aws:dynamodb';
  readonly eventVersion: string;
  readonly awsRegion: string;
  readonly dynamodb: { readonly SequenceNumber: string; readonly [key: string]: unknown };
  readonly eventSourceARN: string;
}

/** What a mapping gave up on: as Lambda's on-failure record, the batch's place in the stream. */
export interface StreamFailure {
  readonly mappingLogicalId: string;
  readonly queueLogicalId?: string;
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
  readonly error: string;
}

export interface StreamsPollerOptions {
  readonly endpoint: string;
  readonly mappings: readonly LocalStreamMapping[];
  /** The table a mapping reads, by its logical id. */
  readonly tableNameOf: (tableLogicalId: string) => string;
  /** Invokes the mapping's function; rejects as the invocation failed. */
  readonly invoke: (mapping: LocalStreamMapping, event: { Records: StreamRecord[] }) => Promise<unknown>;
  /**
   * The wait between passes that found nothing waited for: 250 ms, as Lambda polls each shard of
   * a DynamoDB stream four times a second. `idle()` starts the next pass at once.
   */
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

export interface StreamsPoller {
  /** Resolves once a pass over every shard that began after the call found no record left to deliver. */
  idle(): Promise<void>;
  failures(): readonly StreamFailure[];
  stop(): Promise<void>;
}

interface Shard {
  readonly ShardId: string;
  readonly ParentShardId?: string;
}

/** Retries back off from 50 ms, doubling up to a second: Lambda's own backoff, shortened for one machine. */
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 1000;

export function startStreamsPoller(options: StreamsPollerOptions): StreamsPoller {
  const pollMs = options.pollMs ?? 250;
  const log = options.log ?? (() => undefined);
  const failures: StreamFailure[] = [];
  /** Per mapping and shard: the last sequence number delivered, or `done` once a closed shard is read to its end. */
  const checkpoints = new Map<string, string | 'done'>();
  const iterators = new Map<string, string>();
  let stopped = false;
  let passes = 0;
  let waiters: { after: number; resolve: () => void }[] = [];

  const call = (operation: string, body: unknown) => streamsCall(options.endpoint, operation, body);

  // The mappings of one table share its stream: it is listed and described once a pass, not once
  // per mapping (DynamoDB Local spends milliseconds of CPU on each, and an idle stack polls on).
  const tables = [...new Set(options.mappings.map((mapping) => mapping.tableLogicalId))].map((tableLogicalId) => ({
    tableLogicalId,
    mappings: options.mappings.filter((mapping) => mapping.tableLogicalId === tableLogicalId),
  }));

  const pass = async (): Promise<number> => {
    let delivered = 0;
    for (const table of tables) {
      const { Streams = [] } = (await call('ListStreams', { TableName: options.tableNameOf(table.tableLogicalId) })) as { Streams?: { StreamArn: string }[] };
      for (const { StreamArn } of Streams) {
        const shards = await allShards(call, StreamArn);
        for (const mapping of table.mappings) delivered += await readShards(mapping, StreamArn, shards);
      }
    }
    return delivered;
  };

  const readShards = async (mapping: LocalStreamMapping, streamArn: string, shards: readonly Shard[]): Promise<number> => {
    let delivered = 0;
    for (const shard of shards) {
      const key = `${mapping.logicalId}|${shard.ShardId}`;
      if (checkpoints.get(key) === 'done') continue;
      const parent = shard.ParentShardId === undefined ? undefined : checkpoints.get(`${mapping.logicalId}|${shard.ParentShardId}`);
      // A child shard waits until its parent is read to its end, so each item's records stay in order.
      if (shard.ParentShardId !== undefined && shards.some((s) => s.ShardId === shard.ParentShardId) && parent !== 'done') continue;
      delivered += await readShard(mapping, streamArn, shard.ShardId, key);
    }
    return delivered;
  };

  const readShard = async (mapping: LocalStreamMapping, streamArn: string, shardId: string, key: string): Promise<number> => {
    let iterator = iterators.get(key);
    if (iterator === undefined) {
      const checkpoint = checkpoints.get(key);
      const position =
        checkpoint !== undefined && checkpoint !== 'done'
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: checkpoint }
          : { ShardIteratorType: mapping.startingPosition };
      iterator = ((await call('GetShardIterator', { StreamArn: streamArn, ShardId: shardId, ...position })) as { ShardIterator: string }).ShardIterator;
    }
    const { Records = [], NextShardIterator } = (await call('GetRecords', { ShardIterator: iterator, Limit: mapping.batchSize })) as {
      Records?: (Omit<StreamRecord, 'eventSourceARN'> & { eventSourceARN?: string })[];
      NextShardIterator?: string;
    };
    const passing = Records.map((record) => ({ ...withEmptyMapsTyped(record), eventSourceARN: mapping.streamArn }) as StreamRecord).filter((record) =>
      matchesAny(mapping.filters, record),
    );
    if (passing.length > 0) await deliver(mapping, shardId, passing);
    // Only now, the batch taken (or given up on, to the destination), does the shard move on.
    const last = Records.at(-1)?.dynamodb.SequenceNumber;
    if (last !== undefined) checkpoints.set(key, last);
    if (NextShardIterator === undefined || NextShardIterator === null) {
      checkpoints.set(key, 'done');
      iterators.delete(key);
    } else {
      iterators.set(key, NextShardIterator);
    }
    return Records.length;
  };

  const deliver = (mapping: LocalStreamMapping, shardId: string, records: StreamRecord[]): Promise<void> =>
    deliverWithRetries(records, {
      invoke: (batch) => options.invoke(mapping, { Records: batch }),
      maximumRetryAttempts: mapping.maximumRetryAttempts,
      bisect: mapping.bisectBatchOnFunctionError,
      backoff: async (retry) => {
        await sleep(Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (retry - 1)));
      },
      stopped: () => stopped,
      giveUp(batch, retries, error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        failures.push({
          mappingLogicalId: mapping.logicalId,
          ...(mapping.onFailureQueueLogicalId !== undefined && { queueLogicalId: mapping.onFailureQueueLogicalId }),
          shardId,
          startSequenceNumber: batch[0]!.dynamodb.SequenceNumber,
          endSequenceNumber: batch.at(-1)!.dynamodb.SequenceNumber,
          batchSize: batch.length,
          error: message,
        });
        log(`${mapping.logicalId}: gave up on ${batch.length} records after ${retries} retries (${message})`);
      },
    });

  let running: Promise<void> | undefined;
  const loop = async () => {
    while (!stopped) {
      const started = ++passes;
      let delivered = 1;
      try {
        delivered = await pass();
      } catch (error) {
        // An iterator that lapsed (or a database that went away) is asked for again from the checkpoint.
        iterators.clear();
        log(`streams poller: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (delivered === 0) {
        const ready = waiters.filter((waiter) => waiter.after < started);
        waiters = waiters.filter((waiter) => waiter.after >= started);
        for (const waiter of ready) waiter.resolve();
      }
      // Someone waits for the stream to be drained: the next pass at once, not after the poll interval.
      if (waiters.length === 0) await pause(pollMs);
    }
  };
  /** Ends the loop's wait between passes early. */
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  running = options.mappings.length === 0 ? Promise.resolve() : loop();

  return {
    idle: () =>
      options.mappings.length === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.push({ after: passes, resolve });
            wake?.();
          }),
    failures: () => [...failures],
    async stop() {
      stopped = true;
      wake?.();
      await running;
      for (const waiter of waiters) waiter.resolve();
    },
  };
}

/** How a mapping delivers one batch read from a shard: {@link deliverWithRetries}. */
export interface Delivery<R> {
  /** One invocation of the function with the batch; rejects as the invocation failed. */
  readonly invoke: (batch: R[]) => Promise<unknown>;
  /** Retries of the batch read before its records are given up on; -1: never given up. */
  readonly maximumRetryAttempts: number;
  /** Whether a failed batch is split in two, each half retried on its own. */
  readonly bisect: boolean;
  /** Waits before the `retry`th retry. */
  readonly backoff: (retry: number) => Promise<void>;
  /** Records its on-failure destination receives. */
  readonly giveUp: (batch: R[], retries: number, error: unknown) => void;
  /** The mapping is going away: a failed batch is given up on at once. */
  readonly stopped?: () => boolean;
}

/**
 * Delivers a batch as Lambda's event source mapping does: a failed invocation retried after a
 * backoff, split in two first when the mapping bisects (each half then retried on its own, so a
 * record that keeps failing ends up alone), until the retries of the batch read are spent; what
 * then still fails is given up on, never dropped unseen. Resolves once every record was taken
 * or given up on: only then may the shard's checkpoint move past them.
 */
export async function deliverWithRetries<R>(records: R[], how: Delivery<R>): Promise<void> {
  let retries = 0;
  const attempt = async (batch: R[]): Promise<void> => {
    for (;;) {
      try {
        await how.invoke(batch);
        return;
      } catch (error) {
        const exhausted = how.maximumRetryAttempts >= 0 && retries >= how.maximumRetryAttempts;
        if (exhausted || how.stopped?.()) {
          how.giveUp(batch, retries, error);
          return;
        }
        retries += 1;
        await how.backoff(retries);
        if (how.bisect && batch.length > 1) {
          const half = Math.ceil(batch.length / 2);
          await attempt(batch.slice(0, half));
          await attempt(batch.slice(half));
          return;
        }
      }
    }
  };
  await attempt(records);
}

async function allShards(call: (operation: string, body: unknown) => Promise<unknown>, streamArn: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let start: string | undefined;
  do {
    const { StreamDescription } = (await call('DescribeStream', { StreamArn: streamArn, ...(start && { ExclusiveStartShardId: start }) })) as {
      StreamDescription: { Shards?: Shard[]; LastEvaluatedShardId?: string };
    };
    shards.push(...(StreamDescription.Shards ?? []));
    start = StreamDescription.LastEvaluatedShardId;
  } while (start);
  return shards;
}

/** Whether `record` matches one of the patterns (every record, with none), as Lambda's event filtering does. */
export function matchesAny(patterns: readonly FilterPattern[], record: unknown): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matches(pattern, record));
}

function matches(pattern: FilterPattern, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = (value as Record<string, unknown>)[key];
    if (Array.isArray(expected)) return (expected as readonly unknown[]).includes(actual);
    return matches(expected as FilterPattern, actual);
  });
}

/**
 * One call of the Streams API on DynamoDB Local, which serves it on the table's endpoint. It
 * checks no signature, only that the request names a credential, as the local clients' do.
 */
async function streamsCall(endpoint: string, operation: string, body: unknown): Promise<unknown> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `DynamoDBStreams_20120810.${operation}`,
      Authorization: `AWS4-HMAC-SHA256 Credential=${localClientConfig.credentials.accessKeyId}/20260101/${localClientConfig.region}/dynamodb/aws4_request, SignedHeaders=host, Signature=local`,
    },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`DynamoDB Streams ${operation}: ${String(answer['__type'])} ${String(answer['message'] ?? answer['Message'] ?? '')}`);
  return answer;
}

/**
 * The record as DynamoDB Streams writes it: DynamoDB Local writes an empty map attribute
 * (`{"M": {}}`) in a stream record's images and keys as a bare `{}`, which no AttributeValue
 * reader takes ("No value defined"), where AWS writes `{"M": {}}`. An empty list it writes
 * right, so a bare `{}` can only be an empty map.
 */
export function withEmptyMapsTyped<R extends { dynamodb: Record<string, unknown> }>(record: R): R {
  const typed = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map(typed);
    if (Object.keys(value).length === 0) return { M: {} };
    const { M, L } = value as { M?: Record<string, unknown>; L?: unknown[] };
    if (M !== undefined) return { M: imageOf(M) };
    if (L !== undefined) return { L: L.map(typed) };
    return value;
  };
  const imageOf = (image: Record<string, unknown>) => Object.fromEntries(Object.entries(image).map(([name, value]) => [name, typed(value)]));
  const images = Object.fromEntries(
    (['Keys', 'NewImage', 'OldImage'] as const)
      .filter((part) => record.dynamodb[part] !== undefined)
      .map((part) => [part, imageOf(record.dynamodb[part] as Record<string, unknown>)]),
  );
  return { ...record, dynamodb: { ...record.dynamodb, ...images } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
