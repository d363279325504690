import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface ReconcileScheduleProps {
  readonly reconciler: lambda.IFunction;
}

/** Runs the reconciler every minute. */
export class ReconcileSchedule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ReconcileScheduleProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Finds unfinished payments and drives them to a terminal status.',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      // No EventBridge retries: the next minute's run is the retry, and two overlapping
      // runs would only race each other.
      targets: [new targets.LambdaFunction(props.reconciler, { retryAttempts: 0 })],
    });
  }
}
