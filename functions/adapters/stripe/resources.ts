import type Stripe from 'stripe';

/**
 * The resources of the Stripe SDK that {@link StripePaymentProvider} calls, by their property
 * on the client. The adapter is typed against these alone ({@link StripeResources}), so a call
 * to any other does not compile; the Lambda bundles keep these and put a stub that throws in
 * place of every other resource (lib/bundling/unused-modules.ts).
 */
export const STRIPE_RESOURCES = ['paymentIntents', 'refunds', 'balanceTransactions', 'payouts'] as const;

/** The part of a Stripe client the adapter may use. */
export type StripeResources = Pick<Stripe, (typeof STRIPE_RESOURCES)[number]>;
