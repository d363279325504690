import { describe, expect, it } from 'vitest';
import { loadDeployment } from './deployment.ts';
import { type AslDefinition, type ExecutionHost, type JsonObject, type TaskResult, runExecution } from './interpreter.ts';

/**
 * The interpreter runs the sagas as Step Functions would: retries only what the definition
 * retries, as many times as it says, catches only what it catches, and times out.
 */
function host(answers: Record<string, (attempt: number) => TaskResult>) {
  const calls: string[] = [];
  const slept: number[] = [];
  let now = 0;
  const run: ExecutionHost = {
    nowMs: () => now,
    random: () => 1,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    invoke: async (state: string, input: JsonObject) => {
      calls.push(state);
      const answer = answers[state];
      if (answer === undefined) return { output: input };
      return answer(calls.filter((call) => call === state).length);
    },
  };
  return { run, calls, slept, advance: (ms: number) => (now += ms) };
}

const failing = (name: string) => (): TaskResult => ({ error: { Error: name, Cause: '{}' } });

describe('the saga interpreter, on the payment saga as synthesized', () => {
  const { payment } = loadDeployment().machines;

  it('runs the forward path to Succeeded', async () => {
    // Prepare
    const { run, calls } = host({});

    // Act
    const status = await runExecution(payment, { payment_no: 'pay_1' }, run);

    // Assess
    expect(status).toBe('SUCCEEDED');
    expect(calls).toEqual(['Authorize', 'RecordAuthorization', 'Capture', 'MarkSucceeded']);
  });

  it('retries a transient error six times with capped backoff, then fails the execution', async () => {
    // Prepare
    const { run, calls, slept } = host({ Capture: failing('ProviderUnavailable') });

    // Act
    const status = await runExecution(payment, { payment_no: 'pay_1' }, run);

    // Assess
    expect(status).toBe('FAILED');
    expect(calls.filter((call) => call === 'Capture')).toHaveLength(7);
    expect(slept).toEqual([1000, 2000, 4000, 8000, 16000, 20000]);
  });

  it('catches a terminal error into the compensation, with the error in the state', async () => {
    // Prepare
    let compensated: JsonObject | undefined;
    const { run, calls } = host({
      Authorize: failing('CardDeclined'),
      MarkFailed: (): TaskResult => ({ output: { payment_no: 'pay_1' } }),
      VoidAuthorization: (): TaskResult => ({ output: (compensated = { payment_no: 'pay_1', error: { Error: 'CardDeclined', Cause: '{}' } }) }),
    });

    // Act
    const status = await runExecution(payment, { payment_no: 'pay_1' }, run);

    // Assess
    expect(status).toBe('FAILED');
    expect(calls).toEqual(['Authorize', 'VoidAuthorization', 'MarkFailed']);
    expect(compensated).toMatchObject({ error: { Error: 'CardDeclined' } });
  });

  it('neither retries nor catches a Lambda that died: the execution fails', async () => {
    // Prepare
    const { run, calls } = host({ RecordAuthorization: failing('Runtime.ExitError') });

    // Act
    const status = await runExecution(payment, { payment_no: 'pay_1' }, run);

    // Assess
    expect(status).toBe('FAILED');
    expect(calls).toEqual(['Authorize', 'RecordAuthorization']);
  });

  it('times the execution out past its TimeoutSeconds', async () => {
    // Prepare
    const clock = host({});
    clock.run.invoke = async (_state, input) => {
      clock.advance((payment.TimeoutSeconds ?? 0) * 1000 + 1);
      return { output: input };
    };

    // Act
    const status = await runExecution(payment, { payment_no: 'pay_1' }, clock.run);

    // Assess
    expect(status).toBe('TIMED_OUT');
  });

  it('refuses a definition with a state it does not model rather than run it approximately', async () => {
    // Prepare
    const mapped: AslDefinition = { StartAt: 'Each', States: { Each: { Type: 'Map', End: true } } };

    // Act
    const run = runExecution(mapped, {}, host({}).run);

    // Assess
    await expect(run).rejects.toThrow(/Map is not modelled/);
  });
});

describe('the saga interpreter, on the refund saga as synthesized', () => {
  const { refund } = loadDeployment().machines;
  const pending = (state: JsonObject): TaskResult => ({ output: { ...state, outcome: 'pending', checks_left: Number(state['checks_left'] ?? 3) - 1 } });

  it('looks at a pending refund after each wait until its looks run out, then leaves it to the reconciler', async () => {
    // Prepare
    const { run, calls, slept } = host({});
    run.invoke = async (state, input) => {
      calls.push(state);
      return state === 'SubmitRefund' ? { output: { ...input, outcome: 'pending', checks_left: 3 } } : pending(input);
    };

    // Act
    const status = await runExecution(refund, { refund_no: 'rf_1' }, run);

    // Assess
    expect(status).toBe('SUCCEEDED');
    expect(calls).toEqual(['SubmitRefund', 'CheckRefund', 'CheckRefund', 'CheckRefund']);
    expect(slept).toEqual([30_000, 30_000, 30_000]);
  });

  it('routes a look that finds the refund final to RecordRefund or MarkRefundFailed', async () => {
    // Prepare
    const routes = async (outcome: string) => {
      const { run, calls } = host({
        SubmitRefund: () => ({ output: { refund_no: 'rf_1', outcome: 'pending', checks_left: 6 } }),
        CheckRefund: () => ({ output: { refund_no: 'rf_1', outcome, checks_left: 5 } }),
      });
      return { status: await runExecution(refund, { refund_no: 'rf_1' }, run), calls };
    };

    // Act
    const [succeeded, failed] = [await routes('succeeded'), await routes('failed')];

    // Assess
    expect(succeeded).toEqual({ status: 'SUCCEEDED', calls: ['SubmitRefund', 'CheckRefund', 'RecordRefund'] });
    expect(failed).toEqual({ status: 'FAILED', calls: ['SubmitRefund', 'CheckRefund', 'MarkRefundFailed'] });
  });
});
