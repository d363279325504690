import { WorkflowUnavailableError } from '../../functions/domain/errors.ts';
import type { ChargeWorkflow, ExecutionStatus } from '../../functions/domain/ports.ts';

/** Step Functions' naming rules in memory: a name starts at most one execution. */
export class FakeWorkflow implements ChargeWorkflow {
  readonly executions = new Map<string, { paymentNo: string; status: ExecutionStatus }>();
  failStarts = false;

  async start(paymentNo: string, executionName: string) {
    if (this.failStarts) throw new WorkflowUnavailableError('Step Functions is unavailable');
    if (!this.executions.has(executionName)) this.executions.set(executionName, { paymentNo, status: 'RUNNING' });
  }

  async describe(executionName: string): Promise<ExecutionStatus> {
    return this.executions.get(executionName)?.status ?? 'NOT_FOUND';
  }

  end(executionName: string, status: ExecutionStatus) {
    this.executions.get(executionName)!.status = status;
  }
}
