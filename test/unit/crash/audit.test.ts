import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_MIDDLEWARE } from '../../../functions/adapters/aws-client-config.ts';
import { createDocumentClient, createDynamoClient } from '../../../functions/adapters/dynamodb/client.ts';
import { createSfnClient } from '../../../functions/adapters/sfn/step-functions-workflow.ts';
import { createStripeClient } from '../../../functions/adapters/stripe/client.ts';
import { ROUTE_AWS_CALL_BUDGET } from '../../../functions/config/env.ts';
import { auditViolations } from '../../../functions/crash/audit.ts';
import { withCrashPoints } from '../../../functions/crash/crashing-ports.ts';
import { asInvocationOf } from '../../../functions/crash/invocation.ts';

/**
 * The crash audit, on the clients the functions build: a state-changing call made inside a
 * function invocation must pass a crash point of its kind, or it is refused before it leaves.
 * The calls land on a recorder standing in for DynamoDB, Step Functions and Stripe.
 */
let recorder: Server;
let base: string;
const received: string[] = [];

beforeAll(async () => {
  recorder = createServer((request, response) => {
    received.push(`${request.method} ${request.headers['x-amz-target'] ?? request.url}`);
    const body = request.url?.startsWith('/v1/refunds') ? { id: 're_1', object: 'refund', status: 'succeeded' } : {};
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: base,
    AWS_ENDPOINT_URL_SFN: base,
    CRASH_AUDIT: '1',
  });
});

afterEach(() => {
  received.length = 0;
});

afterAll(async () => {
  delete process.env.CRASH_AUDIT;
  await new Promise<void>((resolve) => recorder.close(() => resolve()));
});

const table = () => createDocumentClient(createDynamoClient(ROUTE_AWS_CALL_BUDGET));
const put = new PutCommand({ TableName: 't', Item: { pk: 'CLASS#c-1', sk: 'CLASS' } });
const newViolations = (before: number) => auditViolations().slice(before);

describe('the crash audit', () => {
  it('refuses a DynamoDB write a function makes through no crash point, before it is sent', async () => {
    // Prepare
    const before = auditViolations().length;

    // Act
    const write = asInvocationOf('create-class', () => table().send(put));

    // Assess
    await expect(write).rejects.toMatchObject({ name: 'UnguardedCall' });
    expect(received).toEqual([]);
    expect(newViolations(before)).toEqual([expect.stringContaining('DynamoDB_20120810.PutItem in create-class, outside any crash point')]);
  });

  it('lets the same write through a port wrapped with its crash points, and a read through none', async () => {
    // Prepare
    const before = auditViolations().length;
    const client = table();
    const port = withCrashPoints({ save: () => client.send(put) }, { save: 'write' });

    // Act
    await asInvocationOf('create-class', async () => {
      await port.save();
      await client.send(new GetCommand({ TableName: 't', Key: { pk: 'CLASS#c-1', sk: 'CLASS' } }));
    });

    // Assess
    expect(received).toEqual(['POST DynamoDB_20120810.PutItem', 'POST DynamoDB_20120810.GetItem']);
    expect(newViolations(before)).toEqual([]);
  });

  it('refuses a write made inside a crash point of another kind', async () => {
    const before = auditViolations().length;
    const client = table();
    const port = withCrashPoints({ start: () => client.send(put) }, { start: 'start' });

    const write = asInvocationOf('create-payment', () => port.start());

    await expect(write).rejects.toMatchObject({ name: 'UnguardedCall' });
    expect(newViolations(before)).toEqual([expect.stringContaining('PutItem in create-payment, inside a start crash point')]);
  });

  it('leaves alone what runs outside any function invocation (the local stack setting itself up)', async () => {
    const before = auditViolations().length;

    await table().send(put);

    expect(received).toEqual(['POST DynamoDB_20120810.PutItem']);
    expect(newViolations(before)).toEqual([]);
  });

  it('refuses a Step Functions start a function makes through no crash point', async () => {
    const before = auditViolations().length;
    const start = new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:0:stateMachine:s', name: 'n', input: '{}' });

    const started = asInvocationOf('create-refund', () => createSfnClient(ROUTE_AWS_CALL_BUDGET).send(start));

    await expect(started).rejects.toMatchObject({ name: 'UnguardedCall' });
    expect(received).toEqual([]);
    expect(newViolations(before)).toEqual([expect.stringContaining('AWSStepFunctions.StartExecution in create-refund')]);
  });

  it('refuses a provider POST a function makes through no crash point, and lets its reads through', async () => {
    // Prepare
    const before = auditViolations().length;
    const stripe = createStripeClient({ apiKey: 'sk_test_audit', apiBase: base });

    // Act
    const refunded = asInvocationOf('submit-refund', () =>
      stripe.refunds.create({ payment_intent: 'pi_1', amount: 100 }, { idempotencyKey: 're_1' }),
    );
    await expect(refunded).rejects.toThrow();
    await asInvocationOf('submit-refund', () => stripe.refunds.retrieve('re_1'));

    // Assess: the SDK reports a client that failed as a connection error; the audit recorded why.
    expect(received).toEqual(['GET /v1/refunds/re_1']);
    expect(newViolations(before)).toEqual([expect.stringContaining('Stripe POST /v1/refunds in submit-refund, outside any crash point')]);
  });

  it('is part of every AWS client the functions build', () => {
    const names = [createDynamoClient(ROUTE_AWS_CALL_BUDGET), createSfnClient(ROUTE_AWS_CALL_BUDGET)].map((client) =>
      client.middlewareStack.identify(),
    );

    for (const identified of names) expect(identified).toContainEqual(expect.stringContaining(AUDIT_MIDDLEWARE));
  });
});
