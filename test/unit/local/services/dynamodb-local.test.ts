import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureTables,
  localClientConfig,
  startDynamoDbLocal,
  type DynamoDbLocal,
} from '../../../../local/services/dynamodb-local.ts';

/** A table as `cdk synth` writes it: no TableName, a GSI, a TTL attribute. */
const template = {
  Resources: {
    PaymentsTable4E3A: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'gsi1pk', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [
          { IndexName: 'gsi1', KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
      UpdateReplacePolicy: 'Retain',
    },
    SomeFunction: { Type: 'AWS::Lambda::Function', Properties: {} },
  },
};

describe('DynamoDB Local', () => {
  let dynamo: DynamoDbLocal;
  let client: DynamoDBClient;

  beforeAll(async () => {
    dynamo = await startDynamoDbLocal({ port: 0 });
    client = new DynamoDBClient({ ...localClientConfig, endpoint: dynamo.endpoint });
  }, 30_000);

  afterAll(async () => {
    client?.destroy();
    await dynamo?.stop();
  });

  it('creates the tables of a template with their GSI and TTL, once', async () => {
    // Act
    const names = await ensureTables(client, template);
    const again = await ensureTables(client, template);
    const table = await client.send(new DescribeTableCommand({ TableName: 'PaymentsTable4E3A' }));
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: 'PaymentsTable4E3A' }));
    await client.send(
      new PutItemCommand({ TableName: 'PaymentsTable4E3A', Item: { pk: { S: 'p1' }, sk: { S: 'v' }, gsi1pk: { S: 'm1' } } }),
    );
    const byIndex = await client.send(
      new QueryCommand({
        TableName: 'PaymentsTable4E3A',
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :m',
        ExpressionAttributeValues: { ':m': { S: 'm1' } },
      }),
    );

    // Assess
    expect(names).toEqual({ PaymentsTable4E3A: 'PaymentsTable4E3A' });
    expect(again).toEqual(names);
    expect(table.Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['gsi1']);
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    expect(byIndex.Count).toBe(1);
  });

  it('hangs while paused, as a frozen database does, and answers what was asked once resumed', async () => {
    // Prepare
    const listTables = () => client.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(1000) });
    await listTables();

    // Act
    await dynamo.pause();
    const whilePaused = listTables();
    await expect(whilePaused).rejects.toMatchObject({ name: 'AbortError' });
    dynamo.resume();

    // Assess
    await expect(listTables()).resolves.toMatchObject({ TableNames: expect.any(Array) });
  });

  it('refuses a busy port with a message that names it', async () => {
    // Prepare
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const port = (blocker.address() as { port: number }).port;

    // Act
    const starting = startDynamoDbLocal({ port });

    // Assess
    await expect(starting).rejects.toThrow(`port ${port} is already in use`);
    blocker.close();
  });
});

describe('DynamoDB Local on disk', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'chargeonce-ddb-shared-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const tableNames = async (endpoint: string, accessKeyId: string, region: string) => {
    const client = new DynamoDBClient({ region, credentials: { accessKeyId, secretAccessKey: 'x' }, endpoint });
    try {
      return (await client.send(new ListTablesCommand({}))).TableNames;
    } finally {
      client.destroy();
    }
  };

  it('keeps one database for every access key, and adopts the file an unshared one left', async () => {
    // Prepare: a database written as the local stack's clients, then moved to the name an
    // unshared DynamoDB Local gave it.
    const first = await startDynamoDbLocal({ dbPath: dataDir });
    await ensureTables(new DynamoDBClient({ ...localClientConfig, endpoint: first.endpoint }), template);
    const seenByAnotherRole = await tableNames(first.endpoint, 'ASIAOTHERROLE', 'eu-west-1');
    await first.stop();
    renameSync(join(dataDir, 'shared-local-instance.db'), join(dataDir, 'local_us-east-1.db'));

    // Act
    const second = await startDynamoDbLocal({ dbPath: dataDir });
    const afterUpgrade = await tableNames(second.endpoint, 'ASIAYETANOTHER', 'us-east-1');
    await second.stop();

    // Assess
    expect(seenByAnotherRole).toEqual(['PaymentsTable4E3A']);
    expect(afterUpgrade).toEqual(['PaymentsTable4E3A']);
  });
});
