import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvVar } from '../../../functions/config/env.ts';

/**
 * The real create handlers, their real DynamoDB adapter and SDK, with DynamoDB out of reach
 * (a port nothing listens on): the idempotency store cannot be asked whether a key was seen,
 * so the API must refuse with a 503 and never "process anyway". Whatever reaches the
 * provider or Step Functions lands on a recorder, which must stay silent.
 */
let recorder: Server;
const recorded: string[] = [];

beforeAll(async () => {
  recorder = createServer((request, response) => {
    recorded.push(`${request.method} ${request.url}`);
    response.writeHead(500).end();
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // Port 9 (discard) is closed on any test machine: every DynamoDB call is refused.
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_SFN: base,
    AWS_MAX_ATTEMPTS: '1',
    [EnvVar.TableName]: 'chargeonce-unreachable',
    [EnvVar.StateMachineArn]: 'arn:aws:states:us-east-1:000000000000:stateMachine:payments',
    [EnvVar.RefundStateMachineArn]: 'arn:aws:states:us-east-1:000000000000:stateMachine:refunds',
    [EnvVar.StripeApiKey]: 'sk_test_unreachable',
    [EnvVar.StripeApiBase]: base,
    [EnvVar.DeploymentId]: 'fail-closed-test',
  });
});

afterAll(() => new Promise<void>((resolve) => recorder.close(() => resolve())));

function post(body: unknown, idempotencyKey?: string): APIGatewayProxyEvent {
  return {
    body: JSON.stringify(body),
    isBase64Encoded: false,
    headers: idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey },
    requestContext: { requestId: 'r-1', authorizer: { merchant_id: 'm_fail_closed' } },
  } as unknown as APIGatewayProxyEvent;
}

function expectFailedClosed(result: APIGatewayProxyResult): void {
  expect(result.statusCode).toBe(503);
  expect(Number(result.headers?.['Retry-After'])).toBeGreaterThanOrEqual(1);
  expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'database_unavailable' } });
  expect(recorded).toEqual([]);
}

describe('with the idempotency store out of reach', () => {
  it('POST /v1/payments answers 503 with Retry-After and charges nothing', async () => {
    const { handler } = await import('../../../functions/handlers/api/create-payment.ts');
    const body = { order_no: 'o-fail-closed', amount: 1250, currency: 'usd', payment_method: 'pm_card_visa' };
    expectFailedClosed(await handler(post(body, 'key-1')));
    expectFailedClosed(await handler(post(body)));
  });

  it('POST /v1/refunds answers 503 with Retry-After and refunds nothing', async () => {
    const { handler } = await import('../../../functions/handlers/api/create-refund.ts');
    const body = { payment_no: 'pay_000000000000000000000000', amount: 100, operator_id: 'op-1' };
    expectFailedClosed(await handler(post(body, 'key-2')));
  });
});
