import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { ensureTables, localClientConfig, startDynamoDbLocal, type DynamoDbLocal } from '../../local/services/dynamodb-local.ts';
import { synthesizeTemplate } from '../../local/assembly/synthesize.ts';

export interface LocalTable {
  readonly db: DynamoDBDocumentClient;
  readonly name: string;
  /** DynamoDB Local's endpoint, for a client of one's own. */
  readonly endpoint: string;
}

/**
 * Starts DynamoDB Local for the calling test file, with the table the CDK app synthesizes
 * (its `by_due` index included), and stops it after the file: the conditions, transactions
 * and cancellation reasons the tests meet are DynamoDB's own, which a mock could only
 * repeat back. Read the table from the returned function inside tests or hooks.
 */
export function localTableForThisFile(): () => LocalTable {
  let dynamo: DynamoDbLocal | undefined;
  let client: DynamoDBClient | undefined;
  let table: LocalTable | undefined;

  beforeAll(async () => {
    dynamo = await startDynamoDbLocal({});
    client = new DynamoDBClient({ ...localClientConfig, endpoint: dynamo.endpoint });
    const [name] = Object.values(await ensureTables(client, synthesizeTemplate()));
    table = { db: createDocumentClient(client), name: name!, endpoint: dynamo.endpoint };
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await dynamo?.stop();
  });

  return () => {
    if (table === undefined) throw new Error('the table exists only once beforeAll has run');
    return table;
  };
}
