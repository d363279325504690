import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, Metric, SERVICE_NAME } from '../../functions/config/metrics.ts';
import { synthesize, type Synthesized } from './synth.ts';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});

function alarmOn(metricName: string) {
  const alarms = Object.values(synth.template.findResources('AWS::CloudWatch::Alarm'));
  return alarms.find((alarm) => alarm.Properties.MetricName === metricName);
}

describe('payment alarms', () => {
  it.each([
    ['a payment the reconciler gave up on', Metric.ReconcileGaveUp.name, 'Sum', 'GreaterThanOrEqualToThreshold', 'notBreaching'],
    ['a payment stuck too long', Metric.OldestUnfinishedPaymentAgeSeconds.name, 'Maximum', 'GreaterThanThreshold', 'notBreaching'],
    ['a reconciler that stopped running', Metric.ReconcileRuns.name, 'SampleCount', 'LessThanThreshold', 'breaching'],
    ['a difference between the provider and the ledger on a statement', Metric.SettlementMismatches.name, 'Sum', 'GreaterThanOrEqualToThreshold', 'notBreaching'],
    ['a merchant day that could not be settled', Metric.SettlementFailed.name, 'Sum', 'GreaterThanOrEqualToThreshold', 'notBreaching'],
    ['a settlement schedule that stopped running', Metric.SettlementRuns.name, 'SampleCount', 'LessThanThreshold', 'breaching'],
  ])('alarm on %s, on the metric its function emits', (_, metricName, statistic, comparison, missing) => {
    // Act
    const alarm = alarmOn(metricName);

    // Assess
    expect(alarm?.Properties).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: statistic,
      ComparisonOperator: comparison,
      TreatMissingData: missing,
    });
    expect(alarm?.Properties.AlarmActions).toHaveLength(1);
  });

  it('alarms when the hourly settlement missed three hours running', () => {
    expect(alarmOn(Metric.SettlementRuns.name)?.Properties).toMatchObject({ Period: 3600, EvaluationPeriods: 3, Threshold: 1 });
  });

  it('alarms when a payment is unfinished for more than an hour', () => {
    expect(alarmOn(Metric.OldestUnfinishedPaymentAgeSeconds.name)?.Properties.Threshold).toBe(3600);
  });

  it('notifies one SNS topic, named in the outputs', () => {
    expect(Object.keys(synth.template.findResources('AWS::SNS::Topic'))).toHaveLength(1);
    expect(synth.template.findOutputs('AlarmTopicArn')).not.toEqual({});
  });
});
