/**
 * A counting HTTP proxy in front of DynamoDB Local: every request the handlers send reaches
 * DynamoDB through it, and it counts them by the operation named in `X-Amz-Target`, from
 * outside the code under test. A request the SDK retries is counted each time it arrives, as
 * DynamoDB would bill it.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../local/services/listen.ts';

/** Operations that write, and how many item writes one request carries. */
const writeItems: Record<string, (body: any) => number> = {
  PutItem: () => 1,
  UpdateItem: () => 1,
  DeleteItem: () => 1,
  TransactWriteItems: (body) => (Array.isArray(body?.TransactItems) ? body.TransactItems.length : 0),
  BatchWriteItem: (body) =>
    Object.values((body?.RequestItems ?? {}) as Record<string, unknown[]>).reduce((sum, items) => sum + items.length, 0),
};

/** Operations that read, and how many item reads (or queries) one request carries. */
const readItems: Record<string, (body: any) => number> = {
  GetItem: () => 1,
  Query: () => 1,
  Scan: () => 1,
  TransactGetItems: (body) => (Array.isArray(body?.TransactItems) ? body.TransactItems.length : 0),
  BatchGetItem: (body) =>
    Object.values((body?.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>).reduce(
      (sum, table) => sum + (table.Keys?.length ?? 0),
      0,
    ),
};

/** Counts since the last reset. */
export interface DynamoCounts {
  /** Write requests (TransactWriteItems and BatchWriteItem count once here). */
  writeRequests: number;
  /** Item writes: a TransactWriteItems or BatchWriteItem counts each of its items. */
  writeItems: number;
  /** The item writes of TransactWriteItems, which DynamoDB bills at twice the units of a plain write. */
  transactionalWriteItems: number;
  readRequests: number;
  readItems: number;
  /** The item reads of TransactGetItems, billed at twice the units of a consistent read. */
  transactionalReadItems: number;
  /** The item reads (or queries) that asked for a strongly consistent read, billed at twice an eventually consistent one. */
  consistentReadItems: number;
  /** Requests by operation, e.g. `{ PutItem: 12, GetItem: 30 }`. */
  byOperation: Record<string, number>;
  /** Requests DynamoDB refused, by operation and error, e.g. `PutItem ConditionalCheckFailedException`. */
  refused: Record<string, number>;
  /** The same counts by the access key id that signed the request: on the local stack, one per function's role session. */
  byCaller: Record<string, CallerCounts>;
}

export interface CallerCounts {
  writeRequests: number;
  writeItems: number;
  readRequests: number;
}

export interface DynamoCounter {
  /** The proxy's URL, for `AWS_ENDPOINT_URL_DYNAMODB`. */
  endpoint: string;
  counts(): DynamoCounts;
  reset(): void;
  close(): Promise<void>;
}

const emptyCounts = (): DynamoCounts => ({
  writeRequests: 0,
  writeItems: 0,
  transactionalWriteItems: 0,
  readRequests: 0,
  readItems: 0,
  transactionalReadItems: 0,
  consistentReadItems: 0,
  byOperation: {},
  refused: {},
  byCaller: {},
});

/** Starts the proxy on a free port of 127.0.0.1, forwarding to `upstream` (DynamoDB Local). */
export async function startDynamoCounter(upstream: string): Promise<DynamoCounter> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  let counts = emptyCounts();

  const count = (operation: string, body: Buffer, caller: string): void => {
    counts.byOperation[operation] = (counts.byOperation[operation] ?? 0) + 1;
    const callerCounts = (counts.byCaller[caller] ??= { writeRequests: 0, writeItems: 0, readRequests: 0 });
    const writes = writeItems[operation];
    const reads = readItems[operation];
    if (writes === undefined && reads === undefined) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (writes !== undefined) {
      counts.writeRequests += 1;
      counts.writeItems += writes(parsed);
      if (operation === 'TransactWriteItems') counts.transactionalWriteItems += writes(parsed);
      callerCounts.writeRequests += 1;
      callerCounts.writeItems += writes(parsed);
    } else if (reads !== undefined) {
      counts.readRequests += 1;
      counts.readItems += reads(parsed);
      if (operation === 'TransactGetItems') counts.transactionalReadItems += reads(parsed);
      else if ((parsed as { ConsistentRead?: boolean } | undefined)?.ConsistentRead === true) counts.consistentReadItems += reads(parsed);
      callerCounts.readRequests += 1;
    }
  };

  const forward = async (incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const operation = String(incoming.headers['x-amz-target'] ?? '').split('.').pop() || '(none)';
    const caller = /Credential=([^/]+)\//.exec(String(incoming.headers.authorization ?? ''))?.[1] ?? '(unsigned)';
    count(operation, body, caller);

    const upstreamRequest = httpRequest({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: incoming.method,
      path: incoming.url,
      headers: incoming.headers,
      agent,
    });
    upstreamRequest.on('response', (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      if ((answer.statusCode ?? 500) === 200) {
        answer.pipe(outgoing);
        return;
      }
      // Refusals are small: read them to name the error (ConditionalCheckFailedException...).
      const errorChunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => errorChunks.push(chunk));
      answer.on('end', () => {
        const errorBody = Buffer.concat(errorChunks);
        let type = `HTTP ${answer.statusCode}`;
        try {
          type = String((JSON.parse(errorBody.toString('utf8')) as { __type?: string }).__type ?? type).split('#').pop()!;
        } catch {
          // Not JSON: keep the status.
        }
        const key = `${operation} ${type}`;
        counts.refused[key] = (counts.refused[key] ?? 0) + 1;
        outgoing.end(errorBody);
      });
    });
    upstreamRequest.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    upstreamRequest.end(body);
  };

  const server = createServer((incoming, outgoing) => {
    forward(incoming, outgoing).catch(() => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
  });
  const port = await listen(server, 0, '127.0.0.1');

  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => structuredClone(counts),
    reset: () => {
      counts = emptyCounts();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
