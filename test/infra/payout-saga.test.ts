import { beforeAll, describe, expect, it } from 'vitest';
import { payoutSteps } from '../../functions/catalog.ts';
import { PayoutTerminalErrorNames, TransientErrorNames } from '../../functions/domain/errors.ts';
import { PayoutStatus } from '../../functions/domain/payout.ts';
import { PAYOUT_CHECK_INTERVAL_SECONDS } from '../../functions/domain/payout-saga.ts';
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
 * The payout saga's Retry, Catch and routing, on the synthesized template. Written over whatever
 * Tasks the saga has, so that a state added to it is held to the same rules.
 */
let synth: Synthesized;
let definition: AslDefinition;
beforeAll(() => {
  synth = synthesize();
  definition = stateMachineDefinition(synth.template, 'SubmitPayout');
});

const sorted = (names: readonly string[]) => [...names].sort();

describe('payout saga', () => {
  it('has one Task per catalog payout step, named after it and invoking its function directly', () => {
    // Act
    const tasks = taskResourcesOf(definition);

    // Assess
    expect(Object.keys(tasks).sort()).toEqual(Object.keys(payoutSteps).sort());
    expect(tasks).toEqual(directInvocationsOf(synth.stack.functions.payoutSteps));
  });

  it('retries exactly the transient errors on every Task, past its function’s own timeout', () => {
    for (const [name, state] of taskStatesOf(definition)) {
      // Act
      const retried = (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals as string[]);

      // Assess
      expect(sorted(retried), name).toEqual(sorted(TransientErrorNames));
      expect(state.TimeoutSeconds, name).toBeGreaterThan(functionTimeoutOf(synth.template, state.Resource));
    }
  });

  it('catches exactly the payout’s terminal errors on SubmitPayout, into MarkPayoutFailed, and nothing else anywhere', () => {
    // Act
    const caught = Object.entries(definition.States).filter(([, state]) => (state.Catch ?? []).length > 0);

    // Assess
    expect(caught.map(([name]) => name)).toEqual(['SubmitPayout']);
    expect(definition.States.SubmitPayout?.Catch).toEqual([
      { ErrorEquals: [...PayoutTerminalErrorNames], ResultPath: '$.error', Next: 'MarkPayoutFailed' },
    ]);
    expect(stateMachineDefinitionString(synth.template, 'SubmitPayout')).not.toContain('States.ALL');
  });

  it('routes paid to RecordPayoutPaid, failed and canceled to MarkPayoutFailed, a travelling payout to another look', () => {
    // Act
    const choice = definition.States.PayoutSettled as unknown as { Choices: { Next: string }[]; Default: string };
    const text = JSON.stringify(choice.Choices);

    // Assess
    expect(choice.Choices.map((c) => c.Next)).toEqual(['RecordPayoutPaid', 'MarkPayoutFailed', 'WaitForProviderPayout']);
    for (const status of [PayoutStatus.Paid, PayoutStatus.Failed, PayoutStatus.Canceled]) expect(text).toContain(`"${status}"`);
    expect(choice.Default).toBe('LeftToReconciler');
    expect(definition.States.WaitForProviderPayout).toMatchObject({ Type: 'Wait', Seconds: PAYOUT_CHECK_INTERVAL_SECONDS, Next: 'CheckPayout' });
  });
});
