import { Metric } from '../../config/metrics.ts';
import { markRefundFailed } from '../../domain/refund-saga.ts';
import { refundStepDeps } from '../shared/saga.ts';
import { refundStepHandler } from '../saga/step.ts';

export const handler = refundStepHandler('MarkRefundFailed', refundStepDeps, markRefundFailed, Metric.RefundFailed);
