import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvVar } from '../../functions/config/env.ts';
import { readCloudAssembly } from '../../local/assembly/cloud-assembly.ts';
import { ensureAssembly } from '../../local/assembly/synthesize.ts';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/local-stack.ts';
import { localClientConfig } from '../../local/services/dynamodb-local.ts';
import { assemblyWith, functionOf, roleOf, withoutGrant, withoutInvokeGrant, withoutInvokePermission, withoutVariable } from '../support/synthesized-template.ts';

/**
 * What the local stack runs is what the template says, so a template that would fail on AWS
 * fails here: the synthesized assembly runs unchanged, and a copy of it (run as
 * `npm start -- --cdk-out DIR` runs one) with one thing taken from each of three functions:
 * CreatePayment's grant of dynamodb:PutItem, GetPayment's TABLE_NAME, the permission that
 * lets the schedule's rule invoke the reconciler, the payment saga role's grant to invoke
 * Authorize, and the permission that lets API Gateway invoke GetRefund. Each removal must break its function, and only it; the unchanged template must
 * pass the same requests.
 */
const root = mkdtempSync(path.join(tmpdir(), 'chargeonce-template-changes-'));
const stacks: Record<'unchanged' | 'changed', LocalStack> = {} as never;
/** The states that failed in the changed stack's executions, with their errors. */
const failedStates: { state: string; error: string }[] = [];

beforeAll(async () => {
  const synthesized = await ensureAssembly();
  const { template } = readCloudAssembly(synthesized);
  let changed = withoutGrant(template, roleOf(template, 'CreatePayment'), 'dynamodb:PutItem');
  changed = withoutVariable(changed, functionOf(template, 'GetPayment'), EnvVar.TableName);
  changed = withoutInvokePermission(changed, functionOf(template, 'Reconciler'), 'events.amazonaws.com');
  changed = withoutInvokeGrant(changed, functionOf(template, 'Authorize'));
  changed = withoutInvokePermission(changed, functionOf(template, 'GetRefund'), 'apigateway.amazonaws.com');
  const start = (name: string, cdkOut: string, options: Pick<LocalStackOptions, 'onExecutionEvent'> = {}) =>
    startLocalStack({ dataDir: path.join(root, name), cdkOut, port: 0, inMemory: true, reconcileEveryMs: 0, retryIntervalScale: 0.05, ...options });
  // One after the other: two stacks starting at once on two cores take longer than in turn.
  stacks.unchanged = await start('unchanged', synthesized);
  stacks.changed = await start('changed', assemblyWith(synthesized, changed, root), {
    onExecutionEvent: (_, event) => {
      if (event.type === 'StateFailed') failedStates.push({ state: event.state.name, error: event.Error });
    },
  });
});

afterAll(async () => {
  await Promise.all(Object.values(stacks).map((stack) => stack.stop()));
  rmSync(root, { recursive: true, force: true });
});

async function call(stack: LocalStack, method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

const payment = (orderNo: string) => ({ order_no: orderNo, amount: 1250, currency: 'USD', payment_method: 'pm_card_visa' });

describe('a template with one grant removed', () => {
  it("fails the request its function's role may no longer make, with the AccessDeniedException in the function's log", async () => {
    // Act
    const allowed = await call(stacks.unchanged, 'POST', '/v1/payments', payment('tc-granted'));
    const denied = await call(stacks.changed, 'POST', '/v1/payments', payment('tc-not-granted'));

    // Assess
    expect(allowed.status).toBe(201);
    expect(denied.status).toBe(500);
    const log = stacks.changed.functionLogs('CreatePayment').join('\n');
    expect(log).toContain('AccessDeniedException');
    expect(log).toMatch(/is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table\//);
    expect(stacks.unchanged.functionLogs('CreatePayment').join('\n')).not.toContain('AccessDeniedException');
  });
});

describe('a template with one environment variable removed', () => {
  it('fails that function at its first invocation, with the missing variable named in its log', async () => {
    // Act
    const unchanged = await call(stacks.unchanged, 'GET', '/v1/payments/pay_000000000000000000000000');
    const changed = await call(stacks.changed, 'GET', '/v1/payments/pay_000000000000000000000000');

    // Assess
    expect(unchanged.status).toBe(404);
    expect(changed.status).toBeGreaterThanOrEqual(500);
    expect(stacks.changed.functionLogs('GetPayment').join('\n')).toContain(`environment variable ${EnvVar.TableName} is not set`);
    expect(stacks.changed.environmentOf('GetPayment')[EnvVar.TableName]).toBeUndefined();
  });
});

describe("a template without the schedule's permission to invoke its target", () => {
  it('refuses the rule its invocation, as Lambda refuses EventBridge, and runs the reconciler on the unchanged one', async () => {
    // Act
    const unchanged = await stacks.unchanged.reconcile();
    const changed = stacks.changed.reconcile();

    // Assess
    // Each schedule's target once: the reconciler's and the settlement's.
    expect(unchanged).toHaveLength(2);
    await expect(changed).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(/^events\.amazonaws\.com \(source arn:aws:events:us-east-1:000000000000:rule\/.+\) is not authorized to perform: lambda:InvokeFunction/),
    });
    expect(stacks.changed.lambdaStats().find((stats) => stats.constructId === 'Reconciler')?.invocations).toBe(0);
  });
});

describe("a template whose state machine's role may no longer invoke one of its Tasks' functions", () => {
  const invocationsOf = (stack: LocalStack, constructId: string) => stack.lambdaStats().find((stats) => stats.constructId === constructId)?.invocations;

  it('fails that Task with Lambda.AccessDeniedException, never invoking the function, and invokes it on the unchanged one', async () => {
    // Act: an execution of the payment saga, started as a route would start it.
    for (const stack of Object.values(stacks)) {
      const client = new SFNClient({ ...localClientConfig, endpoint: stack.stepFunctionsEndpoint });
      const input = JSON.stringify({ payment_no: 'pay_000000000000000000000001' });
      await client.send(new StartExecutionCommand({ stateMachineArn: stack.templateOutputs['StateMachineArn'], name: 'template-changes', input }));
      client.destroy();
    }
    await Promise.all(Object.values(stacks).map((stack) => stack.idle()));

    // Assess
    expect(invocationsOf(stacks.unchanged, 'Authorize')).toBeGreaterThan(0);
    expect(invocationsOf(stacks.changed, 'Authorize')).toBe(0);
    expect(failedStates).toContainEqual({ state: 'Authorize', error: 'Lambda.AccessDeniedException' });
  });
});

describe("a template without API Gateway's permission to invoke a route's function", () => {
  it('answers that route 500, as API Gateway does when Lambda refuses it, never invoking the function, and serves it on the unchanged one', async () => {
    // Act
    const unchanged = await call(stacks.unchanged, 'GET', '/v1/refunds/ref_000000000000000000000000');
    const changed = await call(stacks.changed, 'GET', '/v1/refunds/ref_000000000000000000000000');

    // Assess
    expect(unchanged.status).toBe(404);
    expect(changed).toMatchObject({ status: 500, body: { error: { code: 'gateway_error', message: 'Internal server error' } } });
    expect(stacks.unchanged.lambdaStats().find((stats) => stats.constructId === 'GetRefund')?.invocations).toBe(1);
    expect(stacks.changed.lambdaStats().find((stats) => stats.constructId === 'GetRefund')?.invocations).toBe(0);
  });
});
