import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { type ListedMetric, METRICS_NAMESPACE, type MetricScope, SERVICE_NAME } from '../functions/config/metrics.ts';

/** The period every custom metric is read over, on alarms and dashboard alike (five minutes, CloudWatch's default). */
export const METRIC_PERIOD = Duration.minutes(5);

/**
 * One custom metric of the list as CloudWatch stores it: in the product's namespace, under the
 * dimensions its emitter adds (`service`, and the route's or step's name when it has a scope).
 */
export function customMetric<S extends MetricScope>(
  metric: ListedMetric<S>,
  statistic: string,
  ...[handler]: S extends 'service' ? [] : [handler: string]
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: metric.name,
    dimensionsMap: { service: SERVICE_NAME, ...(handler !== undefined && { [metric.scope]: handler }) },
    statistic,
    period: METRIC_PERIOD,
  });
}

/**
 * A custom metric summed over every route or step that emits it: a search for the metric's
 * name under exactly its emitter's dimensions (a route's `{service, route}`), so a route that
 * starts emitting it shows up without a change here.
 */
export function acrossHandlers(metric: ListedMetric<'route' | 'step'>, statistic: string, aggregate: 'SUM' | 'MAX'): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `${aggregate}(${searchOf(metric, statistic)})`,
    label: `${metric.name}${statistic === 'Sum' ? '' : ` ${statistic}`}`,
    period: METRIC_PERIOD,
  });
}

/** CloudWatch's SEARCH for one metric under its dimension set. */
function searchOf(metric: ListedMetric<'route' | 'step'>, statistic: string): string {
  return `SEARCH('{${METRICS_NAMESPACE},${metric.scope},service} MetricName="${metric.name}" service="${SERVICE_NAME}"', '${statistic}', ${METRIC_PERIOD.toSeconds()})`;
}
