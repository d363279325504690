import { submitPayout } from '../../domain/payout-saga.ts';
import { providerPayoutStepDeps } from '../shared/provider-saga.ts';
import { payoutStepHandler } from '../saga/step.ts';

export const handler = payoutStepHandler('SubmitPayout', providerPayoutStepDeps, submitPayout);
