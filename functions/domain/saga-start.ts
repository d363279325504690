import { ChargeonceError } from './errors.ts';
import type { ChargeWorkflow } from './ports.ts';

/** A saga's first execution is named after what it works on; each resume adds a suffix. */
export function executionName(id: string, resumeCount: number): string {
  return resumeCount === 0 ? id : `${id}-r${resumeCount}`;
}

/**
 * Starts an execution of a saga whose record is written (the first, unless the record names a
 * later one); false if Step Functions could not be reached. The record is due for
 * reconciliation, so the reconciler starts it then. Only our own (transient) errors are
 * absorbed; anything else is a bug or a crash and propagates.
 */
export async function tryStartSaga(workflow: ChargeWorkflow, id: string, resumeCount = 0): Promise<boolean> {
  try {
    await workflow.start(id, executionName(id, resumeCount));
    return true;
  } catch (error) {
    if (!(error instanceof ChargeonceError)) throw error;
    return false;
  }
}
