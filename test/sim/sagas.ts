import { type RefundStepName, type SagaStepName, providerRefundSteps, providerSteps } from '../../functions/catalog.ts';
import { type CheckoutDeps, settleCartOfPayment } from '../../functions/domain/carts/checkout.ts';
import {
  type RefundSagaDeps,
  type RefundSagaState,
  checkRefund,
  markRefundFailed,
  recordRefund,
  submitRefund,
} from '../../functions/domain/refund-saga.ts';
import {
  type SagaDeps,
  type SagaState,
  authorizePayment,
  capturePayment,
  markFailed,
  markSucceeded,
  recordAuthorization,
  voidAuthorization,
} from '../../functions/domain/saga.ts';
import type { Machines } from './deployment.ts';
import { type ExecutionHost, type Json, type JsonObject, type TaskResult, runExecution } from './interpreter.ts';
import type { Actor } from './scheduler.ts';
import { schoolDeps } from './school.ts';
import { DEPLOYMENT, type World } from './world.ts';

type StepOf<D, S> = (deps: D, state: S) => Promise<S>;

/** The domain function each Task state runs, as its handler binds it. */
export interface StepBindings {
  readonly payment: Readonly<Record<Exclude<SagaStepName, 'SettleCart'>, StepOf<SagaDeps, SagaState>>> & {
    readonly SettleCart: StepOf<CheckoutDeps, SagaState>;
  };
  readonly refund: Readonly<Record<RefundStepName, StepOf<RefundSagaDeps, RefundSagaState>>>;
}

export const productSteps: StepBindings = {
  payment: {
    Authorize: authorizePayment,
    RecordAuthorization: recordAuthorization,
    Capture: capturePayment,
    MarkSucceeded: markSucceeded,
    VoidAuthorization: voidAuthorization,
    MarkFailed: markFailed,
    // As its handler: the cart named by the payment's state, settled from the payment.
    SettleCart: async (deps, state) => {
      if (state.cart_id !== undefined) await settleCartOfPayment(deps, state.payment_no, state.cart_id);
      return state;
    },
  },
  refund: { SubmitRefund: submitRefund, CheckRefund: checkRefund, RecordRefund: recordRefund, MarkRefundFailed: markRefundFailed },
};

/** Runs every execution either saga starts, each Task a Lambda invocation with its gates. */
export function runSagas(world: World, steps: StepBindings): void {
  world.runExecution = (saga, execution) =>
    world.spawn(`${saga}-saga ${execution.name}`, 'execution', async (actor) => {
      // Step Functions itself runs no Lambda: only its Tasks do.
      actor.invocation.ended = true;
      const input: JsonObject = saga === 'payment' ? { payment_no: execution.id } : { refund_no: execution.id };
      const status = await runExecution(world.machines[saga], input, executionHost(world, actor, saga, steps));
      if (execution.status === 'RUNNING') execution.status = status;
      world.count(`execution ended ${execution.status}: ${saga}`);
      world.log(`${actor.name} ended ${execution.status}`);
    });
}

function executionHost(world: World, actor: Actor, saga: keyof Machines, steps: StepBindings): ExecutionHost {
  // The state Step Functions passes is JSON the ASL shaped; the handler's schema check is not what is simulated.
  const bound = steps[saga] as unknown as Readonly<Record<string, StepOf<object, JsonObject> | undefined>>;
  const callsProvider: readonly string[] = saga === 'payment' ? providerSteps : providerRefundSteps;
  return {
    nowMs: () => world.clock.ms,
    random: () => world.random(),
    sleep: async (ms) => {
      await world.sleep(actor, ms);
    },
    async invoke(state, input): Promise<TaskResult> {
      const step = bound[state];
      if (step === undefined) throw new Error(`no domain function bound to the ${saga} saga's ${state}`);
      actor.invocation = world.invocation(state);
      const ports = world.portsOf(actor);
      // As the handlers build them: only the provider steps get the provider; SettleCart the school's, starting nothing.
      const deps =
        saga === 'payment' && state === 'SettleCart'
          ? schoolDeps(world, actor, ports, false)
          : {
              ...(saga === 'payment' ? { payments: ports.payments } : { refunds: ports.refunds }),
              clock: world.clock.clock,
              reconcileAfterSeconds: world.reconcileAfterSeconds,
              ...(callsProvider.includes(state) && { provider: ports.provider, deployment: DEPLOYMENT }),
            };
      let output: unknown;
      let failure: unknown;
      try {
        output = await step(deps, input);
      } catch (error) {
        failure = error;
      }
      const { invocation } = actor;
      if (invocation.killed) return lambdaError(invocation.failure, `${state} died`);
      const decision = await world.returning(actor);
      invocation.ended = true;
      if (decision.kind === 'crash') return lambdaError(invocation.failure, `${state} died before it answered`);
      // Lambda lost the invocation's answer: Step Functions sees its service fail, and retries.
      if (decision.kind === 'fault') return lambdaError('Lambda.ServiceException', `${state}'s answer was lost`);
      if (failure !== undefined) {
        world.count(`step error ${errorName(failure)}: ${state}`);
        world.noteUnexpected(`${saga} saga ${state}`, failure);
        return lambdaError(errorName(failure), failure instanceof Error ? failure.message : String(failure));
      }
      // Lambda answers JSON: what cannot be serialized is gone, as in the deployed saga.
      return { output: JSON.parse(JSON.stringify(output ?? null)) as Json };
    },
  };
}

function lambdaError(name: string, cause: string): TaskResult {
  return { error: { Error: name, Cause: JSON.stringify({ errorType: name, errorMessage: cause }) } };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}
