import { reconcileAfterSeconds } from '../../config/env.ts';
import type { StepDeps } from '../../domain/saga.ts';
import { once, systemClock } from './once.ts';
import { paymentRepository } from './persistence.ts';

/** The saga steps that only read and write the payment: no provider, no secret. */
export const stepDeps = once(
  (): StepDeps => ({
    payments: paymentRepository(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);
