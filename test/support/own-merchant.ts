import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createMerchant, newMerchantId } from '../../bin/merchants.ts';
import { localClientConfig } from '../../local/services/dynamodb-local.ts';
import { target } from './target.ts';

/** A new merchant's API key, written straight to the stack's table: one test's alone, no other test's records in its lists or its settings. */
export async function newMerchantKey(name: string): Promise<string> {
  const table = target().table;
  if (table === undefined) throw new Error('a merchant of its own needs the stack’s table (the local stack gives it)');
  const client = new DynamoDBClient({ ...localClientConfig, endpoint: table.endpoint });
  try {
    return (await createMerchant({ tableName: table.name, name, merchantId: newMerchantId(), client })).apiKey;
  } finally {
    client.destroy();
  }
}
