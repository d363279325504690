import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { Metric } from '../functions/config/metrics.ts';
import { customMetric } from './custom-metrics.ts';

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
  readonly settlementMismatch: cloudwatch.Alarm;
  readonly settlementFailed: cloudwatch.Alarm;
  readonly settlementStopped: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: PaymentAlarmsProps = {}) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Chargeonce payment alarms',
      // A topic policy that refuses a publish without TLS; CloudWatch's alarm actions use it.
      enforceSSL: true,
    });
    this.gaveUp = new cloudwatch.Alarm(this, 'GaveUp', {
      alarmDescription: 'The reconciler gave up on a payment: it needs a person (search the logs for decision gave_up).',
      metric: customMetric(Metric.ReconcileGaveUp, 'Sum'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.stuckTooLong = new cloudwatch.Alarm(this, 'StuckTooLong', {
      alarmDescription: 'A payment has been unfinished for longer than expected.',
      metric: customMetric(Metric.OldestUnfinishedPaymentAgeSeconds, 'Maximum'),
      threshold: (props.stuckAfter ?? Duration.hours(1)).toSeconds(),
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.reconcilerStopped = new cloudwatch.Alarm(this, 'ReconcilerStopped', {
      alarmDescription: 'The reconciler has not run for 15 minutes: stuck payments are not being resumed.',
      metric: customMetric(Metric.ReconcileRuns, 'SampleCount'),
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.settlementMismatch = new cloudwatch.Alarm(this, 'SettlementMismatch', {
      alarmDescription:
        'A settlement statement lists a difference between the provider and the ledger (missing on one side, or another amount): see its reconciliation, and the logs for "the provider and the ledger differ".',
      metric: customMetric(Metric.SettlementMismatches, 'Sum'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.settlementFailed = new cloudwatch.Alarm(this, 'SettlementFailed', {
      alarmDescription:
        'A merchant day could not be settled (a statement that does not add up, or the provider unreachable): each hourly run tries it again; search the logs for "could not settle the day".',
      metric: customMetric(Metric.SettlementFailed, 'Sum'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.settlementStopped = new cloudwatch.Alarm(this, 'SettlementStopped', {
      alarmDescription: 'The hourly settlement has not run for 3 hours: no statement is being written.',
      metric: customMetric(Metric.SettlementRuns, 'SampleCount').with({ period: Duration.hours(1) }),
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const alarms = [this.gaveUp, this.stuckTooLong, this.reconcilerStopped, this.settlementMismatch, this.settlementFailed, this.settlementStopped];
    for (const alarm of alarms) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
    }
  }
}
