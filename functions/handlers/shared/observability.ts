import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type ListedMetric, METRICS_NAMESPACE, type MetricScope, SERVICE_NAME } from '../../config/metrics.ts';

/**
 * One logger per function instance. Service name and metrics namespace come from
 * POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE, set by the CDK app and the
 * local stack alike. Logs carry ids, never card data or raw keys.
 */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/**
 * A Powertools emitter that takes only the metrics of its scope from the one list
 * (`functions/config/metrics.ts`): a name that is not in the list, or a route's metric counted
 * by a step (under dimensions the dashboard never asks for), does not compile.
 */
export class ScopedMetrics<S extends MetricScope> {
  constructor(private readonly metrics: Metrics) {}

  /** Records one data point (by default a count of 1), published when the invocation ends. */
  add(metric: ListedMetric<S>, value = 1): void {
    this.metrics.addMetric(metric.name, metric.unit, value);
  }

  /**
   * Publishes what the invocation recorded. An invocation that died half-way (a simulated
   * crash) recorded nothing and, like a killed function, publishes nothing.
   */
  publish(): void {
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
  }
}

/** The metrics of a function that is neither a route nor a step (the reconciler, the stream consumers). */
export const serviceMetrics = new ScopedMetrics<'service'>(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }));

/**
 * Metrics for one handler, with its name as a default dimension. One instance per handler
 * rather than a dimension added per call: the local stack runs every handler in one process,
 * where per-call dimensions on a shared instance would collide.
 */
export function metricsFor<S extends 'route' | 'step'>(scope: S, name: string): ScopedMetrics<S> {
  return new ScopedMetrics(
    new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, defaultDimensions: { [scope]: name } }),
  );
}

/**
 * An error as a log line may carry it: its name and message, never its cause, which for a
 * provider error holds the card's details.
 */
export function errorFields(error: unknown): { error_name: string; error_message: string } {
  return error instanceof Error
    ? { error_name: error.name, error_message: error.message }
    : { error_name: 'Error', error_message: String(error) };
}
