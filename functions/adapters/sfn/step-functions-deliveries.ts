import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Delivery, DeliveryStarter } from '../../domain/webhooks.ts';
import { unavailable } from './step-functions-workflow.ts';

/** Webhook deliveries as executions of the delivery state machine (lib/webhook-delivery.ts), input `{event_id, endpoint_id}`. */
export class StepFunctionsDeliveries implements DeliveryStarter {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(executionName: string, delivery: Delivery): Promise<void> {
    try {
      // Same name and input as a running execution: Step Functions answers with that one.
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: executionName,
          input: JSON.stringify({ event_id: delivery.eventId, endpoint_id: delivery.endpointId }),
        }),
      );
    } catch (error) {
      // That name's execution has closed: this delivery was started, and has ended, already.
      if (error instanceof ExecutionAlreadyExists) return;
      throw unavailable(error);
    }
  }
}
