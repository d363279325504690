import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, createDynamoClient, translateDynamoError } from '../../../functions/adapters/dynamodb/client.ts';
import { DynamoPaymentRepository } from '../../../functions/adapters/dynamodb/payment-repository.ts';
import { StepFunctionsWorkflow, createSfnClient } from '../../../functions/adapters/sfn/step-functions-workflow.ts';
import type { AwsCallBudget } from '../../../functions/config/env.ts';
import { DatabaseUnavailableError, WorkflowUnavailableError } from '../../../functions/domain/errors.ts';

/**
 * DynamoDB and Step Functions that hang: a server that accepts every connection and never
 * answers, as a paused DynamoDB Local or a stuck endpoint does. The clients must give up
 * within their budget and name the service unavailable, never wait on the socket.
 */
let hung: Server;
const sockets: Socket[] = [];
let requestsSeen = 0;

const budget: AwsCallBudget = { connectTimeoutMs: 200, requestTimeoutMs: 300, maxAttempts: 2 };

beforeAll(async () => {
  hung = createServer((socket) => {
    sockets.push(socket);
    socket.once('data', () => requestsSeen++);
  });
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_SFN: endpoint,
  });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => hung.close(() => resolve()));
});

/** Rejects if `call` neither answers nor fails within 10 s: the hang the budget must prevent. */
async function settledWithin10s<T>(call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the call hung past 10 s')), 10_000);
  });
  try {
    return await Promise.race([call, hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a hung endpoint', () => {
  it('fails a DynamoDB read as DatabaseUnavailable after every attempt timed out', async () => {
    // Prepare
    const repository = new DynamoPaymentRepository(createDocumentClient(createDynamoClient(budget)), 'payments');
    const before = requestsSeen;

    // Act
    const read = settledWithin10s(repository.get('pay_0123456789abcdef01234567'));

    // Assess
    await expect(read).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(read).rejects.toThrow('DynamoDB is unavailable (TimeoutError)');
    expect(requestsSeen - before).toBe(budget.maxAttempts);
  });

  it('fails a Step Functions start as WorkflowUnavailable', async () => {
    const workflow = new StepFunctionsWorkflow(createSfnClient(budget), 'arn:aws:states:us-east-1:000000000000:stateMachine:payments');

    const start = settledWithin10s(workflow.start('pay_1', 'pay_1'));

    await expect(start).rejects.toBeInstanceOf(WorkflowUnavailableError);
  });
});

describe('translateDynamoError', () => {
  const sdkError = (name: string, httpStatusCode?: number) =>
    Object.assign(new Error(name), { name, $metadata: httpStatusCode === undefined ? {} : { httpStatusCode } });

  it.each([
    ['the SDK’s own timeout', sdkError('TimeoutError')],
    ['DynamoDB’s RequestTimeout, a 400', sdkError('RequestTimeout', 400)],
    ['DynamoDB’s RequestTimeoutException, a 400', sdkError('RequestTimeoutException', 400)],
  ])('names %s DatabaseUnavailable, which the state machine retries and the API answers 503', (_, error) => {
    expect(() => translateDynamoError(error)).toThrow(DatabaseUnavailableError);
  });

  it('leaves a refusal that is not a timeout as it is', () => {
    const refused = sdkError('ValidationException', 400);

    expect(() => translateDynamoError(refused)).toThrow(refused);
  });
});
