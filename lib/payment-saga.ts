/**
 * The payment saga, one Lambda Task per step (state names are the catalog's `sagaSteps` keys:
 * the local stack binds handlers by state name).
 *
 *   Authorize -> RecordAuthorization -> Capture -> MarkSucceeded -> [for a cart?] -> Succeeded
 *       \______________\__________________\__________\___ Catch(terminal) -> VoidAuthorization -> MarkFailed -> [for a cart?] -> PaymentFailed (Fail)
 *
 * A payment that pays a cart (MarkSucceeded/MarkFailed put its `cart_id` in the state) ends
 * with SettleCart, which applies and fulfils the cart or reopens it; then the execution ends
 * as the payment did (a caught `error` in the state means it failed).
 *
 * Every Task passes the whole state (`{payment_no, charge_id?, amount_captured?}`) to its
 * function and replaces the state with what the function returns (the next whole state).
 * Every Task retries the transient errors with capped, fully jittered backoff; the forward
 * Tasks catch only the terminal errors into the compensation. There is no catch-all on
 * purpose: a throttle or a bug must not refund a payment; the execution fails instead and
 * the reconciler picks the payment up.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { SagaStepName } from '../functions/catalog.ts';
import { TerminalErrorNames, TransientErrorNames } from '../functions/domain/errors.ts';

/** Where a caught terminal error is kept in the state, next to the payment fields. */
export const SAGA_ERROR_PATH = '$.error';

/** The forward path, in order: each step's terminal errors lead to the compensation. */
export const FORWARD_STEPS = [
  'Authorize',
  'RecordAuthorization',
  'Capture',
  'MarkSucceeded',
] as const satisfies readonly SagaStepName[];
/** The compensation path, in order. */
export const COMPENSATION_STEPS = [
  'VoidAuthorization',
  'MarkFailed',
] as const satisfies readonly SagaStepName[];
/** Where both paths end for a cart's payment. */
export const CART_STEP = 'SettleCart' satisfies SagaStepName;

// Fails to compile when the catalog gains a step that the graph does not place.
type Unplaced = Exclude<
  SagaStepName,
  (typeof FORWARD_STEPS)[number] | (typeof COMPENSATION_STEPS)[number] | typeof CART_STEP
>;
const everyStepPlaced: [Unplaced] extends [never] ? true : Unplaced = true;
void everyStepPlaced;

export interface PaymentSagaProps {
  /** One function per saga step, keyed by state name. */
  readonly steps: Readonly<Record<SagaStepName, lambda.IFunction>>;
}

export class PaymentSaga extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: PaymentSagaProps) {
    super(scope, id);

    const task = (name: SagaStepName) => retryingTask(this, name, props.steps[name]);

    const succeeded = new sfn.Succeed(this, 'Succeeded');
    const failed = new sfn.Fail(this, 'PaymentFailed', {
      error: 'PaymentFailed',
      cause: 'The payment was declined or closed; its authorization was voided.',
    });
    const forACart = sfn.Condition.isPresent('$.cart_id');
    // One SettleCart for both outcomes (the local stack binds handlers by state name); the
    // caught error left in the state tells which way the execution ends.
    const settleCart = task(CART_STEP).next(
      new sfn.Choice(this, 'SettledCart').when(sfn.Condition.isPresent(SAGA_ERROR_PATH), failed).otherwise(succeeded),
    );
    const compensation = chainOf(
      COMPENSATION_STEPS.map(task),
      new sfn.Choice(this, 'FailedForACart').when(forACart, settleCart).otherwise(failed),
    );
    const chain = chainOf(
      FORWARD_STEPS.map((name) =>
        task(name).addCatch(compensation, {
          errors: [...TerminalErrorNames],
          resultPath: SAGA_ERROR_PATH,
        }),
      ),
      new sfn.Choice(this, 'SucceededForACart').when(forACart, settleCart).otherwise(succeeded),
    );

    this.stateMachine = sagaStateMachine(this, chain);
  }
}

/** A saga's Standard state machine: an hour at most, traced, errors logged without execution data. */
export function sagaStateMachine(scope: Construct, chain: sfn.IChainable): sfn.StateMachine {
  return new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(chain),
    timeout: Duration.hours(1),
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
      level: sfn.LogLevel.ERROR,
      // Execution data would carry card and payment details into the logs.
      includeExecutionData: false,
    },
  });
}

/**
 * A Lambda Task whose state is the function's return value, retrying the transient errors
 * with capped, fully jittered backoff (state names are the catalog's keys: the local stack
 * binds handlers by state name).
 */
export function retryingTask(scope: Construct, name: string, fn: lambda.IFunction): tasks.LambdaInvoke {
  const step = new tasks.LambdaInvoke(scope, name, {
    stateName: name,
    lambdaFunction: fn,
    // The function's return value is the next state, without the invocation envelope.
    payloadResponseOnly: true,
    // Lambda's own errors are in TransientErrorNames: one Retry covers them.
    retryOnServiceExceptions: false,
  });
  step.addRetry({
    errors: [...TransientErrorNames],
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxAttempts: 6,
    maxDelay: Duration.seconds(20),
    jitterStrategy: sfn.JitterType.FULL,
  });
  return step;
}

/** `steps[0] -> steps[1] -> ... -> end`. */
export function chainOf(steps: readonly sfn.IChainable[], end: sfn.IChainable): sfn.Chain {
  const [first, ...rest] = steps;
  if (first === undefined) return sfn.Chain.start(end);
  let chain = sfn.Chain.start(first);
  for (const step of rest) chain = chain.next(step);
  return chain.next(end);
}
