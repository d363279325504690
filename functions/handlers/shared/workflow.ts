import { setTimeout as sleep } from 'node:timers/promises';
import { StepFunctionsWorkflow, createSfnClient } from '../../adapters/sfn/step-functions-workflow.ts';
import { EnvVar, awsCallBudget, reconcileAfterSeconds, requireEnv } from '../../config/env.ts';
import { withCrashPoints, workflowCalls } from '../../crash/crashing-ports.ts';
import type { CreatePaymentDeps } from '../../domain/create-payment.ts';
import type { ChargeWorkflow } from '../../domain/ports.ts';
import type { CreatePayoutDeps } from '../../domain/payout.ts';
import type { CreateRefundDeps } from '../../domain/refund.ts';
import { once, systemClock } from './once.ts';
import { paymentRepository, payoutStore, refundRepository } from './persistence.ts';

/** The functions that start or inspect saga executions: the create routes and the reconciler. */
const sfnClient = /* @__PURE__ */ once(() => createSfnClient(awsCallBudget()));

/** Each saga's starts are crash boundaries of the function that starts it. */
export const chargeWorkflow = /* @__PURE__ */ once(
  (): ChargeWorkflow =>
    withCrashPoints<ChargeWorkflow>(new StepFunctionsWorkflow(sfnClient(), requireEnv(EnvVar.StateMachineArn), 'payment_no'), workflowCalls),
);

export const refundWorkflow = /* @__PURE__ */ once(
  (): ChargeWorkflow =>
    withCrashPoints<ChargeWorkflow>(new StepFunctionsWorkflow(sfnClient(), requireEnv(EnvVar.RefundStateMachineArn), 'refund_no'), workflowCalls),
);

export const payoutWorkflow = /* @__PURE__ */ once(
  (): ChargeWorkflow =>
    withCrashPoints<ChargeWorkflow>(new StepFunctionsWorkflow(sfnClient(), requireEnv(EnvVar.PayoutStateMachineArn), 'payout_no'), workflowCalls),
);

export const createPaymentDeps = /* @__PURE__ */ once(
  (): CreatePaymentDeps => ({
    payments: paymentRepository(),
    workflow: chargeWorkflow(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);

export const createRefundDeps = /* @__PURE__ */ once(
  (): CreateRefundDeps => ({
    refunds: refundRepository(),
    payments: paymentRepository(),
    workflow: refundWorkflow(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);

export const createPayoutDeps = /* @__PURE__ */ once(
  (): CreatePayoutDeps => ({
    payouts: payoutStore(),
    workflow: payoutWorkflow(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
    sleep: (ms) => sleep(ms),
  }),
);
