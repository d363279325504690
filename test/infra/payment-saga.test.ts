import { beforeAll, describe, expect, it } from 'vitest';
import { sagaSteps } from '../../functions/catalog.ts';
import { DEFAULT_RECONCILE_LEASE_SECONDS } from '../../functions/config/env.ts';
import { LeaseWaitErrorNames, TaskTimeoutErrorName, TerminalErrorNames, TransientErrorNames } from '../../functions/domain/errors.ts';
import { COMPENSATION_STEPS, FORWARD_STEPS } from '../../lib/payment-saga.ts';
import { scaleIntervals } from '../../local/services/stepfunctions-local.ts';
import {
  directInvocationsOf,
  functionTimeoutOf,
  guaranteedWaitSeconds,
  logicalIdOf,
  stateMachineDefinition,
  stateMachineDefinitionString,
  statementsOfRole,
  synthesize,
  WILDCARD_ONLY_ACTIONS,
  taskResourcesOf,
  taskStatesOf,
  type AslDefinition,
  type AslState,
  type Synthesized,
} from './synth.ts';

let synth: Synthesized;
let definition: AslDefinition;
beforeAll(() => {
  synth = synthesize();
  definition = stateMachineDefinition(synth.template);
});

const taskStates = () => taskStatesOf(definition);

describe('payment saga', () => {
  it('is a Standard state machine with a one-hour timeout, every event logged without execution data, and tracing', () => {
    // Act
    const machine = Object.values(synth.template.findResources('AWS::StepFunctions::StateMachine'))[0];

    // Assess
    expect(machine?.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
    expect(definition.TimeoutSeconds).toBe(3600);
  });

  it('has one Task per catalog saga step, named after it and invoking its function directly', () => {
    // Act
    const tasks = taskResourcesOf(definition);

    // Assess
    expect(Object.keys(tasks).sort()).toEqual(Object.keys(sagaSteps).sort());
    expect(tasks).toEqual(directInvocationsOf(synth.stack.functions.sagaSteps));
  });

  it('retries exactly the transient errors on every Task, with capped exponential backoff and full jitter, then waits out a lease', () => {
    for (const [name, state] of taskStates()) {
      // Assess
      expect(state.Retry, name).toEqual([
        {
          ErrorEquals: [...TransientErrorNames],
          IntervalSeconds: 1,
          BackoffRate: 2,
          MaxAttempts: 6,
          MaxDelaySeconds: 20,
          JitterStrategy: 'FULL',
        },
        expect.objectContaining({ ErrorEquals: [...LeaseWaitErrorNames] }),
      ]);
      expect(state.Retry?.[0]?.ErrorEquals, name).toContain(TaskTimeoutErrorName);
    }
  });

  it('waits out the reconciler’s lease on PaymentBusy: the waits its Retry guarantees add up to more than the lease', () => {
    for (const [name, state] of taskStates()) {
      // Act
      const busy = state.Retry?.find((retrier) => (retrier.ErrorEquals as string[]).includes('PaymentBusy'));

      // Assess
      expect(busy, name).toBeDefined();
      expect(guaranteedWaitSeconds(busy!), name).toBeGreaterThan(DEFAULT_RECONCILE_LEASE_SECONDS);
    }
  });

  it('is shortened whole by the local stack’s retryIntervalScale, the lease wait included', () => {
    // Act
    const scaled = scaleIntervals(definition as unknown as Record<string, unknown>, 0.05) as unknown as AslDefinition;

    // Assess
    for (const [name, state] of taskStatesOf(scaled)) {
      const original = definition.States[name]?.Retry ?? [];
      expect(state.Retry?.length, name).toBe(original.length);
      state.Retry?.forEach((retrier, index) => {
        expect(retrier.IntervalSeconds, name).toBeCloseTo((original[index]!.IntervalSeconds as number) * 0.05);
        expect(retrier.MaxDelaySeconds, name).toBeCloseTo((original[index]!.MaxDelaySeconds as number) * 0.05);
        expect(guaranteedWaitSeconds(retrier), name).toBeCloseTo(guaranteedWaitSeconds(original[index]!) * 0.05);
      });
    }
  });

  it('gives every Task a TimeoutSeconds past its function’s own timeout', () => {
    for (const [name, state] of taskStates()) {
      // Act
      const functionTimeout = functionTimeoutOf(synth.template, state.Resource);

      // Assess: the function fails by its own name first; a Task past it hung, and is retried.
      expect(state.TimeoutSeconds, name).toBeGreaterThan(functionTimeout);
    }
  });

  it('catches exactly the terminal errors on the forward steps into the compensation', () => {
    for (const name of FORWARD_STEPS) {
      // Assess
      expect(definition.States[name]?.Catch, name).toEqual([
        { ErrorEquals: [...TerminalErrorNames], ResultPath: '$.error', Next: 'VoidAuthorization' },
      ]);
    }
  });

  const [authorize, recordAuthorization, ...captureSteps] = FORWARD_STEPS;

  it.each([
    ['a payment', false, [authorize, recordAuthorization, 'CaptureNow', ...captureSteps, 'SucceededForACart', 'Succeeded']],
    ['a cart’s payment', true, [authorize, recordAuthorization, 'CaptureNow', ...captureSteps, 'SucceededForACart', 'SettleCart', 'SettledCart', 'Succeeded']],
  ])('runs the forward path of %s: Authorize -> RecordAuthorization -> Capture -> MarkSucceeded -> ...', (_, cart, expected) => {
    // Act
    const path = walk(definition, definition.StartAt, { cart, failed: false });

    // Assess
    expect(path).toEqual(expected);
    expect(definition.States.Succeeded?.Type).toBe('Succeed');
  });

  it.each([
    ['ends at authorized while the merchant has not said', 'await_capture', [authorize, recordAuthorization, 'CaptureNow', 'AwaitingCapture']],
    [
      'voids and closes it once the merchant canceled',
      'cancel',
      [authorize, recordAuthorization, 'CaptureNow', 'VoidAuthorization', 'MarkFailed', 'FailedForACart', 'PaymentFailed'],
    ],
  ] as const)('for a manual payment, %s', (_, then, expected) => {
    // Act
    const path = walk(definition, definition.StartAt, { cart: false, failed: false, then });

    // Assess
    expect(path).toEqual(expected);
    expect(definition.States.AwaitingCapture?.Type).toBe('Succeed');
  });

  it.each([
    ['a payment', false, ['VoidAuthorization', 'MarkFailed', 'FailedForACart', 'PaymentFailed']],
    ['a cart’s payment', true, ['VoidAuthorization', 'MarkFailed', 'FailedForACart', 'SettleCart', 'SettledCart', 'PaymentFailed']],
  ])('voids the authorization of %s and marks it failed after a terminal error, then fails', (_, cart, expected) => {
    // Act
    const path = walk(definition, 'VoidAuthorization', { cart, failed: true });

    // Assess
    expect(path).toEqual(expected);
    expect(COMPENSATION_STEPS).toEqual(['VoidAuthorization', 'MarkFailed']);
    expect(definition.States.PaymentFailed?.Type).toBe('Fail');
    for (const name of [...COMPENSATION_STEPS, 'SettleCart']) {
      expect(definition.States[name]?.Catch, name).toBeUndefined();
    }
  });

  it('has no catch-all anywhere', () => {
    // Act
    const text = stateMachineDefinitionString(synth.template);

    // Assess
    expect(text).not.toContain('States.ALL');
  });

  it('lets its role invoke only its step functions', () => {
    // Prepare
    const role = synth.stack.saga.stateMachine.role;
    const stepArns = Object.values(synth.stack.functions.sagaSteps).map((fn) => ({
      'Fn::GetAtt': [logicalIdOf(fn), 'Arn'],
    }));
    const allowed = [...stepArns, ...stepArns.map((arn) => ({ 'Fn::Join': ['', [arn, ':*']] }))];

    // Act
    const statements = statementsOfRole(synth.template, logicalIdOf(role));
    const invoke = statements.filter((s) => s.Action.some((a) => a.startsWith('lambda:')));
    const rest = statements.filter((s) => !invoke.includes(s));

    // Assess
    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.Action).toEqual(['lambda:InvokeFunction']);
    expect(sortJson(invoke[0]?.Resource ?? [])).toEqual(sortJson(allowed));
    for (const statement of rest) {
      expect(statement.Action.filter((a) => !WILDCARD_ONLY_ACTIONS.has(a))).toEqual([]);
    }
  });
});

