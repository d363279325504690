import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { LambdaFunctions } from './lambda-functions.ts';
import { PaymentSaga } from './payment-saga.ts';
import { PaymentsApi } from './payments-api.ts';
import { PaymentsTable } from './payments-table.ts';
import { ReconcileSchedule } from './reconcile-schedule.ts';

/**
 * Chargeonce: the payments table, one function per catalog entry, the payment saga, the
 * REST API in front of it and the reconciler's schedule.
 */
export class ChargeonceStack extends Stack {
  readonly table: PaymentsTable;
  readonly functions: LambdaFunctions;
  readonly saga: PaymentSaga;
  readonly api: PaymentsApi;
  readonly schedule: ReconcileSchedule;
  readonly stripeSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.table = new PaymentsTable(this, 'Payments');
    const { table } = this.table;

    const stripeSecret = new secretsmanager.Secret(this, 'StripeSecretKey', {
      description:
        'Chargeonce: put the Stripe TEST secret key (sk_test_...) here as the plain secret string.',
    });

    this.stripeSecret = stripeSecret;

    const functions = new LambdaFunctions(this, 'Functions', { table, stripeSecret });
    this.functions = functions;
    this.saga = new PaymentSaga(this, 'PaymentSaga', { steps: functions.sagaSteps });
    const { stateMachine } = this.saga;
    functions.allowSaga(stateMachine);

    const api = new PaymentsApi(this, 'PaymentsApi', {
      routes: functions.routes,
      authorizer: functions.authorizer,
    });
    this.api = api;
    this.schedule = new ReconcileSchedule(this, 'ReconcileSchedule', {
      reconciler: functions.reconciler,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: api.url,
      description: 'Stage base URL without a trailing slash; append /v1/payments and so on.',
    });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: stateMachine.stateMachineArn });
    new CfnOutput(this, 'StripeSecretArn', { value: stripeSecret.secretArn });
  }
}
