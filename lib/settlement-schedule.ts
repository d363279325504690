import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface SettlementScheduleProps {
  readonly settleDay: lambda.IFunction;
}

/**
 * Runs SettleDay every hour: each merchant's day is settled in the first run after it ended
 * in the merchant's time zone (and its grace passed), whatever that zone's offset; a run that
 * was missed is caught up by the next, which settles every day since the merchant's last.
 */
export class SettlementSchedule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SettlementScheduleProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Writes the settlement statements of every merchant whose day has ended.',
      schedule: events.Schedule.rate(Duration.hours(1)),
      // The next hour's run is the retry; a statement is written once however often it runs.
      targets: [new targets.LambdaFunction(props.settleDay, { retryAttempts: 0 })],
    });
  }
}
