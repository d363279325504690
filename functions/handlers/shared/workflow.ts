import { StepFunctionsChargeWorkflow, createSfnClient } from '../../adapters/sfn/charge-workflow.ts';
import { EnvVar, reconcileAfterSeconds, requireEnv } from '../../config/env.ts';
import type { CreatePaymentDeps } from '../../domain/create-payment.ts';
import { once, systemClock } from './once.ts';
import { paymentRepository } from './persistence.ts';

/** The functions that start or inspect saga executions: payment creation and the reconciler. */
export const chargeWorkflow = once(
  () => new StepFunctionsChargeWorkflow(createSfnClient(), requireEnv(EnvVar.StateMachineArn)),
);

export const createPaymentDeps = once(
  (): CreatePaymentDeps => ({
    payments: paymentRepository(),
    workflow: chargeWorkflow(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);
