import { stripeProviderFromEnv } from '../../adapters/stripe/client.ts';
import { EnvVar, requireEnv } from '../../config/env.ts';
import { paymentProviderCalls, withCrashPoints } from '../../crash/crashing-ports.ts';
import type { PaymentProvider } from '../../domain/provider.ts';
import type { PayoutSagaDeps } from '../../domain/payout-saga.ts';
import type { RefundSagaDeps } from '../../domain/refund-saga.ts';
import type { SagaDeps } from '../../domain/saga.ts';
import { once } from './once.ts';
import { payoutStepDeps, refundStepDeps, stepDeps } from './saga.ts';

/** The provider, its calls that move money crash boundaries of the function that makes them. */
export async function paymentProvider(): Promise<PaymentProvider> {
  return withCrashPoints<PaymentProvider>(await stripeProviderFromEnv(), paymentProviderCalls);
}

/**
 * The saga steps that call the provider (the catalog's `providerSteps`, the only functions
 * the CDK app gives the Stripe secret). Kept apart so the other steps neither bundle the
 * Stripe SDK nor try to read a secret they may not read.
 */
export const providerStepDeps = /* @__PURE__ */ once(
  async (): Promise<SagaDeps> => ({
    ...stepDeps(),
    provider: await paymentProvider(),
    deployment: requireEnv(EnvVar.DeploymentId),
  }),
);

export const providerRefundStepDeps = /* @__PURE__ */ once(
  async (): Promise<RefundSagaDeps> => ({
    ...refundStepDeps(),
    provider: await paymentProvider(),
    deployment: requireEnv(EnvVar.DeploymentId),
  }),
);

export const providerPayoutStepDeps = /* @__PURE__ */ once(
  async (): Promise<PayoutSagaDeps> => ({
    ...payoutStepDeps(),
    provider: await paymentProvider(),
    deployment: requireEnv(EnvVar.DeploymentId),
  }),
);
