import { Metric } from '../../config/metrics.ts';
import { recordPayoutPaid } from '../../domain/payout-saga.ts';
import { payoutStepDeps } from '../shared/saga.ts';
import { payoutStepHandler } from '../saga/step.ts';

export const handler = payoutStepHandler('RecordPayoutPaid', payoutStepDeps, recordPayoutPaid, Metric.PayoutPaid);
