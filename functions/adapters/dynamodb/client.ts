import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCallBudget } from '../../config/env.ts';
import {
  ChargeonceError,
  DatabaseThrottledError,
  DatabaseUnavailableError,
} from '../../domain/errors.ts';
import { audited, clientConfigFor } from '../aws-client-config.ts';

/**
 * A DynamoDB client whose every call gives up within `budget`, so a hung table fails closed;
 * the functions' client, so its writes are audited against their crash points.
 */
export function createDynamoClient(budget: AwsCallBudget): DynamoDBClient {
  return audited(new DynamoDBClient(clientConfigFor(budget)));
}

/**
 * The document client every repository shares. The endpoint comes from the SDK's own
 * configuration (`AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`), so DynamoDB Local,
 * LocalStack and AWS need no code of ours.
 */
export function createDocumentClient(client = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

const throttlingErrors = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

/**
 * A call that took too long: the SDK's NodeHttpHandler names its connection, request and
 * socket timeouts (and a socket reset or timed out under it) `TimeoutError`; DynamoDB itself
 * answers `RequestTimeout` / `RequestTimeoutException`, with a 4xx status, when a request
 * reached it too slowly. The SDK's own list of transient errors names the same three.
 */
const timeoutErrors = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/**
 * Turns DynamoDB's transient failures into the named errors the state machine retries;
 * anything else (a bug, a missing table) is rethrown as it is.
 */
export function translateDynamoError(error: unknown): never {
  // Already ours (an adapter's own refusal): its `code` is not a network error's.
  if (error instanceof ChargeonceError) throw error;
  const name = error instanceof Error ? error.name : '';
  if (throttlingErrors.has(name)) {
    throw new DatabaseThrottledError(`DynamoDB throttled the request (${name})`, { cause: error });
  }
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const networkFailure = (error as { code?: string }).code !== undefined && status === undefined;
  if ((status !== undefined && status >= 500) || networkFailure || timeoutErrors.has(name)) {
    throw new DatabaseUnavailableError(`DynamoDB is unavailable (${name})`, { cause: error });
  }
  throw error;
}
