/**
 * Events and their webhooks. The table's stream feeds the EventPublisher (its own event source
 * mapping, filtered to payments, refunds, carts and payouts entering a status that makes an event), which
 * writes each event once and starts one execution of this state machine per (event, endpoint):
 *
 *   DeliverWebhook --2xx / endpoint deleted--> Delivered (Succeed)
 *     | ^  Retry(WebhookAttemptFailed, Runtime.ExitError): 30 s doubling to 1 h, full jitter
 *     | '--'
 *     `--Catch(WebhookAttemptFailed once retries are spent, WebhookDeliveryExpired at 3 days)-->
 *          GiveUpWebhook (recorded failed, counted) -> DeliveryFailed (Fail)
 *
 * The backoff is Step Functions' own Retry (exponential, capped, fully jittered) rather than a
 * Choice and a Wait looping on a computed delay: the same shape with no state of ours to keep,
 * and no state transitions billed for the waits. The three days are the function's to count
 * (from `$$.Execution.StartTime`), since full jitter guarantees no sum of waits; the attempts
 * are bounded far beyond what three days hold, only so that no execution can loop forever.
 * Each delivery is its own execution named after its event and endpoint: a second start is a
 * no-op, and one merchant's dead endpoint only ever holds its own executions.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EVENT_SOURCE_TYPES } from '../functions/adapters/dynamodb/stream-changes.ts';
import type { WebhookStepName } from '../functions/catalog.ts';
import { Metric } from '../functions/config/metrics.ts';
import { customMetric } from './custom-metrics.ts';
import { PROCESS_EXIT_ERROR_NAME, WebhookGiveUpErrorNames } from '../functions/domain/errors.ts';
import { eventfulStatuses } from '../functions/domain/events.ts';
import { CaptureMethod, PaymentStatus } from '../functions/domain/payment.ts';
import { DELIVERY_GIVE_UP_SECONDS } from '../functions/domain/webhooks.ts';
import { TableStreamConsumer } from './ledger-stream.ts';
import { SAGA_ERROR_PATH, retryingTask, sagaStateMachine } from './payment-saga.ts';

/** The first retry's wait, doubled at each retry up to {@link DELIVERY_MAX_DELAY}, each drawn at random below its bound. */
export const DELIVERY_RETRY_INTERVAL = Duration.seconds(30);
export const DELIVERY_MAX_DELAY = Duration.hours(1);
/** Far more attempts than three days of jittered waits hold (about 150 on average). */
export const DELIVERY_MAX_ATTEMPTS = 1000;

export interface WebhookDeliveryProps {
  readonly table: dynamodb.ITable;
  readonly publisher: lambda.IFunction;
  readonly steps: Readonly<Record<WebhookStepName, lambda.Function>>;
  readonly alarmTopic: sns.ITopic;
}

export class WebhookDelivery extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly publishing: TableStreamConsumer;
  readonly deliveriesFailedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: WebhookDeliveryProps) {
    super(scope, id);

    this.publishing = new TableStreamConsumer(this, 'Publishing', {
      table: props.table,
      consumer: props.publisher,
      alarmTopic: props.alarmTopic,
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
          dynamodb: { NewImage: { type: { S: lambda.FilterRule.or(...EVENT_SOURCE_TYPES) }, status: { S: lambda.FilterRule.or(...eventfulStatuses) } } },
        }),
        // An automatic payment passes `authorized` on its way to capture: only a manual one's makes an event.
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
          dynamodb: {
            NewImage: {
              type: { S: lambda.FilterRule.isEqual('payment') },
              status: { S: lambda.FilterRule.isEqual(PaymentStatus.Authorized) },
              capture_method: { S: lambda.FilterRule.isEqual(CaptureMethod.Manual) },
            },
          },
        }),
      ],
      alarm: {
        id: 'EventsGivenUp',
        description:
          'The event publisher gave up on stream records: a payment, refund, cart or payout changed without its event. The queue holds their shard and sequence numbers.',
      },
      queueReason:
        'This queue is itself the on-failure destination of the event publisher (records it gave up on); it is alarmed, and nothing consumes it to fail again.',
    });

    const deliver = retryingTask(
      this,
      'DeliverWebhook',
      props.steps.DeliverWebhook,
      sfn.TaskInput.fromObject({
        event_id: sfn.JsonPath.stringAt('$.event_id'),
        endpoint_id: sfn.JsonPath.stringAt('$.endpoint_id'),
        started_at: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      }),
    );
    deliver.addRetry({
      // A function that died mid-attempt too: no reconciler looks for a delivery, and a second POST is what at-least-once allows.
      errors: ['WebhookAttemptFailed', PROCESS_EXIT_ERROR_NAME],
      interval: DELIVERY_RETRY_INTERVAL,
      backoffRate: 2,
      maxDelay: DELIVERY_MAX_DELAY,
      maxAttempts: DELIVERY_MAX_ATTEMPTS,
      jitterStrategy: sfn.JitterType.FULL,
    });
    const giveUp = retryingTask(this, 'GiveUpWebhook', props.steps.GiveUpWebhook).next(
      new sfn.Fail(this, 'DeliveryFailed', { error: 'WebhookDeliveryFailed', cause: 'The endpoint did not take the event within three days.' }),
    );
    deliver.addCatch(giveUp, { errors: [...WebhookGiveUpErrorNames], resultPath: SAGA_ERROR_PATH });

    // Past the three days the function counts, and the last attempt's wait.
    const timeout = Duration.seconds(DELIVERY_GIVE_UP_SECONDS).plus(Duration.days(1));
    this.stateMachine = sagaStateMachine(this, deliver.next(new sfn.Succeed(this, 'Delivered')), timeout);

    this.deliveriesFailedAlarm = new cloudwatch.Alarm(this, 'DeliveriesGivenUp', {
      alarmDescription: 'Webhook deliveries were given up after three days of failed attempts: GET /v1/events/{id} shows their attempts.',
      metric: customMetric(Metric.WebhookDeliveriesFailed, 'Sum', 'GiveUpWebhook'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.deliveriesFailedAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }
}
