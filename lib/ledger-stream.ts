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

export interface LedgerStreamProps {
  readonly table: dynamodb.ITable;
  readonly poster: lambda.IFunction;
  /** Where the alarm on records the poster gave up on notifies. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * The ledger's feed: the payments table's stream (NEW_AND_OLD_IMAGES), filtered to payments and
 * refunds that are succeeded, delivered to the LedgerPoster in order per item, at least once.
 * A record it cannot post after the retries is not dropped silently: the stream's position of
 * it goes to a queue (kept 14 days), and one message there raises an alarm. The record itself
 * stays re-postable from the payment or refund in the table, postings being idempotent.
 */
export class LedgerStream extends Construct {
  readonly failures: sqs.Queue;
  readonly failuresAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: LedgerStreamProps) {
    super(scope, id);
    this.failures = new sqs.Queue(this, 'Failures', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledge(
      this.failures,
      'SQS3',
      'This queue is itself the on-failure destination of the ledger stream (records the poster gave up on); it is alarmed, and nothing consumes it to fail again.',
    );

    props.poster.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: LEDGER_BATCH_SIZE,
        bisectBatchOnError: true,
        retryAttempts: LEDGER_RETRY_ATTEMPTS,
        onFailure: new SqsDlq(this.failures),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
            dynamodb: { NewImage: { type: { S: lambda.FilterRule.or(...LEDGER_SOURCE_TYPES) }, status: { S: lambda.FilterRule.isEqual('succeeded') } } },
          }),
        ],
      }),
    );

    this.failuresAlarm = new cloudwatch.Alarm(this, 'PostingsGivenUp', {
      alarmDescription:
        'The ledger poster gave up on stream records: a payment or refund is missing from the ledger. The queue holds their shard and sequence numbers.',
      metric: this.failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failuresAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }
}
