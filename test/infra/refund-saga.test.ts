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
import type { TaskHandler } from '../../local/services/stepfunctions-local.ts';
import { type RefundWorld, refundWorld } from '../support/refund-world.ts';
import {
  directInvocationsOf,
  functionTimeoutOf,
  stateMachineDefinition,
  stateMachineDefinitionString,
  synthesize,
  taskResourcesOf,
  taskStatesOf,
  type AslDefinition,
  type Synthesized,
} from './synth.ts';

/**
 * The refund saga's Retry and Catch lists, on the synthesized template. Written over whatever
 * Tasks the saga has, so that a state added to it is held to the same rules.
 */
let synth: Synthesized;
let definition: AslDefinition;
beforeAll(() => {
  synth = synthesize();
  definition = stateMachineDefinition(synth.template, 'SubmitRefund');
});

const taskStates = () => taskStatesOf(definition);
const sorted = (names: readonly string[]) => [...names].sort();

describe('refund saga', () => {
  it('has one Task per catalog refund step, named after it and invoking its function directly', () => {
    // Act
    const tasks = taskResourcesOf(definition);

    // Assess
    expect(Object.keys(tasks).sort()).toEqual(Object.keys(refundSteps).sort());
    expect(tasks).toEqual(directInvocationsOf(synth.stack.functions.refundSteps));
  });

  it('retries exactly the transient errors on every Task', () => {
    for (const [name, state] of taskStates()) {
      // Act
      const retried = (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals as string[]);

      // Assess
      expect(sorted(retried), name).toEqual(sorted(TransientErrorNames));
    }
  });

  it('catches exactly the refund’s terminal errors on SubmitRefund, into MarkRefundFailed', () => {
    expect(definition.States.SubmitRefund?.Catch).toEqual([
      { ErrorEquals: [...RefundTerminalErrorNames], ResultPath: '$.error', Next: 'MarkRefundFailed' },
    ]);
  });

  it('catches nothing but the refund’s terminal errors anywhere', () => {
    for (const [name, state] of Object.entries(definition.States)) {
      // Act
      const caught = (state.Catch ?? []).flatMap((catcher) => catcher.ErrorEquals);

      // Assess
      expect(caught.filter((error) => !(RefundTerminalErrorNames as readonly string[]).includes(error)), name).toEqual([]);
    }
  });

  it('gives every Task a TimeoutSeconds past its function’s own timeout', () => {
    for (const [name, state] of taskStates()) {
      expect(state.TimeoutSeconds, name).toBeGreaterThan(functionTimeoutOf(synth.template, state.Resource));
    }
  });

  it('has no catch-all anywhere', () => {
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
    world.stripe.holdNextRefunds(1);
    const refund = await world.refundOf(300);
    const providerRefund = () => world.providerRefunds()[0]!.id;

    // Act
    const ended = await run(refund.refundNo, (looks) => looks === 2 && world.stripe.settleRefund(providerRefund(), 'failed', 'declined'));

    // Assess
    expect(ended).toBe('FAILED RefundFailed');
    expect(visited).toEqual(['SubmitRefund', 'CheckRefund', 'CheckRefund', 'CheckRefund', 'MarkRefundFailed']);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'failed', failureReason: 'declined' });
    expect(world.stored().amountRefunded).toBe(0);
  });

  it(`leaves a refund still pending after ${REFUND_CHECKS} looks to the reconciler, pending, with its provider refund`, async () => {
    // Prepare
    world.stripe.holdNextRefunds(1);
    const refund = await world.refundOf(300);

    // Act
    const ended = await run(refund.refundNo);

    // Assess
    expect(ended).toBe('SUCCEEDED');
    expect(visited).toEqual(['SubmitRefund', ...Array<string>(REFUND_CHECKS).fill('CheckRefund')]);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({
      status: 'pending',
      providerRefundId: world.providerRefunds()[0]!.id,
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
