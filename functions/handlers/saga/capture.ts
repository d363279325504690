import { capturePayment } from '../../domain/saga.ts';
import { providerStepDeps } from '../shared/provider-saga.ts';
import { sagaStepHandler } from './step.ts';

export const handler = sagaStepHandler('Capture', providerStepDeps, capturePayment);
