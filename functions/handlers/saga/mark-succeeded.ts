import { markSucceeded } from '../../domain/saga.ts';
import { sagaStepHandler } from './step.ts';

export const handler = sagaStepHandler('MarkSucceeded', markSucceeded);