/**
 * The states visited from `start` by following `Next` to the end; at a Choice, the branch a
 * cart's payment (`$.cart_id` present), a failed one (`$.error` present) or a manual one
 * (`$.then`, as RecordAuthorization sets it) takes.
 */
function walk(asl: AslDefinition, start: string, state: { cart: boolean; failed: boolean; then?: string }): string[] {
  const visited: string[] = [];
  let current: string | undefined = start;
  while (current !== undefined && !visited.includes(current)) {
    visited.push(current);
    const here: AslState | undefined = asl.States[current];
    if (here?.Type !== 'Choice') {
      current = here?.Next;
      continue;
    }
    type Rule = { Variable: string; IsPresent?: boolean; StringEquals?: string; And?: Rule[]; Next: string };
    const rules = here.Choices as Rule[];
    const taken = rules.find((rule) => {
      if (rule.And !== undefined) {
        // A rule on `then` must ask whether it is present first: a Choice on a missing path fails the execution.
        const [present, equals] = rule.And;
        if (present?.Variable !== '$.then' || present.IsPresent !== true || equals?.Variable !== '$.then') throw new Error(`unexpected Choice ${JSON.stringify(rule)}`);
        return state.then === equals.StringEquals;
      }
      const { Variable, IsPresent } = rule;
      const present = Variable === '$.cart_id' ? state.cart : Variable === '$.error' ? state.failed : undefined;
      if (present === undefined) throw new Error(`unexpected Choice on ${Variable}`);
      return present === IsPresent;
    });
    current = taken?.Next ?? (here.Default as string);
  }
  return visited;
}

function sortJson(values: readonly unknown[]): string[] {
  return values.map((v) => JSON.stringify(v)).sort();
}
