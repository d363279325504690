import { beforeAll, describe, expect, it } from 'vitest';
import { refundSteps } from '../../functions/catalog.ts';
import { RefundTerminalErrorNames, TransientErrorNames } from '../../functions/domain/errors.ts';
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
});
