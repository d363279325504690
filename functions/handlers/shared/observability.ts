import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * One logger and one metrics emitter per function instance. Service name and namespace come
 * from POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE, set by the CDK app and the
 * local stack alike. Logs carry ids, never card data or raw keys.
 */
export const logger = new Logger({ serviceName: 'chargeonce' });
export const metrics = new Metrics({ namespace: 'Chargeonce', serviceName: 'chargeonce' });

export { MetricUnit } from '@aws-lambda-powertools/metrics';
