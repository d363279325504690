/**
 * The payment saga, one Lambda Task per step (state names are the catalog's `sagaSteps` keys:
 * the local stack binds handlers by state name).
 *
 *   Authorize -> RecordAuthorization -> [CaptureNow?] -> Capture -> MarkSucceeded -> [for a cart?] -> Succeeded
 *       \______________\___________________|_________\__________\___ Catch(terminal) -> VoidAuthorization -> MarkFailed -> [for a cart?] -> PaymentFailed (Fail)
 *                                          |-- a manual payment not yet captured --> AwaitingCapture (Succeed)
 *                                          '-- a manual payment canceled ----------> VoidAuthorization -> MarkFailed (canceled)
 *
 * A payment that pays a cart (MarkSucceeded/MarkFailed put its `cart_id` in the state) ends
 * with SettleCart, which applies and fulfils the cart or reopens it; then the execution ends
 * as the payment did (a caught `error` in the state means it failed).
 *
 * Every Task passes the whole state (`{payment_no, charge_id?, amount_captured?, captured_version?, ...}`) to its
 * function and replaces the state with what the function returns (the next whole state).
 * Every Task retries the transient errors with capped, fully jittered backoff (a Task that
 * ran past its TimeoutSeconds among them), and waits out the reconciler's lease (PaymentBusy)
 * on a budget of its own; the forward Tasks catch only the terminal errors into the
 * compensation. There is no catch-all on purpose: a throttle or a bug must not refund a
 * payment; the execution fails instead and the reconciler picks the payment up.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { SagaStepName } from '../functions/catalog.ts';
import { DEFAULT_RECONCILE_LEASE_SECONDS } from '../functions/config/env.ts';
import { LeaseWaitErrorNames, TerminalErrorNames, TransientErrorNames } from '../functions/domain/errors.ts';
import type { SagaState } from '../functions/domain/saga.ts';
import { acknowledgeWildcardResource } from './nag.ts';

/** Where a caught terminal error is kept in the state, next to the payment fields. */
export const SAGA_ERROR_PATH = '$.error';
/** Where RecordAuthorization says whether a manual payment waits or is canceled (absent: capture). */
const THEN_PATH = '$.then';

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
  /** One function per saga step, keyed by state name (their timeouts bound their Tasks'). */
  readonly steps: Readonly<Record<SagaStepName, lambda.Function>>;
}

export class PaymentSaga extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: PaymentSagaProps) {
    super(scope, id);

    // Only the payment's steps meet the reconciler's lease.
    const task = (name: SagaStepName) => retryingTask(this, name, props.steps[name]).addRetry(LEASE_WAIT_RETRY);

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
    const [authorize, recordAuthorization, capture, markSucceeded] = FORWARD_STEPS.map((name) =>
      task(name).addCatch(compensation, {
        errors: [...TerminalErrorNames],
        resultPath: SAGA_ERROR_PATH,
      }),
    ) as [sfn.TaskStateBase, sfn.TaskStateBase, sfn.TaskStateBase, sfn.TaskStateBase];
    const captureOnwards = chainOf([capture, markSucceeded], new sfn.Choice(this, 'SucceededForACart').when(forACart, settleCart).otherwise(succeeded));
    // A manual payment's execution ends at authorized until the merchant's capture or cancel
    // starts another; RecordAuthorization says which way (`then`, see SagaState).
    // A Choice on a path the state lacks is a runtime error: each rule asks for `then` first.
    const then = (value: NonNullable<SagaState['then']>) => sfn.Condition.and(sfn.Condition.isPresent(THEN_PATH), sfn.Condition.stringEquals(THEN_PATH, value));
    const afterAuthorization = new sfn.Choice(this, 'CaptureNow')
      .when(then('await_capture'), new sfn.Succeed(this, 'AwaitingCapture'))
      .when(then('cancel'), compensation)
      .otherwise(captureOnwards);
    const chain = sfn.Chain.start(authorize).next(recordAuthorization).next(afterAuthorization);

