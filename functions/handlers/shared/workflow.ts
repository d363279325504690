import { StepFunctionsWorkflow, createSfnClient } from '../../adapters/sfn/step-functions-workflow.ts';
import { EnvVar, awsCallBudget, reconcileAfterSeconds, requireEnv } from '../../config/env.ts';
import type { CreatePaymentDeps } from '../../domain/create-payment.ts';
import type { CreateRefundDeps } from '../../domain/refund.ts';
import { once, systemClock } from './once.ts';
import { paymentRepository, refundRepository } from './persistence.ts';

/** The functions that start or inspect saga executions: the create routes and the reconciler. */
const sfnClient = once(() => createSfnClient(awsCallBudget()));

export const chargeWorkflow = once(
  () => new StepFunctionsWorkflow(sfnClient(), requireEnv(EnvVar.StateMachineArn), 'payment_no'),
);

export const refundWorkflow = once(
  () => new StepFunctionsWorkflow(sfnClient(), requireEnv(EnvVar.RefundStateMachineArn), 'refund_no'),
);

export const createPaymentDeps = once(
  (): CreatePaymentDeps => ({
    payments: paymentRepository(),
    workflow: chargeWorkflow(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);

export const createRefundDeps = once(
  (): CreateRefundDeps => ({
    refunds: refundRepository(),
    payments: paymentRepository(),
    workflow: refundWorkflow(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);
