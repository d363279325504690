import { Metric } from '../../config/metrics.ts';
import { markFailed } from '../../domain/saga.ts';
import { stepDeps } from '../shared/saga.ts';
import { sagaStepHandler } from './step.ts';

export const handler = sagaStepHandler('MarkFailed', stepDeps, markFailed, Metric.PaymentFailed);
