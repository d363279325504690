import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidName,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import {
  scaleIntervals,
  startStepFunctionsLocal,
  type StepFunctionsLocal,
  type TaskHandler,
} from '../../../../local/services/stepfunctions-local.ts';

const lambdaArn = (id: string) => `arn:aws:lambda:us-east-1:000000000000:function:${id}`;

/** Charge → (retry ProviderUnavailable, catch CardDeclined → Compensate) → Done. */
const chargeDefinition = {
  StartAt: 'Charge',
  States: {
    Charge: {
      Type: 'Task',
      Resource: lambdaArn('ChargeFunction'),
      Retry: [{ ErrorEquals: ['ProviderUnavailable'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['CardDeclined'], ResultPath: '$.failure', Next: 'Compensate' }],
      Next: 'Done',
    },
    Compensate: { Type: 'Task', Resource: lambdaArn('CompensateFunction'), End: true },
    Done: { Type: 'Succeed' },
  },
};

class NamedError extends Error {
  constructor(override readonly name: string, message: string) {
    super(message);
  }
}

const open: StepFunctionsLocal[] = [];
const directories: string[] = [];

/** The Charge and Compensate Tasks' functions. */
async function start(
  { Charge, Compensate }: Partial<Record<'Charge' | 'Compensate', TaskHandler>>,
  { definition = chargeDefinition, ...extra }: { dataDir?: string; definition?: Record<string, unknown> } = {},
): Promise<{ sfn: StepFunctionsLocal; client: SFNClient; arn: string }> {
  const sfn = await startStepFunctionsLocal({
    stateMachines: [{ name: 'Payments', definition, functions: { ...(Charge && { ChargeFunction: Charge }), ...(Compensate && { CompensateFunction: Compensate }) } }],
    retryIntervalScale: 0.01,
    log: () => {},
    ...extra,
  });
  open.push(sfn);
  const client = new SFNClient({
    endpoint: sfn.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { sfn, client, arn: sfn.stateMachineArn('Payments') };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((sfn) => sfn.close()));
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('Step Functions local, driven through @aws-sdk/client-sfn', () => {
  it('runs an execution to SUCCEEDED and describes its input and output', async () => {
    // Prepare
    const { sfn, client, arn } = await start({
      Charge: async (input: { amount: number }) => ({ ...input, charged: true }),
      Compensate: async (input: unknown) => input,
    });

    // Act
    const started = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'pay-1', input: '{"amount":500}' }));
    await sfn.idle();
    const described = await client.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));

    // Assess
    expect(started.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:Payments:pay-1');
    expect(started.startDate).toBeInstanceOf(Date);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output!)).toEqual({ amount: 500, charged: true });
    expect(described.input).toBe('{"amount":500}');
    expect(described.stopDate!.getTime()).toBeGreaterThanOrEqual(described.startDate!.getTime());
  });

  it('answers a repeated start with the same name and input with the same execution while it runs', async () => {
    // Prepare
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const { sfn, client, arn } = await start({
      Charge: async () => {
        calls += 1;
        await gate;
        return {};
      },
      Compensate: async () => ({}),
    });
    const first = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'pay-2', input: '{"a":1}' }));

    // Act
    const second = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'pay-2', input: '{"a":1}' }));
    const otherInput = client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'pay-2', input: '{"a":2}' }));

    // Assess
    expect(second.executionArn).toBe(first.executionArn);
    expect(second.startDate).toEqual(first.startDate);
    await expect(otherInput).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    release();
    await sfn.idle();
    expect(calls).toBe(1);
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'pay-2', input: '{"a":1}' })),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('rejects an invalid name, an unknown state machine and an unknown execution with their AWS errors', async () => {
    // Prepare
    const { client, arn } = await start({ Charge: async () => ({}), Compensate: async () => ({}) });

    // Act
    const badName = client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'has space' }));
    const noMachine = client.send(
      new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Nope' }),
    );
    const noExecution = client.send(
      new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:Payments:nope' }),
    );

    // Assess
    await expect(badName).rejects.toBeInstanceOf(InvalidName);
    await expect(noMachine).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(noExecution).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(noExecution).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });

  it('retries a Task that throws ProviderUnavailable, by the error name', async () => {
    // Prepare
    let attempts = 0;
    const { sfn, client, arn } = await start({
      Charge: async () => {
        attempts += 1;
        if (attempts < 3) throw new NamedError('ProviderUnavailable', 'provider timed out');
        return { charged: true };
      },
      Compensate: async () => ({ compensated: true }),
    });

    // Act
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'retry-1' }));
    await sfn.idle();
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));

    // Assess
    expect(attempts).toBe(3);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output!)).toEqual({ charged: true });
  });

  it('catches a Task that throws CardDeclined into the compensation, with a Lambda-shaped cause', async () => {
    // Prepare
    let attempts = 0;
    const { sfn, client, arn } = await start({
      Charge: async () => {
        attempts += 1;
        throw new NamedError('CardDeclined', 'insufficient funds');
      },
      Compensate: async (input: unknown) => ({ compensatedFrom: input }),
    });

    // Act
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'catch-1', input: '{"paymentNo":"p1"}' }),
    );
    await sfn.idle();
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));

    // Assess
    expect(attempts).toBe(1);
    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(described.output!);
    expect(output.compensatedFrom.paymentNo).toBe('p1');
    expect(output.compensatedFrom.failure.Error).toBe('CardDeclined');
    expect(JSON.parse(output.compensatedFrom.failure.Cause)).toMatchObject({
      errorType: 'CardDeclined',
      errorMessage: 'insufficient funds',
    });
  });

  it('fails the execution with the error name when no Retry or Catch matches', async () => {
    // Prepare
    const { sfn, client, arn } = await start({
      Charge: async () => {
        throw new NamedError('ProviderRejected', 'bad request');
      },
      Compensate: async () => ({}),
    });

    // Act
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'fail-1' }));
    await sfn.idle();
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    const failed = await client.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'FAILED' }));

    // Assess
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('ProviderRejected');
    expect(JSON.parse(described.cause!).errorMessage).toBe('bad request');
    expect(failed.executions?.map((execution) => execution.name)).toEqual(['fail-1']);
  });

  it.each([
    ['retried by a Retry on it', [{ ErrorEquals: ['States.Timeout'], IntervalSeconds: 1, MaxAttempts: 1 }], 'SUCCEEDED'],
    ['failing the execution without one', [], 'FAILED'],
  ])('times a Task out past its TimeoutSeconds as States.Timeout, %s', async (_, retry, status) => {
    // Prepare: the first invocation outlives the Task's timeout, the second answers at once.
    let attempts = 0;
    const definition = {
      StartAt: 'Charge',
      States: { Charge: { Type: 'Task', Resource: lambdaArn('ChargeFunction'), TimeoutSeconds: 1, Retry: retry, End: true } },
    };
    const { sfn, client, arn } = await start(
      {
        Charge: async () => {
          attempts += 1;
          if (attempts === 1) await new Promise((resolve) => setTimeout(resolve, 1500));
          return { attempt: attempts };
        },
      },
      { definition },
    );

    // Act
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'timeout-1' }));
    await sfn.idle();
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));

    // Assess
    expect(described.status).toBe(status);
    if (status === 'SUCCEEDED') expect(JSON.parse(described.output!)).toEqual({ attempt: 2 });
    else expect(described.error).toBe('States.Timeout');
  });

  it('stops a running execution as ABORTED with the given error and cause', async () => {
    // Prepare
    const { sfn, client, arn } = await start({
      Charge: () => new Promise((resolve) => setTimeout(() => resolve({}), 200)),
      Compensate: async () => ({}),
    });
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'stop-1' }));

    // Act
    await client.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped by hand' }));
    await sfn.idle();
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));

    // Assess
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by hand' });
  });

  it('passes Payload to a lambda:invoke Task and wraps its result like the optimized integration', async () => {
    // Prepare
    const received: unknown[] = [];
    const sfn = await startStepFunctionsLocal({
      stateMachines: [
        {
          name: 'Invoke',
          definition: {
            StartAt: 'Capture',
            States: {
              Capture: {
                Type: 'Task',
                Resource: 'arn:aws:states:::lambda:invoke',
                Parameters: { FunctionName: lambdaArn('CaptureFunction'), 'Payload.$': '$' },
                ResultSelector: { 'captured.$': '$.Payload.captured', 'status.$': '$.StatusCode' },
                End: true,
              },
            },
          },
          functions: {
            CaptureFunction: async (input: unknown) => {
              received.push(input);
              return { captured: true };
            },
          },
        },
      ],
      log: () => {},
    });
    open.push(sfn);
    const client = new SFNClient({
      endpoint: sfn.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });

    // Act
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn: sfn.stateMachineArn('Invoke'), input: '{"paymentNo":"p9"}' }),
    );
    await sfn.idle();
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));

    // Assess
    expect(received).toEqual([{ paymentNo: 'p9' }]);
    expect(JSON.parse(described.output!)).toEqual({ captured: true, status: 200 });
  });

  it("gives an execution's history as GetExecutionHistory does: states entered and exited, each attempt and failure of a Task", async () => {
    // Prepare
    let attempts = 0;
    const { sfn, client, arn } = await start({
      Charge: async () => {
        attempts += 1;
        if (attempts < 2) throw new NamedError('ProviderUnavailable', 'provider timed out');
        return { charged: true };
      },
      Compensate: async () => ({}),
    });
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'history-1', input: '{"paymentNo":"p1"}' }));
    await sfn.idle();

    // Act
    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    const newestFirst = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1, includeExecutionData: false }));

    // Assess
    expect(events!.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskFailed',
      'TaskScheduled',
      'TaskStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events!.map((event) => event.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events![1]!.stateEnteredEventDetails).toEqual({ name: 'Charge', input: '{"paymentNo":"p1"}' });
    expect(events![3]!.taskFailedEventDetails).toMatchObject({ error: 'ProviderUnavailable' });
    expect(events![0]!.timestamp).toBeInstanceOf(Date);
    expect(newestFirst.events).toEqual([expect.objectContaining({ type: 'ExecutionSucceeded', executionSucceededEventDetails: {} })]);
    expect(newestFirst.nextToken).toBeDefined();
  });

  it("keeps an ended execution's history across a restart on the same data directory", async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'sfn-local-'));
    directories.push(dataDir);
    const first = await start({ Charge: async () => ({ charged: true }), Compensate: async () => ({}) }, { dataDir });
    const { executionArn } = await first.client.send(new StartExecutionCommand({ stateMachineArn: first.arn, name: 'kept-1' }));
    await first.sfn.idle();
    const before = await first.client.send(new GetExecutionHistoryCommand({ executionArn }));
    await first.sfn.close();

    // Act
    const restarted = await start({ Charge: async () => ({}), Compensate: async () => ({}) }, { dataDir });
    const after = await restarted.client.send(new GetExecutionHistoryCommand({ executionArn }));

    // Assess
    expect(after.events).toEqual(before.events);
    expect(after.events!.at(-1)!.type).toBe('ExecutionSucceeded');
  });

  it('reports an execution that was RUNNING when its process died as ABORTED after a restart', async () => {
    // Prepare: a snapshot of the data directory taken while the execution runs is what a
    // crash (SIGKILL) leaves behind.
    const dataDir = mkdtempSync(join(tmpdir(), 'sfn-local-'));
    const crashedDir = mkdtempSync(join(tmpdir(), 'sfn-local-crashed-'));
    directories.push(dataDir, crashedDir);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = await start(
      { Charge: async (input: { hang?: boolean }) => (input.hang ? gate.then(() => ({})) : {}), Compensate: async () => ({}) },
      { dataDir },
    );
    await first.client.send(new StartExecutionCommand({ stateMachineArn: first.arn, name: 'done-1' }));
    await first.sfn.idle();
    const { executionArn } = await first.client.send(
      new StartExecutionCommand({ stateMachineArn: first.arn, name: 'crashed-1', input: '{"hang":true}' }),
    );
    cpSync(dataDir, crashedDir, { recursive: true });
    release();

    // Act
    const restarted = await start({ Charge: async () => ({}), Compensate: async () => ({}) }, { dataDir: crashedDir });
    const described = await restarted.client.send(new DescribeExecutionCommand({ executionArn }));
    const earlier = await restarted.client.send(
      new DescribeExecutionCommand({ executionArn: executionArn!.replace('crashed-1', 'done-1') }),
    );

    // Assess
    expect(described).toMatchObject({
      status: 'ABORTED',
      error: 'States.Runtime',
      cause: 'the local stack stopped while it ran',
    });
    expect(described.stopDate).toBeInstanceOf(Date);
    expect(earlier.status).toBe('SUCCEEDED');
  });

  it('shortens Wait states by the same scale as retries, so an hour-long wait passes in a test', async () => {
    // Prepare: with the scale not applied to it, the Wait would outlast the test's timeout.
    const definition = {
      StartAt: 'Wait',
      States: { Wait: { Type: 'Wait', Seconds: 3600, Next: 'Look' }, Look: { Type: 'Task', Resource: lambdaArn('Look'), End: true } },
    };
    const looked: unknown[] = [];
    const sfn = await startStepFunctionsLocal({
      stateMachines: [{ name: 'Waits', definition, functions: { Look: async (input: unknown) => looked.push(input) } }],
      retryIntervalScale: 0.0001,
      log: () => {},
    });
    open.push(sfn);
    const client = new SFNClient({ endpoint: sfn.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });

    // Act
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: sfn.stateMachineArn('Waits'), input: '{"n":1}' }));
    await sfn.idle();

    // Assess
    expect((await client.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('SUCCEEDED');
    expect(looked).toEqual([{ n: 1 }]);
    expect(scaleIntervals(definition, 0.5).States).toMatchObject({ Wait: { Seconds: 1800 } });
    expect(definition.States.Wait.Seconds).toBe(3600);
  });
});
