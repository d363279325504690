/**
 * The refund saga, one Lambda Task per step (state names are the catalog's `refundSteps` keys):
 *
 *   SubmitRefund -> RefundSettled? --succeeded--> RecordRefund -> Succeeded
 *        |            ^    | | |
 *        |            |    | | `--failed--> MarkRefundFailed -> RefundFailed (Fail)
 *        |            |    | `--pending, no look left--> LeftToReconciler (Succeed)
 *        |            |    `--pending--> WaitForProviderRefund -> CheckRefund --.
 *        |            `-----------------------------------------------------------'
 *        `--Catch(ProviderRejected)--> MarkRefundFailed
 *
 * SubmitRefund refunds at the provider under the refund_no as idempotency key, so a retry,
 * a resumed execution or a duplicate one gives one provider refund. The steps put the
 * provider refund's meaning for ours in `$.outcome`; a pending one is looked at again every
 * REFUND_CHECK_INTERVAL_SECONDS, REFUND_CHECKS times (`$.checks_left`), and then left to the
 * reconciler, still `pending`. A refusal or a failed provider refund fails the refund and
 * gives its amount back to the payment.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RefundStepName } from '../functions/catalog.ts';
import { RefundTerminalErrorNames } from '../functions/domain/errors.ts';
import { RefundStatus } from '../functions/domain/refund.ts';
import { REFUND_CHECK_INTERVAL_SECONDS } from '../functions/domain/refund-saga.ts';
import { SAGA_ERROR_PATH, chainOf, retryingTask, sagaStateMachine } from './payment-saga.ts';

export interface RefundSagaProps {
  readonly steps: Readonly<Record<RefundStepName, lambda.Function>>;
}

export class RefundSaga extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RefundSagaProps) {
    super(scope, id);
    const task = (name: RefundStepName) => retryingTask(this, name, props.steps[name]);

    const failed = chainOf(
      [task('MarkRefundFailed')],
      new sfn.Fail(this, 'RefundFailed', { error: 'RefundFailed', cause: 'The provider refused or failed the refund.' }),
    );
    const recorded = chainOf([task('RecordRefund')], new sfn.Succeed(this, 'Succeeded'));
    const settled = new sfn.Choice(this, 'RefundSettled');
    const checkAgain = chainOf(
      [new sfn.Wait(this, 'WaitForProviderRefund', { time: sfn.WaitTime.duration(Duration.seconds(REFUND_CHECK_INTERVAL_SECONDS)) })],
      task('CheckRefund'),
    ).next(settled);
    settled
      .when(sfn.Condition.stringEquals('$.outcome', RefundStatus.Succeeded), recorded)
      .when(sfn.Condition.stringEquals('$.outcome', RefundStatus.Failed), failed)
      .when(sfn.Condition.numberGreaterThan('$.checks_left', 0), checkAgain)
      .otherwise(
        new sfn.Succeed(this, 'LeftToReconciler', { comment: 'The provider still holds the refund pending.' }),
      );

    const chain = task('SubmitRefund')
      .addCatch(failed, { errors: [...RefundTerminalErrorNames], resultPath: SAGA_ERROR_PATH })
      .next(settled);

    this.stateMachine = sagaStateMachine(this, chain);
  }
}
