import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { AwsCallBudget } from '../../config/env.ts';
import { WorkflowUnavailableError } from '../../domain/errors.ts';
import type { ChargeWorkflow, ExecutionStatus } from '../../domain/ports.ts';
import { audited, clientConfigFor } from '../aws-client-config.ts';

/**
 * A saga on Step Functions: the payment saga (input `{payment_no}`), the refund saga
 * (`{refund_no}`) or the payout saga (`{payout_no}`). The endpoint comes from the SDK's configuration (`AWS_ENDPOINT_URL_SFN`),
 * which is how the local stack's Step Functions stands in.
 */
export class StepFunctionsWorkflow implements ChargeWorkflow {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    /** The field of the execution's input that names what it works on. */
    private readonly inputKey: 'payment_no' | 'refund_no' | 'payout_no' = 'payment_no',
  ) {}

  async start(id: string, executionName: string): Promise<void> {
    const input = { [this.inputKey]: id };
    try {
      // Same name and input as a running execution: Step Functions answers with that one.
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: executionName,
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      // The name was used by an execution that has closed: this start already happened. If
      // that execution left the payment unfinished, the reconciler resumes it under a new name.
      if (error instanceof ExecutionAlreadyExists) return;
      throw unavailable(error);
    }
  }

  async describe(executionName: string): Promise<ExecutionStatus> {
    try {
      const { status } = await this.sfn.send(
        new DescribeExecutionCommand({ executionArn: this.executionArn(executionName) }),
      );
      return (status ?? 'RUNNING') as ExecutionStatus;
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return 'NOT_FOUND';
      throw unavailable(error);
    }
  }

  /** `arn:aws:states:r:a:stateMachine:Name` names its executions `...:execution:Name:<name>`. */
  executionArn(executionName: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
  }
}

/** Anything else Step Functions answers (throttling, 5xx, no connection, a timeout) is worth a later try. */
export function unavailable(error: unknown): WorkflowUnavailableError {
  const message = error instanceof Error ? error.message : String(error);
  return new WorkflowUnavailableError(`Step Functions: ${message}`, { cause: error });
}

/** A Step Functions client whose every call gives up within `budget`, its starts audited against the functions' crash points. */
export function createSfnClient(budget: AwsCallBudget): SFNClient {
  return audited(new SFNClient(clientConfigFor(budget)));
}
