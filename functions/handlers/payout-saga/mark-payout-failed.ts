import { Metric } from '../../config/metrics.ts';
import { markPayoutFailed } from '../../domain/payout-saga.ts';
import { payoutStepDeps } from '../shared/saga.ts';
import { payoutStepHandler } from '../saga/step.ts';

export const handler = payoutStepHandler('MarkPayoutFailed', payoutStepDeps, markPayoutFailed, Metric.PayoutFailed);
