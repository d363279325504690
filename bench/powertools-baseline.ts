/**
 * The duplicate storm's baseline, a Lambda function of its own: CreatePayment's route logic,
 * without Chargeonce's own idempotency layer, made idempotent by Powertools' idempotency
 * utility with its DynamoDB persistence, keyed by the Idempotency-Key header: what a
 * Powertools user would put around the same handler. The storm bundles it and has the local
 * stack serve the route with it (`replaceCode`); its records live in the table
 * `IDEMPOTENCY_TABLE`, reached like every function's DynamoDB calls (`AWS_ENDPOINT_URL_DYNAMODB`).
 */
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { createPaymentRoute } from '../functions/handlers/api/create-payment.ts';
import { apiHandler, errorBody } from '../functions/handlers/api/http.ts';
import { BaselineEnv } from './powertools-baseline-env.ts';

const route = apiHandler('CreatePayment', createPaymentRoute);
// Typed as a Lambda handler: Powertools takes the remaining time of the context it is called with.
const idempotent = makeIdempotent((event: APIGatewayProxyEvent, _context: Context) => route(event), {
  persistenceStore: new DynamoDBPersistenceLayer({ tableName: process.env[BaselineEnv.Table] ?? '' }),
  config: new IdempotencyConfig({
    eventKeyJmesPath: 'headers."Idempotency-Key"',
    // Otherwise a request without the header runs unguarded, and a storm would count nothing.
    throwOnNoIdempotencyKey: true,
    // Another body under the same key is refused, as Chargeonce refuses it.
    payloadValidationJmesPath: 'body',
    // Off by default; on, it keeps finished records in memory as Chargeonce's layer does.
    useLocalCache: process.env[BaselineEnv.LocalCache] === '1',
  }),
});

export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
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
}
