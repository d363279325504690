/**
 * Bundled by test/unit/bundling/unused-modules.test.ts as every function is bundled, to call the
 * Stripe adapter and the AWS SDK's event streams from inside a bundle.
 */
export { createStripeClient } from '../../../functions/adapters/stripe/client.ts';
export { StripePaymentProvider } from '../../../functions/adapters/stripe/stripe-provider.ts';

/** The module the SDK imports for an operation that streams events (`HttpProtocol.loadEventStreamCapability`). */
export const importEventStreams = () => import('@smithy/core/event-streams');

/** The DynamoDB client's package.json, of which the client reads its version alone. */
export { default as dynamoDbPackage } from '@aws-sdk/client-dynamodb/package.json' with { type: 'json' };

/** stripe's error classes, of which `StripeError` names its instances' `type` after its own class. */
export { default as Stripe } from 'stripe';
