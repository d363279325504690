/**
 * The refund saga, one Lambda Task per step (state names are the catalog's `refundSteps` keys):
 *
 *   SubmitRefund -> RecordRefund -> Succeeded
 *        \___ Catch(RefundDeclined, ProviderRejected) -> MarkRefundFailed -> RefundFailed (Fail)
 *
 * SubmitRefund refunds at the provider under the refund_no as idempotency key, so a retry,
 * a resumed execution or a duplicate one gives one provider refund. A refusal fails the
 * refund and gives its amount back to the payment.
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RefundStepName } from '../functions/catalog.ts';
import { RefundTerminalErrorNames } from '../functions/domain/errors.ts';
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
      new sfn.Fail(this, 'RefundFailed', { error: 'RefundFailed', cause: 'The provider refused the refund.' }),
    );
    const chain = chainOf(
      [task('SubmitRefund').addCatch(failed, { errors: [...RefundTerminalErrorNames], resultPath: SAGA_ERROR_PATH }), task('RecordRefund')],
      new sfn.Succeed(this, 'Succeeded'),
    );

    this.stateMachine = sagaStateMachine(this, chain);
  }
}
