import { stripeProviderFromEnv } from '../../adapters/stripe/client.ts';
import { reconcileAfterSeconds } from '../../config/env.ts';
import type { SagaDeps } from '../../domain/saga.ts';
import { once, systemClock } from './once.ts';
import { paymentRepository } from './persistence.ts';

/** The saga steps: the payments table and the provider. */
export const sagaDeps = once(
  async (): Promise<SagaDeps> => ({
    payments: paymentRepository(),
    provider: await stripeProviderFromEnv(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);
