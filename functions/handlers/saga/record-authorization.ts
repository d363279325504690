import { recordAuthorization } from '../../domain/saga.ts';
import { stepDeps } from '../shared/saga.ts';
import { sagaStepHandler } from './step.ts';

export const handler = sagaStepHandler('RecordAuthorization', stepDeps, recordAuthorization);
