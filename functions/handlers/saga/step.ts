import { z } from 'zod';
import { TerminalErrorNames } from '../../domain/errors.ts';
import type { SagaDeps, SagaState } from '../../domain/saga.ts';
import { sagaDeps } from '../shared/dependencies.ts';
import { logger, metrics, MetricUnit } from '../shared/observability.ts';

const sagaState = z
  .object({
    payment_no: z.string().min(1),
    charge_id: z.string().optional(),
    amount_captured: z.number().int().nonnegative().optional(),
    error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
  })
  .loose();

const terminal: ReadonlySet<string> = new Set(TerminalErrorNames);

/**
 * Every saga step's handler: validate the state Step Functions passes in, run one domain
 * step, and let its typed error reach Step Functions by name for Retry or Catch.
 */
export function sagaStepHandler(
  step: string,
  run: (deps: SagaDeps, state: SagaState) => Promise<SagaState>,
) {
  return async (input: unknown): Promise<SagaState> => {
    const state = sagaState.parse(input) as SagaState;
    logger.resetKeys();
    logger.appendKeys({ step, payment_no: state.payment_no, charge_id: state.charge_id });
    metrics.addDimension('step', step);
    try {
      const next = await run(await sagaDeps(), state);
      metrics.addMetric('StepSucceeded', MetricUnit.Count, 1);
      return next;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      metrics.addMetric(terminal.has(name) ? 'StepEndedPayment' : 'StepFailed', MetricUnit.Count, 1);
      logger.warn('step failed', { error_name: name, error });
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
