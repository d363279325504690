import { StepFunctionsChargeWorkflow, createSfnClient } from '../../adapters/sfn/charge-workflow.ts';
import { EnvVar, reconcileAfterSeconds, requireEnv } from '../../config/env.ts';
import type { CreatePaymentDeps } from '../../domain/create-payment.ts';
import type { ReconcileDeps } from '../../domain/reconcile.ts';
import { once, systemClock } from './once.ts';
import { paymentRepository } from './persistence.ts';

/** The functions that start or inspect saga executions: payment creation and the reconciler. */
const chargeWorkflow = once(
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

/** Resumes after this many restarts are left to people (and alarmed on). */
const MAX_RESUMES = 5;

export const reconcileDeps = once(
  (): ReconcileDeps => ({
    payments: paymentRepository(),
    workflow: chargeWorkflow(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
    maxResumes: MAX_RESUMES,
  }),
);
