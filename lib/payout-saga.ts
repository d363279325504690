/**
 * The payout saga, one Lambda Task per step (state names are the catalog's `payoutSteps` keys):
 *
 *   SubmitPayout -> PayoutSettled? --paid--> RecordPayoutPaid -> Paid
 *        |            ^    | | |
 *        |            |    | | `--failed/canceled--> MarkPayoutFailed -> PayoutFailed (Fail)
 *        |            |    | `--travelling, no look left--> LeftToReconciler (Succeed)
 *        |            |    `--travelling--> WaitForProviderPayout -> CheckPayout --.
 *        |            `----------------------------------------------------------'
 *        `--Catch(ProviderRejected)--> MarkPayoutFailed
 *
 * SubmitPayout pays out at the provider under the payout_no as idempotency key, so a retry, a
 * resumed execution or a duplicate one gives one provider payout. The provider's status is in
 * `$.outcome`; a payout still travelling is looked at again every PAYOUT_CHECK_INTERVAL_SECONDS,
 * PAYOUT_CHECKS times (`$.checks_left`), and then left to the reconciler (a bank transfer takes
 * days). A refusal or a failed or canceled payout gives its amount back to `available`.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { PayoutStepName } from '../functions/catalog.ts';
import { PayoutTerminalErrorNames } from '../functions/domain/errors.ts';
import { PayoutStatus } from '../functions/domain/payout.ts';
import { PAYOUT_CHECK_INTERVAL_SECONDS } from '../functions/domain/payout-saga.ts';
import { SAGA_ERROR_PATH, chainOf, retryingTask, sagaStateMachine } from './payment-saga.ts';

export interface PayoutSagaProps {
  readonly steps: Readonly<Record<PayoutStepName, lambda.Function>>;
}

export class PayoutSaga extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: PayoutSagaProps) {
    super(scope, id);
    const task = (name: PayoutStepName) => retryingTask(this, name, props.steps[name]);

    const failed = chainOf(
      [task('MarkPayoutFailed')],
      new sfn.Fail(this, 'PayoutFailed', { error: 'PayoutFailed', cause: 'The provider refused, failed or canceled the payout.' }),
    );
    const paid = chainOf([task('RecordPayoutPaid')], new sfn.Succeed(this, 'Paid'));
    const settled = new sfn.Choice(this, 'PayoutSettled');
    const checkAgain = chainOf(
      [new sfn.Wait(this, 'WaitForProviderPayout', { time: sfn.WaitTime.duration(Duration.seconds(PAYOUT_CHECK_INTERVAL_SECONDS)) })],
      task('CheckPayout'),
    ).next(settled);
    settled
      .when(sfn.Condition.stringEquals('$.outcome', PayoutStatus.Paid), paid)
      .when(
        sfn.Condition.or(
          sfn.Condition.stringEquals('$.outcome', PayoutStatus.Failed),
          sfn.Condition.stringEquals('$.outcome', PayoutStatus.Canceled),
        ),
        failed,
      )
      .when(sfn.Condition.numberGreaterThan('$.checks_left', 0), checkAgain)
      .otherwise(new sfn.Succeed(this, 'LeftToReconciler', { comment: 'The provider has not finished the payout yet.' }));

    const chain = task('SubmitPayout')
      .addCatch(failed, { errors: [...PayoutTerminalErrorNames], resultPath: SAGA_ERROR_PATH })
      .next(settled);

    this.stateMachine = sagaStateMachine(this, chain);
  }
}
