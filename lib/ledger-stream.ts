import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LEDGER_SOURCE_TYPES } from '../functions/adapters/dynamodb/stream-changes.ts';
import { acknowledge } from './nag.ts';

/**
 * Retries of a failed batch before its records go to the on-failure queue. Bounded on purpose:
 * with `-1` (Lambda's default) a record that always fails blocks its shard (every later payment's
 * posting waits behind it) until DynamoDB Streams drops it after 24 hours. Bisecting isolates
 * such a record within about seven retries of a batch of 100, so the rest of its batch is posted
 * long before the bound; transient failures (throttling, an outage) get 49 more tries.
 */
export const LEDGER_RETRY_ATTEMPTS = 50;
export const LEDGER_BATCH_SIZE = 100;

export interface TableStreamConsumerProps {
  readonly table: dynamodb.ITable;
  readonly consumer: lambda.IFunction;
  /** Where the alarm on records the consumer gave up on notifies. */
  readonly alarmTopic: sns.ITopic;
  /** The stream records the consumer is given: those any of these matches (Lambda's filter criteria on the record). */
  readonly filters: readonly Record<string, unknown>[];
  /** The alarm's construct id and what it tells the person it wakes. */
  readonly alarm: { readonly id: string; readonly description: string };
  /** Why nothing consumes the on-failure queue (cdk-nag's SQS3). */
  readonly queueReason: string;
}

/**
 * A consumer of the payments table's stream (NEW_AND_OLD_IMAGES), filtered, in order per item,
 * at least once, in bisected batches retried {@link LEDGER_RETRY_ATTEMPTS} times. A record it
 * cannot take after the retries is not dropped silently: the stream's position of it goes to a
 * queue (kept 14 days), and one message there raises an alarm.
 */
export class TableStreamConsumer extends Construct {
  readonly failures: sqs.Queue;
  readonly failuresAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: TableStreamConsumerProps) {
    super(scope, id);
    this.failures = new sqs.Queue(this, 'Failures', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledge(this.failures, 'SQS3', props.queueReason);

    props.consumer.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: LEDGER_BATCH_SIZE,
        bisectBatchOnError: true,
        retryAttempts: LEDGER_RETRY_ATTEMPTS,
        onFailure: new SqsDlq(this.failures),
        filters: [...props.filters],
      }),
    );

    this.failuresAlarm = new cloudwatch.Alarm(this, props.alarm.id, {
      alarmDescription: props.alarm.description,
      metric: this.failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failuresAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }
}

export interface LedgerStreamProps {
  readonly table: dynamodb.ITable;
  readonly poster: lambda.IFunction;
  /** Where the alarm on records the poster gave up on notifies. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * The ledger's feed: the table's stream filtered to payments and refunds that are succeeded,
 * delivered to the LedgerPoster. A record it gave up on stays re-postable from the payment or
 * refund in the table, postings being idempotent.
 */
export class LedgerStream extends TableStreamConsumer {
  constructor(scope: Construct, id: string, props: LedgerStreamProps) {
    super(scope, id, {
      table: props.table,
      consumer: props.poster,
      alarmTopic: props.alarmTopic,
      filters: [lambda.FilterCriteria.filter({
        eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
        dynamodb: { NewImage: { type: { S: lambda.FilterRule.or(...LEDGER_SOURCE_TYPES) }, status: { S: lambda.FilterRule.isEqual('succeeded') } } },
      })],
      alarm: {
        id: 'PostingsGivenUp',
        description:
          'The ledger poster gave up on stream records: a payment or refund is missing from the ledger. The queue holds their shard and sequence numbers.',
      },
      queueReason:
        'This queue is itself the on-failure destination of the ledger stream (records the poster gave up on); it is alarmed, and nothing consumes it to fail again.',
    });
  }
}
