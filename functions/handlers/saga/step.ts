import * as z from 'zod';
import { TerminalErrorNames, TransientErrorNames } from '../../domain/errors.ts';
import { type CrashFunction, crashBoundaries } from '../../crash/crash-points.ts';
import { type CrashablePorts, withCrashPoints } from '../../crash/crashing-ports.ts';
import type { SagaState } from '../../domain/saga.ts';
import { errorFields, logger, metricsFor, MetricUnit, publishMetrics } from '../shared/observability.ts';

const sagaState = z
  .object({
    payment_no: z.string().min(1),
    charge_id: z.string().optional(),
    amount_captured: z.number().int().nonnegative().optional(),
    error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
  })
  .loose();

const terminal: ReadonlySet<string> = new Set(TerminalErrorNames);
const transient: ReadonlySet<string> = new Set(TransientErrorNames);

/**
 * Every saga step's handler: validate the state Step Functions passes in, run one domain
 * step, and let its typed error reach Step Functions by name for Retry or Catch.
 */
export function sagaStepHandler<D extends CrashablePorts>(
  step: string,
  deps: () => D | Promise<D>,
  run: (deps: D, state: SagaState) => Promise<SagaState>,
) {
  const metrics = metricsFor('step', step);
  const crashFunction = crashFunctionOf(step);
  return async (input: unknown): Promise<SagaState> => {
    const state = sagaState.parse(input) as SagaState;
    // Per-call fields rather than appended keys: the local stack runs every function in one
    // process, where appended keys would bleed between concurrent invocations.
    const context = { step, payment_no: state.payment_no, charge_id: state.charge_id };
    try {
      const next = await run(withCrashPoints(await deps(), crashFunction), state);
      metrics.addMetric('StepSucceeded', MetricUnit.Count, 1);
      return next;
    } catch (error) {
      const detail = { ...context, ...errorFields(error) };
      const name = detail.error_name;
      if (terminal.has(name)) {
        metrics.addMetric('StepEndedPayment', MetricUnit.Count, 1);
        logger.info('step ended the payment', detail);
      } else if (transient.has(name)) {
        metrics.addMetric('StepRetryable', MetricUnit.Count, 1);
        logger.warn('step failed; Step Functions retries it', detail);
      } else {
        metrics.addMetric('StepFailed', MetricUnit.Count, 1);
        logger.error('step failed unexpectedly', { ...detail, stack: error instanceof Error ? error.stack : undefined });
      }
      throw error;
    } finally {
      publishMetrics(metrics);
    }
  };
}

/** `RecordAuthorization` -> `record-authorization`, the step's name among the crash points. */
function crashFunctionOf(step: string): CrashFunction {
  const name = step.replace(/[A-Z]/g, (c, i: number) => (i ? '-' : '') + c.toLowerCase());
  if (!(name in crashBoundaries)) throw new Error(`saga step ${step} has no crash points registered`);
  return name as CrashFunction;
}
