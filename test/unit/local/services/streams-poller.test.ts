import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalStreamMapping } from '../../../../local/assembly/resources.ts';
import { type StreamRecord, startStreamsPoller } from '../../../../local/services/streams-poller.ts';

const STREAM_ARN = 'arn:aws:dynamodb:local:000000000000:table/payments/stream/2026-12-03T00:00:00.000';

/** DynamoDB Streams as the poller calls it: one table, one open shard holding `records`; each call counted by operation. */
async function fakeStreams(records: readonly StreamRecord[]) {
  const calls: Record<string, number> = {};
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target']).split('.')[1]!;
      calls[operation] = (calls[operation] ?? 0) + 1;
      const input = JSON.parse(body) as { ShardIterator?: string };
      const answers: Record<string, unknown> = {
        ListStreams: { Streams: [{ StreamArn: STREAM_ARN }] },
        DescribeStream: { StreamDescription: { Shards: [{ ShardId: 'shard-1' }] } },
        GetShardIterator: { ShardIterator: 'from-0' },
        // The first read gives every record; reads after it, nothing more, the shard still open.
        GetRecords: input.ShardIterator === 'from-0' ? { Records: records, NextShardIterator: 'at-end' } : { Records: [], NextShardIterator: 'at-end' },
      };
      response.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify(answers[operation]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const mapping = (logicalId: string): LocalStreamMapping => ({
  logicalId,
  functionLogicalId: `${logicalId}Function`,
  tableLogicalId: 'PaymentsTable',
  streamArn: STREAM_ARN,
  batchSize: 100,
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: 0,
  startingPosition: 'TRIM_HORIZON',
  filters: [],
});

const record = (sequenceNumber: string): StreamRecord => ({ eventName: 'INSERT', dynamodb: { SequenceNumber: sequenceNumber, Keys: {} }, eventSourceARN: STREAM_ARN }) as unknown as StreamRecord;

describe('the streams poller', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it("lists and describes a table's stream once a pass, however many mappings read it, and gives each mapping every record", async () => {
    // Prepare
    const streams = await fakeStreams([record('1'), record('2')]);
    stops.push(streams.close);
    const delivered: Record<string, string[]> = { Ledger: [], Events: [] };
    const poller = startStreamsPoller({
      endpoint: streams.endpoint,
      mappings: [mapping('Ledger'), mapping('Events')],
      tableNameOf: () => 'payments',
      invoke: async ({ logicalId }, { Records }) => delivered[logicalId]!.push(...Records.map((r) => r.dynamodb.SequenceNumber)),
      pollMs: 60_000,
    });
    stops.push(() => poller.stop());

    // Act: idle() waits for a pass begun after it that found nothing: the first pass delivers, a later one finds nothing.
    await poller.idle();
    await poller.idle();

    // Assess
    expect(delivered).toEqual({ Ledger: ['1', '2'], Events: ['1', '2'] });
    const passes = streams.calls['ListStreams']!;
    expect(streams.calls['DescribeStream']).toBe(passes);
    expect(streams.calls['GetRecords']).toBe(2 * passes);
  });
});