    this.stateMachine = sagaStateMachine(this, chain);
  }
}

/** A saga's Standard state machine: an hour at most (unless `timeout` says), traced, every event logged without execution data. */
export function sagaStateMachine(scope: Construct, chain: sfn.IChainable, timeout = Duration.hours(1)): sfn.StateMachine {
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(chain),
    timeout,
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
      // Every state entered, retried and failed: the path each payment took, to follow a
      // stuck one without its execution history.
      level: sfn.LogLevel.ALL,
      // Execution data would carry card and payment details into the logs.
      includeExecutionData: false,
    },
  });
  acknowledgeWildcardResource(
    stateMachine,
    '*',
    "Logging and tracing: CloudWatch Logs' log-delivery actions and X-Ray's trace writes take no resource but * " +
      '(test/infra/nag.test.ts holds * to those actions).',
  );
  return stateMachine;
}

/**
 * How long past its timeout a function may take to answer: a cold start's initialization
 * (Lambda allows it 10 s) comes before the timeout starts counting.
 */
export const TASK_TIMEOUT_ALLOWANCE = Duration.seconds(10);

/** Lambda's default, for a function that sets none. */
const LAMBDA_DEFAULT_TIMEOUT = Duration.seconds(3);

/** How far past the lease the last PaymentBusy retry comes: clocks of two machines, and the write that ends a lease. */
const LEASE_WAIT_MARGIN_SECONDS = 10;

/**
 * PaymentBusy's Retry. Without jitter: full jitter may draw every wait near 0, so the only
 * budget it guarantees is none. The lease holder is one reconciler per payment, so there is
 * no herd for jitter to spread. Enough attempts that the waits alone add up to more than
 * the reconciler's lease (and a margin): a step that meets a lease, even one its holder died
 * with, outlasts it instead of failing its execution.
 */
export const LEASE_WAIT_RETRY = outlasting(DEFAULT_RECONCILE_LEASE_SECONDS + LEASE_WAIT_MARGIN_SECONDS);

/** Waits of 1 s doubling up to 30 s, as many as it takes for them to add up to more than `seconds`. */
function outlasting(seconds: number): sfn.RetryProps {
  const interval = 1;
  const backoffRate = 2;
  const maxDelay = 30;
  let maxAttempts = 0;
  for (let waited = 0; waited <= seconds; maxAttempts++) waited += Math.min(interval * backoffRate ** maxAttempts, maxDelay);
  return {
    errors: [...LeaseWaitErrorNames],
    interval: Duration.seconds(interval),
    backoffRate,
    maxAttempts,
    maxDelay: Duration.seconds(maxDelay),
  };
}

/**
 * A Lambda Task whose state is the function's return value (state names are the catalog's
 * keys: the local stack binds handlers by state name). It retries the transient errors with
 * capped, fully jittered backoff, and gives up waiting for an answer a while after its
 * function's own timeout, for an invocation that hung (`States.Timeout`, retried too).
 */
export function retryingTask(scope: Construct, name: string, fn: lambda.Function, payload?: sfn.TaskInput): tasks.LambdaInvoke {
  const functionTimeout = fn.timeout ?? LAMBDA_DEFAULT_TIMEOUT;
  const step = new tasks.LambdaInvoke(scope, name, {
    stateName: name,
    lambdaFunction: fn,
    // Absent: the whole state.
    ...(payload !== undefined && { payload }),
    // The function's return value is the next state, without the invocation envelope.
    payloadResponseOnly: true,
    // Lambda's own errors are in TransientErrorNames: one Retry covers them.
    retryOnServiceExceptions: false,
    // Past the function's own timeout, so a slow function fails by its own name first.
    taskTimeout: sfn.Timeout.duration(functionTimeout.plus(TASK_TIMEOUT_ALLOWANCE)),
  });
  acknowledgeWildcardResource(
    scope,
    `${fn.functionArn}:*`,
    "LambdaInvoke's grant also covers the function's versions and aliases; the function is this saga's own step.",
  );
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
