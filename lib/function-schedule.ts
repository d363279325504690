import type { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface FunctionScheduleProps {
  readonly fn: lambda.IFunction;
  readonly every: Duration;
  readonly description: string;
}

/**
 * Runs a function at a fixed rate, with no EventBridge retries: the next run is the retry, and
 * a retry overlapping it would only race it. The reconciler runs every minute; SettleDay every
 * hour, each merchant's day settled in the first run after it ended in the merchant's time
 * zone (a missed run is caught up by the next).
 */
export class FunctionSchedule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: FunctionScheduleProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: props.description,
      schedule: events.Schedule.rate(props.every),
      targets: [new targets.LambdaFunction(props.fn, { retryAttempts: 0 })],
    });
  }
}
