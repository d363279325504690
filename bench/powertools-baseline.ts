/**
 * The duplicate storm's baseline: CreatePayment's route logic, without Chargeonce's own
 * idempotency layer, made idempotent by Powertools' idempotency utility with its DynamoDB
 * persistence, keyed by the Idempotency-Key header: what a Powertools user would put around
 * the same handler.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { createPaymentRoute } from '../functions/handlers/api/create-payment.ts';
import { apiHandler, errorBody } from '../functions/handlers/api/http.ts';
import type { ProxyHandler } from '../local/services/api-gateway-local.ts';
import { localClientConfig } from '../local/services/dynamodb-local.ts';

/** The table Powertools documents for its records: partition key `id` (S), on demand. */
export async function createIdempotencyTable(dynamoDbEndpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ ...localClientConfig, endpoint: dynamoDbEndpoint });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } finally {
    client.destroy();
  }
}

/**
 * `POST /v1/payments` behind Powertools: its records in `tableName`, reached through
 * `dynamoEndpoint` (the endpoint the handlers use, so its requests are counted with theirs).
 */
export function powertoolsCreatePayment(tableName: string, dynamoEndpoint: string, useLocalCache: boolean): ProxyHandler {
  // Typed as a Lambda handler: Powertools takes the remaining time of the context it is called with.
  const route: ProxyHandler = apiHandler('CreatePayment', createPaymentRoute);
  const idempotent = makeIdempotent(route, {
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName,
      clientConfig: { ...localClientConfig, endpoint: dynamoEndpoint },
    }),
    config: new IdempotencyConfig({
      eventKeyJmesPath: 'headers."Idempotency-Key"',
      // Otherwise a request without the header runs unguarded, and a storm would count nothing.
      throwOnNoIdempotencyKey: true,
      // Another body under the same key is refused, as Chargeonce refuses it.
      payloadValidationJmesPath: 'body',
      // Off by default; on, it keeps finished records in memory as Chargeonce's layer does.
      useLocalCache,
    }),
  });
  return async (event, context) => {
    try {
      return await idempotent(event, context);
    } catch (error) {
      // Powertools throws for a repeat that arrives while the first request runs, which API
      // Gateway would answer with a 502: answered as Chargeonce answers it instead, so that the
      // two columns count the same answers for the same situation.
      if (!(error instanceof IdempotencyAlreadyInProgressError)) throw error;
      return {
        statusCode: 409,
        headers: { 'Content-Type': 'application/json', 'Retry-After': '1' },
        body: JSON.stringify(errorBody('request_in_progress', error.message, 'Idempotency-Key')),
      };
    }
  };
}
