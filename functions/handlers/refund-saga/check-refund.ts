import { checkRefund } from '../../domain/refund-saga.ts';
import { providerRefundStepDeps } from '../shared/provider-saga.ts';
import { refundStepHandler } from '../saga/step.ts';

export const handler = refundStepHandler('CheckRefund', providerRefundStepDeps, checkRefund);
