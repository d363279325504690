import { voidAuthorization } from '../../domain/saga.ts';
import { sagaStepHandler } from './step.ts';

export const handler = sagaStepHandler('VoidAuthorization', voidAuthorization);
