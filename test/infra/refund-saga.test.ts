import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { refundSteps } from '../../functions/catalog.ts';
import { ProviderRejectedError, RefundTerminalErrorNames, TransientErrorNames } from '../../functions/domain/errors.ts';
import {
  REFUND_CHECKS,
  REFUND_CHECK_INTERVAL_SECONDS,
  type RefundSagaState,
  checkRefund,
  markRefundFailed,
  recordRefund,
  submitRefund,
} from '../../functions/domain/refund-saga.ts';
import type { TaskHandler } from '../../local/runtime/stepfunctions-local.ts';
import { type RefundWorld, refundWorld } from '../support/refund-world.ts';
import {
  fakeArnOf,
  logicalIdOf,
  stateMachineDefinition,
  stateMachineDefinitionString,
  synthesize,
  type AslDefinition,
  type Synthesized,
} from './synth.ts';

let synth: Synthesized;
let definition: AslDefinition;
beforeAll(() => {
  synth = synthesize();
  definition = stateMachineDefinition(synth.template, 'SubmitRefund');
});

const taskStates = () => Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');

describe('refund saga', () => {
  it('has one Task per catalog refund step, named after it and invoking its function directly', () => {
    // Act
    const tasks = Object.fromEntries(taskStates().map(([name, state]) => [name, state.Resource]));

    // Assess
    expect(Object.keys(synth.stack.functions.refundSteps).sort()).toEqual(Object.keys(refundSteps).sort());
    expect(tasks).toEqual(
      Object.fromEntries(Object.entries(synth.stack.functions.refundSteps).map(([name, fn]) => [name, fakeArnOf(logicalIdOf(fn))])),
    );
  });

  it('retries the transient errors on every Task, and catches only a refused request, on SubmitRefund', () => {
    for (const [name, state] of taskStates()) {
      // Assess
      expect(state.Retry?.map((retry) => retry.ErrorEquals), name).toEqual([[...TransientErrorNames]]);
      expect(state.Catch, name).toEqual(
        name === 'SubmitRefund' ? [{ ErrorEquals: [...RefundTerminalErrorNames], ResultPath: '$.error', Next: 'MarkRefundFailed' }] : undefined,
      );
    }
    expect(stateMachineDefinitionString(synth.template, 'SubmitRefund')).not.toContain('States.ALL');
  });

  it('waits a whole number of seconds between two looks at the provider, as AWS requires', () => {
    // Assess
    expect(definition.States.WaitForProviderRefund).toMatchObject({ Type: 'Wait', Seconds: REFUND_CHECK_INTERVAL_SECONDS, Next: 'CheckRefund' });
    expect(Number.isInteger(REFUND_CHECK_INTERVAL_SECONDS)).toBe(true);
  });
});

/**
 * The synthesized definition, run by the local interpreter with the domain's steps on
 * in-memory ports: the state machine and the steps agree on the state they pass.
 */
describe('refund saga, run with the domain steps', () => {
  let world: RefundWorld;
  let visited: string[];

  beforeEach(async () => {
    world = await refundWorld();
    visited = [];
  });

  async function run(refundNo: string, between?: (looks: number) => void) {
    const step =
      (name: string, fn: (state: RefundSagaState) => Promise<RefundSagaState>): TaskHandler =>
      async (state: RefundSagaState) => {
        visited.push(name);
        const next = await fn(state);
        if (name === 'CheckRefund') between?.(visited.filter((n) => n === 'CheckRefund').length);
        return next;
      };
    const machine = new StateMachine(definition as unknown as StateMachineDefinition);
    const execution = machine.run({ refund_no: refundNo }, {
      overrides: {
        taskResourceLocalHandlers: {
          SubmitRefund: step('SubmitRefund', (s) => submitRefund(world.sagaDeps, s)),
          CheckRefund: step('CheckRefund', (s) => checkRefund(world.sagaDeps, s)),
          RecordRefund: step('RecordRefund', (s) => recordRefund(world.deps, s)),
          MarkRefundFailed: step('MarkRefundFailed', (s) => markRefundFailed(world.deps, s)),
        },
        waitTimeOverrides: { WaitForProviderRefund: 0 },
      },
    });
    return execution.result.then(
      () => 'SUCCEEDED',
      (error: unknown) => `FAILED ${(error as { cause?: { name?: string } }).cause?.name ?? error}`,
    );
  }

  it('records a refund the provider settles at once, without looking again', async () => {
    // Prepare
    const refund = await world.refundOf(300);

    // Act
    const ended = await run(refund.refundNo);

    // Assess
    expect(ended).toBe('SUCCEEDED');
    expect(visited).toEqual(['SubmitRefund', 'RecordRefund']);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded' });
  });

  it('looks at a pending refund until the provider fails it, then fails ours and gives the amount back', async () => {
    // Prepare
    world.provider.refundsStart = 'pending';
    const refund = await world.refundOf(300);
    const providerRefund = () => [...world.provider.refunds.keys()][0]!;

    // Act
    const ended = await run(refund.refundNo, (looks) => looks === 2 && world.provider.settleRefund(providerRefund(), 'failed', 'declined'));

    // Assess
    expect(ended).toBe('FAILED RefundFailed');
    expect(visited).toEqual(['SubmitRefund', 'CheckRefund', 'CheckRefund', 'CheckRefund', 'MarkRefundFailed']);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'failed', failureReason: 'declined' });
    expect(world.stored().amountRefunded).toBe(0);
  });

  it(`leaves a refund still pending after ${REFUND_CHECKS} looks to the reconciler, pending, with its provider refund`, async () => {
    // Prepare
    world.provider.refundsStart = 'pending';
    const refund = await world.refundOf(300);

    // Act
    const ended = await run(refund.refundNo);

    // Assess
    expect(ended).toBe('SUCCEEDED');
    expect(visited).toEqual(['SubmitRefund', ...Array<string>(REFUND_CHECKS).fill('CheckRefund')]);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({
      status: 'pending',
      providerRefundId: [...world.provider.refunds.keys()][0],
    });
  });

  it('fails the refund when the provider refuses the request', async () => {
    // Prepare
    const refund = await world.refundOf(300);
    world.provider.refundCharge = async () => {
      throw new ProviderRejectedError('charge disputed');
    };

    // Act
    const ended = await run(refund.refundNo);

    // Assess
    expect(ended).toBe('FAILED RefundFailed');
    expect(visited).toEqual(['SubmitRefund', 'MarkRefundFailed']);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'failed', failureReason: 'provider_rejected' });
  });
});
