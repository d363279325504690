import { Metric } from '../../config/metrics.ts';
import { markSucceeded } from '../../domain/saga.ts';
import { stepDeps } from '../shared/saga.ts';
import { sagaStepHandler } from './step.ts';

export const handler = sagaStepHandler('MarkSucceeded', stepDeps, markSucceeded, Metric.PaymentSucceeded);
