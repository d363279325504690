import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../config/metrics.ts';

/**
 * One logger and one metrics emitter per function instance. Service name and namespace come
 * from POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE, set by the CDK app and the
 * local stack alike. Logs carry ids, never card data or raw keys.
 */
export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

/**
 * Metrics for one handler, with its name as a default dimension. One instance per handler
 * rather than a dimension added per call: the local stack runs every handler in one process,
 * where per-call dimensions on a shared instance would collide.
 */
export function metricsFor(dimension: 'route' | 'step', value: string): Metrics {
  return new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: SERVICE_NAME,
    defaultDimensions: { [dimension]: value },
  });
}

export { MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * An error as a log line may carry it: its name and message, never its cause, which for a
 * provider error holds the card's details.
 */
export function errorFields(error: unknown): { error_name: string; error_message: string } {
  return error instanceof Error
    ? { error_name: error.name, error_message: error.message }
    : { error_name: 'Error', error_message: String(error) };
}

/**
 * Publishes what an invocation recorded. An invocation that died half-way (a simulated crash)
 * recorded nothing and, like a killed function, publishes nothing.
 */
export function publishMetrics(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
