import type { AwsCallBudget } from '../config/env.ts';

/**
 * The AWS SDK client options that hold every call to `budget`. A timed-out attempt fails as
 * `TimeoutError`, which the SDK retries within `maxAttempts` and the adapters then name as the
 * service being unavailable.
 */
export function clientConfigFor(budget: AwsCallBudget) {
  return {
    maxAttempts: budget.maxAttempts,
    requestHandler: {
      connectionTimeout: budget.connectTimeoutMs,
      requestTimeout: budget.requestTimeoutMs,
      // Without it the SDK's NodeHttpHandler only logs a warning when `requestTimeout` passes.
      throwOnRequestTimeout: true,
    },
  };
}
