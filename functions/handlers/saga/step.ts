import * as z from '../shared/zod.ts';
import {
  LeaseWaitErrorNames,
  PayoutTerminalErrorNames,
  RefundTerminalErrorNames,
  TerminalErrorNames,
  TransientErrorNames,
} from '../../domain/errors.ts';
import type { PayoutStepName, RefundStepName, SagaStepName } from '../../catalog.ts';
import { crashFunctionOf } from '../../crash/crash-points.ts';
import { asInvocationOf } from '../../crash/invocation.ts';
import { PayoutStatus } from '../../domain/payout.ts';
import type { PayoutSagaState } from '../../domain/payout-saga.ts';
import { RefundStatus } from '../../domain/refund.ts';
import type { RefundSagaState } from '../../domain/refund-saga.ts';
import type { SagaState } from '../../domain/saga.ts';
import { type ListedMetric, Metric } from '../../config/metrics.ts';
import { errorFields, logger, metricsFor } from '../shared/observability.ts';

const stepError = z.optional(z.object({ Error: z.string(), Cause: z.optional(z.string()) }));
const count = z.optional(z.number().check(z.int(), z.nonnegative()));

const sagaState = z.looseObject({
  payment_no: z.string().check(z.minLength(1)),
  charge_id: z.optional(z.string()),
  amount_captured: count,
  authorized_from: z.optional(z.looseObject({ version: z.number().check(z.int(), z.positive()), capture_method: z.optional(z.literal('manual')) })),
  captured_version: z.optional(z.number().check(z.int(), z.positive())),
  error: stepError,
});

const refundSagaState = z.looseObject({
  refund_no: z.string().check(z.minLength(1)),
  provider_refund_id: z.optional(z.string()),
  outcome: z.optional(z.enum(Object.values(RefundStatus))),
  failure_reason: z.optional(z.string()),
  checks_left: count,
  error: stepError,
});

const payoutSagaState = z.looseObject({
  payout_no: z.string().check(z.minLength(1)),
  provider_payout_id: z.optional(z.string()),
  outcome: z.optional(z.enum(Object.values(PayoutStatus))),
  failure_code: z.optional(z.string()),
  arrival_date: count,
  checks_left: count,
  error: stepError,
});

const transient: ReadonlySet<string> = new Set([...TransientErrorNames, ...LeaseWaitErrorNames]);

/** A payment saga step's handler; `outcome`, the metric its success counts, for a step that ends the saga. */
export function sagaStepHandler<D>(
  step: SagaStepName,
  deps: () => D | Promise<D>,
  run: (deps: D, state: SagaState) => Promise<SagaState>,
  outcome?: ListedMetric<'step'>,
) {
  return stepHandler(step, {
    outcome,
    parse: (input) => sagaState.parse(input) as SagaState,
    context: (state) => ({ payment_no: state.payment_no, charge_id: state.charge_id }),
    terminal: new Set(TerminalErrorNames),
    deps,
    run,
  });
}

/** A refund saga step's handler; `outcome` as for {@link sagaStepHandler}. */
export function refundStepHandler<D>(
  step: RefundStepName,
  deps: () => D | Promise<D>,
  run: (deps: D, state: RefundSagaState) => Promise<RefundSagaState>,
  outcome?: ListedMetric<'step'>,
) {
  return stepHandler(step, {
    outcome,
    parse: (input) => refundSagaState.parse(input) as RefundSagaState,
    context: (state) => ({ refund_no: state.refund_no }),
    terminal: new Set(RefundTerminalErrorNames),
    deps,
    run,
  });
}

/** A payout saga step's handler; `outcome` as for {@link sagaStepHandler}. */
export function payoutStepHandler<D>(
  step: PayoutStepName,
  deps: () => D | Promise<D>,
  run: (deps: D, state: PayoutSagaState) => Promise<PayoutSagaState>,
  outcome?: ListedMetric<'step'>,
) {
  return stepHandler(step, {
    outcome,
    parse: (input) => payoutSagaState.parse(input) as PayoutSagaState,
    context: (state) => ({ payout_no: state.payout_no }),
    terminal: new Set(PayoutTerminalErrorNames),
    deps,
    run,
  });
}

interface Step<D, S> {
  parse(input: unknown): S;
  /** The ids every log line of the step carries. */
  context(state: S): Record<string, unknown>;
  /** The errors its state machine catches: they end the saga rather than fail the step. */
  terminal: ReadonlySet<string>;
  deps: () => D | Promise<D>;
  run: (deps: D, state: S) => Promise<S>;
  /** Counted once the step succeeds (a repeated step counts again: a retry is rare and says so in its logs). */
  outcome: ListedMetric<'step'> | undefined;
}

/**
 * Every saga step's handler: validate the state Step Functions passes in, run one domain
 * step, and let its typed error reach Step Functions by name for Retry or Catch.
 */
function stepHandler<D, S>(
  step: SagaStepName | RefundStepName | PayoutStepName,
  { parse, context: idsOf, terminal, deps, run, outcome }: Step<D, S>,
) {
  const metrics = metricsFor('step', step);
  const crashFunction = crashFunctionOf(step);
  return (input: unknown): Promise<S> => asInvocationOf(crashFunction, async () => {
    const state = parse(input);
    // Per-call fields rather than appended keys: the local stack runs every function in one
    // process, where appended keys would bleed between concurrent invocations.
    const context = { step, ...idsOf(state) };
    try {
      const next = await run(await deps(), state);
      metrics.add(Metric.StepSucceeded);
      if (outcome !== undefined) metrics.add(outcome);
      return next;
    } catch (error) {
      const detail = { ...context, ...errorFields(error) };
      const name = detail.error_name;
      if (terminal.has(name)) {
        metrics.add(Metric.StepEndedPayment);
        logger.info('step ended the payment', detail);
      } else if (transient.has(name)) {
        metrics.add(Metric.StepRetryable);
        logger.warn('step failed; Step Functions retries it', detail);
      } else {
        metrics.add(Metric.StepFailed);
        logger.error('step failed unexpectedly', { ...detail, stack: error instanceof Error ? error.stack : undefined });
      }
      throw error;
    } finally {
      metrics.publish();
    }
  });
}

