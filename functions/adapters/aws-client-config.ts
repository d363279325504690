import type { BuildMiddleware, MiddlewareStack } from '@smithy/types';
import type { AwsCallBudget } from '../config/env.ts';
import type { Boundary } from '../crash/crash-points.ts';
import { auditStateChange } from '../crash/audit.ts';

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

/**
 * The operations of each service that change nothing, by their `X-Amz-Target` prefix, and the
 * crash boundary every other operation of it is: a DynamoDB write, a Step Functions start.
 * Anything not known to read counts as a change, so a new kind of call is audited from the start.
 */
const services: Readonly<Record<string, { boundary: Boundary; reads: ReadonlySet<string> }>> = {
  DynamoDB_20120810: {
    boundary: 'write',
    reads: new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems', 'DescribeTable', 'DescribeTimeToLive', 'ListTables']),
  },
  AWSStepFunctions: {
    boundary: 'start',
    reads: new Set(['DescribeExecution', 'DescribeStateMachine', 'DescribeStateMachineForExecution', 'ListExecutions', 'GetExecutionHistory']),
  },
};

export const AUDIT_MIDDLEWARE = 'chargeonceCrashAudit';

/**
 * Adds the crash audit (functions/crash/audit.ts) to a client every function's calls go
 * through: a state-changing call is checked once, before the SDK's retries, against the crash
 * boundary its invocation is in. Off unless `CRASH_AUDIT` is set.
 */
export function audited<C extends { middlewareStack: MiddlewareStack<any, any> }>(client: C): C {
  const audit: BuildMiddleware<object, object> = (next) => async (args) => {
    const target = (args.request as { headers?: Record<string, string> }).headers?.['x-amz-target'];
    const [service = '', operation = ''] = (target ?? '').split('.');
    const known = services[service];
    if (known !== undefined && !known.reads.has(operation)) auditStateChange(known.boundary, `${service}.${operation}`);
    return next(args);
  };
  client.middlewareStack.add(audit, { step: 'build', name: AUDIT_MIDDLEWARE });
  return client;
}
