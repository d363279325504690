import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { OperationsDashboard } from './dashboard.ts';
import { LambdaFunctions } from './lambda-functions.ts';
import { LedgerStream } from './ledger-stream.ts';
import { acknowledge } from './nag.ts';
import { PaymentAlarms } from './payment-alarms.ts';
import { PaymentSaga } from './payment-saga.ts';
import { PaymentsApi } from './payments-api.ts';
import { PaymentsTable } from './payments-table.ts';
import { PayoutSaga } from './payout-saga.ts';
import { FunctionSchedule } from './function-schedule.ts';
import { RefundSaga } from './refund-saga.ts';
import { WebhookDelivery } from './webhook-delivery.ts';

/**
 * The CDK context key (`cdk deploy -c stripeApiBase=http://host.docker.internal:12111`) that
 * points the provider steps at a Stripe-compatible API other than Stripe's own, such as the
 * fake provider when the stack runs in LocalStack. Unset (the default): Stripe itself.
 */
export const STRIPE_API_BASE_CONTEXT = 'stripeApiBase';

/**
 * Chargeonce: the payments table, one function per catalog entry, the payment saga, the
 * REST API in front of it, the reconciler's schedule, and the alarms and dashboard that watch them.
 */
export class ChargeonceStack extends Stack {
  readonly table: PaymentsTable;
  readonly functions: LambdaFunctions;
  readonly saga: PaymentSaga;
  readonly api: PaymentsApi;
  readonly schedule: FunctionSchedule;
  readonly stripeSecret: secretsmanager.Secret;
  readonly alarms: PaymentAlarms;
  readonly refundSaga: RefundSaga;
  readonly payoutSaga: PayoutSaga;
  readonly ledgerStream: LedgerStream;
  readonly settlementSchedule: FunctionSchedule;
  readonly webhooks: WebhookDelivery;
  readonly dashboard: OperationsDashboard;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.table = new PaymentsTable(this, 'Payments');
    const { table } = this.table;

    const stripeSecret = new secretsmanager.Secret(this, 'StripeSecretKey', {
      description:
        'Chargeonce: put the Stripe TEST secret key (sk_test_...) here as the plain secret string.',
    });

    acknowledge(
      stripeSecret,
      'SMG4',
      "Stripe's secret keys are rolled in Stripe's Dashboard, not through an API a rotation function could call: " +
        'roll the key there, then put the new one here (README, Deploying).',
    );
    this.stripeSecret = stripeSecret;

    const functions = new LambdaFunctions(this, 'Functions', {
      table,
      stripeSecret,
      stripeApiBase: stripeApiBaseFromContext(this),
    });
    this.functions = functions;
    this.saga = new PaymentSaga(this, 'PaymentSaga', { steps: functions.sagaSteps });
    const { stateMachine } = this.saga;
    functions.allowSaga(stateMachine, 'payment');
    this.refundSaga = new RefundSaga(this, 'RefundSaga', { steps: functions.refundSteps });
    functions.allowSaga(this.refundSaga.stateMachine, 'refund');
    this.payoutSaga = new PayoutSaga(this, 'PayoutSaga', { steps: functions.payoutSteps });
    functions.allowSaga(this.payoutSaga.stateMachine, 'payout');

    const api = new PaymentsApi(this, 'PaymentsApi', {
      routes: functions.routes,
      authorizer: functions.authorizer,
    });
    this.api = api;
    this.schedule = new FunctionSchedule(this, 'ReconcileSchedule', {
      fn: functions.reconciler,
      every: Duration.minutes(1),
      description: 'Finds unfinished payments and drives them to a terminal status.',
    });
    this.settlementSchedule = new FunctionSchedule(this, 'SettlementSchedule', {
      fn: functions.settleDay,
      every: Duration.hours(1),
      description: 'Writes the settlement statements of every merchant whose day has ended.',
    });

    this.alarms = new PaymentAlarms(this, 'Alarms');
    this.ledgerStream = new LedgerStream(this, 'LedgerStream', {
      table,
      poster: functions.ledgerPoster,
      alarmTopic: this.alarms.topic,
    });

    this.webhooks = new WebhookDelivery(this, 'Webhooks', {
      table,
      publisher: functions.eventPublisher,
      steps: functions.webhookSteps,
      alarmTopic: this.alarms.topic,
    });
    functions.allowDeliveries(this.webhooks.stateMachine);

    this.dashboard = new OperationsDashboard(this, 'Operations', {
      api: api.api,
      stateMachines: {
        'Payment saga': stateMachine,
        'Refund saga': this.refundSaga.stateMachine,
        'Payout saga': this.payoutSaga.stateMachine,
        'Webhook delivery': this.webhooks.stateMachine,
      },
      functions: functions.groups,
      table,
      indexNames: this.table.indexNames,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: api.url,
      description: 'Stage base URL without a trailing slash; append /v1/payments and so on.',
    });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: stateMachine.stateMachineArn });
    new CfnOutput(this, 'RefundStateMachineArn', { value: this.refundSaga.stateMachine.stateMachineArn });
    new CfnOutput(this, 'PayoutStateMachineArn', { value: this.payoutSaga.stateMachine.stateMachineArn });
    new CfnOutput(this, 'WebhookStateMachineArn', { value: this.webhooks.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StripeSecretArn', { value: stripeSecret.secretArn });
    new CfnOutput(this, 'DashboardUrl', { value: this.dashboard.consoleUrl, description: 'The operations dashboard in the CloudWatch console.' });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarms.topic.topicArn,
      description: 'Subscribe to hear about payments the reconciler gave up on or that are stuck.',
    });
  }
}

/** The `stripeApiBase` context value, checked: an http(s) URL, or undefined when unset or empty. */
function stripeApiBaseFromContext(scope: Construct): string | undefined {
  const value: unknown = scope.node.tryGetContext(STRIPE_API_BASE_CONTEXT);
  if (value === undefined || value === '') return undefined;
  const protocol = typeof value === 'string' && URL.canParse(value) ? new URL(value).protocol : undefined;
  if (typeof value !== 'string' || (protocol !== 'http:' && protocol !== 'https:')) {
    throw new Error(
      `context ${STRIPE_API_BASE_CONTEXT} must be an http(s) URL such as http://host.docker.internal:12111, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
