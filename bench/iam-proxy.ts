/**
 * What the IAM proxy costs a DynamoDB call: the same PutItem and GetItem against DynamoDB Local
 * directly and through the proxy (SigV4 checked, the caller's policies evaluated), one at a
 * time and `BENCH_CONCURRENCY` at a time, in latency and in CPU (this process's: the SDK client
 * and the proxy; and DynamoDB Local's). Prints figures, asserts nothing.
 *
 *   npx tsx bench/iam-proxy.ts              # BENCH_IAM_N=2000 calls per phase
 */
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startIamProxy } from '../local/iam/iam-proxy.ts';
import { ensureTables, localClientConfig, startDynamoDbLocal } from '../local/services/dynamodb-local.ts';
import { synthesizeTemplate } from '../local/assembly/synthesize.ts';
import { cpuMsOfProcessTree } from './cpu-meter.ts';
import { envInt, fixed, percentile, printTable } from './support.ts';

const calls = envInt('BENCH_IAM_N', 2000);
const concurrency = envInt('BENCH_CONCURRENCY', 25);

const template = synthesizeTemplate();
const dynamo = await startDynamoDbLocal();
const direct = new DynamoDBClient({ ...localClientConfig, endpoint: dynamo.endpoint });
const tableName = Object.values(await ensureTables(direct, template))[0]!;
const proxy = await startIamProxy({ template, upstreams: { dynamodb: dynamo.endpoint } });
// CreatePayment's function may put and get items of the table.
const createPayment = Object.keys(template.Resources ?? {}).find((id) => /^FunctionsCreatePayment[0-9A-F]{8}$/.test(id))!;
const environment = proxy.environmentFor(createPayment);
const proxied = new DynamoDBClient({
  region: localClientConfig.region,
  endpoint: proxy.endpoint,
  credentials: {
    accessKeyId: environment['AWS_ACCESS_KEY_ID']!,
    secretAccessKey: environment['AWS_SECRET_ACCESS_KEY']!,
    sessionToken: environment['AWS_SESSION_TOKEN']!,
  },
});

/** A put then a get of its own item, timed as one call each; with the CPU a call cost, here (the client and the proxy) and in DynamoDB Local. */
async function run(client: DynamoDBClient, label: string, parallel: number): Promise<string[]> {
  const latencies: number[] = [];
  let next = 0;
  const cpuBefore = { own: process.cpuUsage(), tree: cpuMsOfProcessTree() };
  const begun = performance.now();
  const worker = async () => {
    while (next < calls) {
      const index = next++;
      const key = { pk: { S: `${label}-${index}` }, sk: { S: 'bench' } };
      for (const command of [new PutItemCommand({ TableName: tableName, Item: key }), new GetItemCommand({ TableName: tableName, Key: key })]) {
        const started = performance.now();
        await client.send(command as PutItemCommand);
        latencies.push(performance.now() - started);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const seconds = (performance.now() - begun) / 1000;
  const own = process.cpuUsage(cpuBefore.own);
  const ownMs = (own.user + own.system) / 1000;
  const dynamoDbLocalMs = cpuMsOfProcessTree() - cpuBefore.tree - ownMs;
  latencies.sort((a, b) => a - b);
  return [
    label,
    String(parallel),
    fixed(percentile(latencies, 0.5)!, 2),
    fixed(percentile(latencies, 0.99)!, 2),
    fixed(latencies.length / seconds, 0),
    fixed(ownMs / latencies.length, 2),
    fixed(dynamoDbLocalMs / latencies.length, 2),
  ];
}

try {
  // Warm both paths (connections, the JIT) before anything is counted.
  await run(direct, 'warm-direct', 4);
  await run(proxied, 'warm-proxied', 4);
  const rows: string[][] = [];
  for (const parallel of [1, concurrency]) {
    rows.push(await run(direct, 'direct', parallel), await run(proxied, 'through the IAM proxy', parallel));
  }
  console.log(`\n${calls} PutItem + ${calls} GetItem per phase\n`);
  printTable(['path', 'at once', 'p50 ms', 'p99 ms', 'calls/s', 'CPU ms / call: client + proxy', 'DynamoDB Local'], rows, [0]);
} finally {
  direct.destroy();
  proxied.destroy();
  await proxy.close();
  await dynamo.stop();
}
