import { WorkflowUnavailableError } from '../../../functions/domain/errors.ts';
import type { ChargeWorkflow, Clock, ExecutionStatus } from '../../../functions/domain/ports.ts';

/** One execution of a state machine, as Step Functions keeps it. */
export interface Execution {
  readonly name: string;
  /** What it works on: the payment_no or refund_no of its input. */
  readonly id: string;
  readonly startedAtMs: number;
  status: ExecutionStatus;
}

/**
 * Step Functions' executions of one state machine, by name: a name starts at most one execution
 * (a repeated start of a running one with the same input is a no-op; of a closed one, an
 * `ExecutionAlreadyExists` that the adapter absorbs, so a no-op here too), and an execution
 * still running past the machine's `TimeoutSeconds` is `TIMED_OUT`. What an execution does is
 * up to whoever runs it: `onStart` hears of each new one.
 */
export class StrictWorkflow implements ChargeWorkflow {
  /** Every execution, by name. */
  readonly executions = new Map<string, Execution>();
  /** Step Functions cannot be reached: every start fails, as the adapter reports it. */
  failStarts = false;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutSeconds = Number.POSITIVE_INFINITY,
    private readonly onStart: (execution: Execution) => void = () => undefined,
  ) {}

  async start(id: string, executionName: string): Promise<void> {
    if (this.failStarts) throw new WorkflowUnavailableError('Step Functions is unavailable');
    if (this.executions.has(executionName)) return;
    const execution: Execution = { name: executionName, id, startedAtMs: this.clock().getTime(), status: 'RUNNING' };
    this.executions.set(executionName, execution);
    this.onStart(execution);
  }

  async describe(executionName: string): Promise<ExecutionStatus> {
    const execution = this.executions.get(executionName);
    return execution === undefined ? 'NOT_FOUND' : this.statusOf(execution);
  }

  /** The execution's status now: a running one past its timeout has timed out. */
  statusOf(execution: Execution): ExecutionStatus {
    if (execution.status === 'RUNNING' && this.clock().getTime() > execution.startedAtMs + this.timeoutSeconds * 1000) {
      execution.status = 'TIMED_OUT';
    }
    return execution.status;
  }

  /** Every execution, in the order started. */
  all(): Execution[] {
    return [...this.executions.values()];
  }

  /** The execution `executionName` ends `status`, as whoever runs it decided. */
  end(executionName: string, status: ExecutionStatus): void {
    const execution = this.executions.get(executionName);
    if (execution === undefined) throw new Error(`no execution ${executionName}`);
    execution.status = status;
  }
}
