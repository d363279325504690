import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, ReconcilerMetric, SERVICE_NAME } from '../functions/config/metrics.ts';

export interface PaymentAlarmsProps {
  /** How old an unfinished payment may get before a person is told. */
  readonly stuckAfter?: Duration;
}

/**
 * What a person must hear about: a payment the reconciler gave up on, a payment unfinished
 * for too long, and a reconciler that stopped running. Every alarm notifies one SNS topic;
 * subscribe to it after deploying.
 */
export class PaymentAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly gaveUp: cloudwatch.Alarm;
  readonly stuckTooLong: cloudwatch.Alarm;
  readonly reconcilerStopped: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: PaymentAlarmsProps = {}) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Chargeonce payment alarms',
      // A topic policy that refuses a publish without TLS; CloudWatch's alarm actions use it.
      enforceSSL: true,
    });
    const metric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME },
        statistic,
        period: Duration.minutes(5),
      });

    this.gaveUp = new cloudwatch.Alarm(this, 'GaveUp', {
      alarmDescription: 'The reconciler gave up on a payment: it needs a person (search the logs for decision gave_up).',
      metric: metric(ReconcilerMetric.GaveUp, 'Sum'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.stuckTooLong = new cloudwatch.Alarm(this, 'StuckTooLong', {
      alarmDescription: 'A payment has been unfinished for longer than expected.',
      metric: metric(ReconcilerMetric.OldestUnfinishedAgeSeconds, 'Maximum'),
      threshold: (props.stuckAfter ?? Duration.hours(1)).toSeconds(),
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.reconcilerStopped = new cloudwatch.Alarm(this, 'ReconcilerStopped', {
      alarmDescription: 'The reconciler has not run for 15 minutes: stuck payments are not being resumed.',
      metric: metric(ReconcilerMetric.Runs, 'SampleCount'),
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    for (const alarm of [this.gaveUp, this.stuckTooLong, this.reconcilerStopped]) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
    }
  }
}
