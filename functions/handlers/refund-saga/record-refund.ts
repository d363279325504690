import { Metric } from '../../config/metrics.ts';
import { recordRefund } from '../../domain/refund-saga.ts';
import { refundStepDeps } from '../shared/saga.ts';
import { refundStepHandler } from '../saga/step.ts';

export const handler = refundStepHandler('RecordRefund', refundStepDeps, recordRefund, Metric.RefundSucceeded);
