import { FetchWebhookSender } from '../../adapters/http/webhook-sender.ts';
import { StepFunctionsDeliveries } from '../../adapters/sfn/step-functions-deliveries.ts';
import { createSfnClient } from '../../adapters/sfn/step-functions-workflow.ts';
import { EnvVar, awsCallBudget, optionalEnv, requireEnv } from '../../config/env.ts';
import { deliveryStarterCalls, withCrashPoints } from '../../crash/crashing-ports.ts';
import type { DeliverDeps, DeliveryStarter, PublishDeps } from '../../domain/webhooks.ts';
import { once, systemClock } from './once.ts';
import { eventStore, webhookEndpointStore } from './persistence.ts';

/** Whether endpoints may be loopback `http` URLs: only where the stack runs beside its receivers. */
export const allowLoopbackUrls = () => optionalEnv(EnvVar.WebhookLoopbackUrls) === '1';

const deliveries = /* @__PURE__ */ once(
  (): DeliveryStarter =>
    withCrashPoints<DeliveryStarter>(
      new StepFunctionsDeliveries(createSfnClient(awsCallBudget()), requireEnv(EnvVar.WebhookStateMachineArn)),
      deliveryStarterCalls,
    ),
);

/** The publisher and the redeliver route: events, endpoints, and the starts of deliveries. */
export const publishDeps = /* @__PURE__ */ once(
  (): PublishDeps & { clock: () => Date } => ({ events: eventStore(), endpoints: webhookEndpointStore(), deliveries: deliveries(), clock: systemClock }),
);

export const deliverDeps = /* @__PURE__ */ once(
  (): DeliverDeps => ({ events: eventStore(), endpoints: webhookEndpointStore(), sender: new FetchWebhookSender(), clock: systemClock }),
);
