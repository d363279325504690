import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  apiRoutes,
  catalogFunctions,
  payoutSteps,
  providerPayoutSteps,
  providerRefundSteps,
  providerSteps,
  refundSteps,
  sagaSteps,
  webhookSteps,
  type ApiRoute,
  type PayoutStepName,
  type RefundStepName,
  type SagaKind,
  type SagaStepName,
  type WebhookStepName,
} from '../functions/catalog.ts';
import {
  DEFAULT_RECONCILE_AFTER_SECONDS,
  EnvVar,
  STEP_AWS_CALL_BUDGET,
  awsCallBudgetEnvironment,
} from '../functions/config/env.ts';
import { BY_DUE_INDEX_NAME } from './payments-table.ts';
import { BY_MERCHANT_INDEX } from '../functions/adapters/dynamodb/table.ts';
import { FunctionBundles } from './function-bundles.ts';
import { acknowledge, acknowledgeWildcardResource } from './nag.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/config/metrics.ts';

/**
 * Every function's timeout. The provider client gives up after 8 s (`DEFAULT_TIMEOUT_MS`), and a
 * step's DynamoDB calls within their budget (`STEP_AWS_CALL_BUDGET`): 15 s leaves room for both,
 * so a hung dependency fails a step by name rather than by Lambda killing it.
 */
export const FUNCTION_TIMEOUT = Duration.seconds(15);

type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'ConditionCheckItem' | 'Query';

/** What a transaction over several items needs: each of its parts is authorized as its own action. */
const TRANSACTION_WRITES: TableAction[] = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'];
/** The saga steps that write over the payment as the step before them read it (functions/domain/saga.ts). */
const presumingSteps: readonly SagaStepName[] = ['RecordAuthorization', 'MarkSucceeded'];

/**
 * What an API route may do to the table, by HTTP method, so that a new route gets the
 * rights of its kind without naming it a second time: reads read (a payment with its refunds
 * in one transaction, which GetItem allows; a class's seats or an account's swimmers by
 * Query on their partition); a POST or DELETE writes its records in transactions (a hold, a
 * checkout) and its idempotency key (claimed, updated with the answer, deleted when freed).
 */
const routeAccess: Record<ApiRoute['method'], TableAction[]> = {
  GET: ['GetItem', 'Query'],
  POST: TRANSACTION_WRITES,
  DELETE: TRANSACTION_WRITES,
};

/**
 * The write routes that also query one partition: a checkout that gives a registered seat back
 * reads the account's purchases, to pay the seat back to the card that paid it.
 */
const QUERYING_WRITE_ROUTES: readonly string[] = ['Checkout', 'RedeliverEvent'];

/**
 * What each payout step does to the table: SubmitPayout only reads the payout; CheckPayout
 * puts it (its provider id and status while it travels); the final steps put it with its
 * posting (journal and balance transaction put, the balance updated) in one transaction.
 */
const PAYOUT_STEP_ACCESS: Readonly<Record<PayoutStepName, readonly TableAction[]>> = {
  SubmitPayout: ['GetItem'],
  CheckPayout: ['GetItem', 'PutItem'],
  RecordPayoutPaid: ['GetItem', 'PutItem', 'UpdateItem'],
  MarkPayoutFailed: ['GetItem', 'PutItem', 'UpdateItem'],
};

/**
 * What each webhook step does to the table: an attempt reads the event and its endpoint, and
 * puts its record and the delivery's outcome; a give-up puts the outcome.
 */
const WEBHOOK_STEP_ACCESS: Readonly<Record<WebhookStepName, readonly TableAction[]>> = {
  DeliverWebhook: ['GetItem', 'PutItem'],
  GiveUpWebhook: ['PutItem'],
};

/** Where a function that starts a saga finds its state machine. */
const SAGA_ARN_VARIABLES: Record<SagaKind, EnvVar> = {
  payment: EnvVar.StateMachineArn,
  refund: EnvVar.RefundStateMachineArn,
  payout: EnvVar.PayoutStateMachineArn,
};

export interface LambdaFunctionsProps {
  readonly table: dynamodb.ITable;
  /** Holds the Stripe secret key; read by the saga steps that call the provider. */
  readonly stripeSecret: secretsmanager.ISecret;
  /**
   * A Stripe-compatible API for the provider steps instead of Stripe's own (e.g. the fake
   * provider, for a LocalStack deployment). Unset: Stripe.
   */
  readonly stripeApiBase?: string;
}

/** An API route of the catalog with the function that serves it. */
export interface RouteFunction {
  readonly route: ApiRoute;
  readonly fn: lambda.Function;
}

/**
 * One `lambda.Function` per entry of `functions/catalog.ts` (its bundle from
 * lib/function-bundles.ts), each with its own log group and exactly the table actions it uses
 * (no `grantReadWriteData`: a step that only reads and puts has no business scanning or deleting).
 */
export class LambdaFunctions extends Construct {
  /** The saga's Task functions, keyed by state name. */
  readonly sagaSteps: Readonly<Record<SagaStepName, lambda.Function>>;
  /** The refund saga's Task functions, keyed by state name. */
  readonly refundSteps: Readonly<Record<RefundStepName, lambda.Function>>;
  /** The payout saga's Task functions, keyed by state name. */
  readonly payoutSteps: Readonly<Record<PayoutStepName, lambda.Function>>;
  /** The API's functions, in catalog order. */
  readonly routes: readonly RouteFunction[];
  readonly authorizer: lambda.Function;
  readonly reconciler: lambda.Function;
  /** Posts the ledger from the table's stream (lib/ledger-stream.ts wires the stream to it). */
  readonly ledgerPoster: lambda.Function;
  /** Writes the settlement statements of the days that ended (lib/function-schedule.ts runs it hourly). */
  readonly settleDay: lambda.Function;
  /** The webhook delivery's Task functions, keyed by state name. */
  readonly webhookSteps: Readonly<Record<WebhookStepName, lambda.Function>>;
  /** Writes events from the table's stream and starts their deliveries (lib/webhook-delivery.ts wires both). */
  readonly eventPublisher: lambda.Function;

  private readonly table: dynamodb.ITable;
  private readonly bundles = new FunctionBundles(catalogFunctions());

  constructor(scope: Construct, id: string, props: LambdaFunctionsProps) {
    super(scope, id);
    this.table = props.table;

    const steps = {} as Record<SagaStepName, lambda.Function>;
    for (const name of Object.keys(sagaSteps) as SagaStepName[]) {
      const fn = this.createFunction(name);
      this.withStepBudget(fn);
      // Settling a cart moves seats, points and the purchase in transactions; RecordAuthorization
      // and MarkSucceeded update the payment over the version the step before read, without reading it.
      const actions: TableAction[] =
        name === 'SettleCart' ? TRANSACTION_WRITES : presumingSteps.includes(name) ? ['GetItem', 'PutItem', 'UpdateItem'] : ['GetItem', 'PutItem'];
      this.allowTable(fn, actions);
      if (providerSteps.includes(name)) this.allowProvider(fn, props);
      steps[name] = fn;
    }
    this.sagaSteps = steps;

    const refund = {} as Record<RefundStepName, lambda.Function>;
    for (const name of Object.keys(refundSteps) as RefundStepName[]) {
      const fn = this.createFunction(name);
      this.withStepBudget(fn);
      // A refund's write moves its payment's refunded total in the same transaction.
      this.allowTable(fn, ['GetItem', 'PutItem', 'UpdateItem']);
      if (providerRefundSteps.includes(name)) this.allowProvider(fn, props);
      refund[name] = fn;
    }
    this.refundSteps = refund;

    const payout = {} as Record<PayoutStepName, lambda.Function>;
    for (const name of Object.keys(payoutSteps) as PayoutStepName[]) {
      const fn = this.createFunction(name);
      this.withStepBudget(fn);
      this.allowTable(fn, PAYOUT_STEP_ACCESS[name]);
      if (providerPayoutSteps.includes(name)) this.allowProvider(fn, props);
      payout[name] = fn;
    }
    this.payoutSteps = payout;

    this.routes = apiRoutes.map((route) => {
      const fn = this.createFunction(route.id);
      // A public route serves what its bundle holds: no table of merchants' records for it.
      if (route.public) return { route, fn };
      const access = routeAccess[route.method];
      this.allowTable(fn, QUERYING_WRITE_ROUTES.includes(route.id) ? [...access, 'Query'] : access);
      if (route.lists) this.allowIndexQuery(fn, BY_MERCHANT_INDEX);
      return { route, fn };
    });

    this.authorizer = this.createFunction('Authorizer');
    this.allowTable(this.authorizer, ['GetItem']);

    this.reconciler = this.createFunction('Reconciler');
    this.withStepBudget(this.reconciler);
    // Payments are put whole; carts and seats move in transactions.
    this.allowTable(this.reconciler, TRANSACTION_WRITES);
    // It voids authorizations no payment owns and settles those about to lapse.
    this.allowProvider(this.reconciler, props);
    this.allowIndexQuery(this.reconciler, BY_DUE_INDEX_NAME);

    this.ledgerPoster = this.createFunction('LedgerPoster');
    this.withStepBudget(this.ledgerPoster);
    // It reads the merchant's fees and a refund's charge, and writes a posting as one transaction
    // of puts (journal, balance transactions) and an update (the balance).
    this.allowTable(this.ledgerPoster, ['GetItem', 'PutItem', 'UpdateItem']);

    this.settleDay = this.createFunction('SettleDay');
    this.withStepBudget(this.settleDay);
    // It reads merchants' settings, puts each statement once and moves the merchant's place in
    // the registry; it queries the registry, the day's balance transactions and, through its
    // index, the day's journal.
    // A statement's pages of lines are each put on the condition that it is not written yet.
    this.allowTable(this.settleDay, ['GetItem', 'PutItem', 'UpdateItem', 'ConditionCheckItem']);
    this.allowIndexQuery(this.settleDay, BY_MERCHANT_INDEX);
    // It lists the provider's balance transactions of each day (a read; it moves no money).
    this.allowProvider(this.settleDay, props);

    const webhook = {} as Record<WebhookStepName, lambda.Function>;
    for (const name of Object.keys(webhookSteps) as WebhookStepName[]) {
      const fn = this.createFunction(name);
      this.withStepBudget(fn);
      this.allowTable(fn, WEBHOOK_STEP_ACCESS[name]);
      webhook[name] = fn;
    }
    this.webhookSteps = webhook;

    this.eventPublisher = this.createFunction('EventPublisher');
    this.withStepBudget(this.eventPublisher);
    // It puts each event once and queries its merchant's endpoints.
    this.allowTable(this.eventPublisher, ['PutItem', 'Query']);
  }

  /** Every function, in groups of one kind, by a title for the dashboard (lib/dashboard.ts). */
  get groups(): Readonly<Record<string, readonly lambda.Function[]>> {
    return {
      'API routes and authorizer': [...this.routes.map(({ fn }) => fn), this.authorizer],
      'Payment saga': Object.values(this.sagaSteps),
      'Refund saga': Object.values(this.refundSteps),
      'Payout saga': Object.values(this.payoutSteps),
      'Events and webhooks': [this.eventPublisher, ...Object.values(this.webhookSteps)],
      'Reconciler, ledger, settlement': [this.reconciler, this.ledgerPoster, this.settleDay],
    };
  }

  /** Gives the publisher and the routes that redeliver the delivery state machine, to start executions of. */
  allowDeliveries(stateMachine: sfn.StateMachine): void {
    const starters = [...this.routes.filter(({ route }) => route.delivers).map((r) => r.fn), this.eventPublisher];
    for (const fn of starters) {
      stateMachine.grantStartExecution(fn);
      fn.addEnvironment(EnvVar.WebhookStateMachineArn, stateMachine.stateMachineArn);
    }
  }

  /**
   * Gives the routes that start this saga and the reconciler its ARN: both may start
   * executions; the reconciler also reads their status.
   */
  allowSaga(stateMachine: sfn.StateMachine, saga: SagaKind): void {
    const starters = [...this.routes.filter(({ route }) => route.starts?.includes(saga)).map((r) => r.fn), this.reconciler];
    const arnVariable = SAGA_ARN_VARIABLES[saga];
    for (const fn of starters) {
      stateMachine.grantStartExecution(fn);
      fn.addEnvironment(arnVariable, stateMachine.stateMachineArn);
    }
    // Executions are named at run time (after the payment or refund), so only a wildcard
    // under this state machine's name can name them.
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.reconciler.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }));
    acknowledgeWildcardResource(
      roleOf(this.reconciler),
      executions,
      "The reconciler reads the status of this state machine's executions, whose names (payment_no, refund_no) are made at run time.",
    );
  }

  /** No client waits on it: its AWS calls get the step's budget instead of a route's (see STEP_AWS_CALL_BUDGET). */
  private withStepBudget(fn: lambda.Function): void {
    for (const [name, value] of Object.entries(awsCallBudgetEnvironment(STEP_AWS_CALL_BUDGET))) fn.addEnvironment(name, value);
  }

  /** The Stripe secret, for the functions that call the provider and no others. */
  private allowProvider(fn: lambda.Function, props: LambdaFunctionsProps): void {
    props.stripeSecret.grantRead(fn);
    fn.addEnvironment(EnvVar.StripeSecretArn, props.stripeSecret.secretArn);
    if (props.stripeApiBase !== undefined) fn.addEnvironment(EnvVar.StripeApiBase, props.stripeApiBase);
  }

  private createFunction(id: string): lambda.Function {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
    });
    // Lambda's default role carries AWSLambdaBasicExecutionRole, which may create and write
    // any log group of the account: this one writes to the function's own only.
    const role = new iam.Role(this, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    const fn = new lambda.Function(this, id, {
      code: this.bundles.code(id),
      handler: 'index.handler',
      // The Node the local stack and the tests run (the `node` devDependency): see L1 below.
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: FUNCTION_TIMEOUT,
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        [EnvVar.TableName]: this.table.tableName,
        // Read where a payment's due time is set (create, saga steps) and where it is
        // checked (reconciler): one value for all.
        [EnvVar.ReconcileAfterSeconds]: String(DEFAULT_RECONCILE_AFTER_SECONDS),
        // Tags this stack's charges: stacks sharing a Stripe account never void each other's.
        [EnvVar.DeploymentId]: `${Stack.of(this).stackName}.${Stack.of(this).region}`,
      },
    });
    acknowledge(
      fn,
      'L1',
      'nodejs22.x (deprecated by Lambda on 30 April 2027) is the Node the local stack, the tests and the bench run; ' +
        'moving to nodejs24.x is one change with the `node` devDependency, so that what is tested is what runs.',
    );
    acknowledgeWildcardResource(
      role,
      '*',
      "Active tracing: X-Ray's PutTraceSegments and PutTelemetryRecords take no resource but * (test/infra/nag.test.ts holds * to those actions).",
    );
    return fn;
  }

  private allowIndexQuery(fn: lambda.Function, indexName: string): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [this.table.tableArn, `${this.table.tableArn}/index/${indexName}`] }),
    );
  }

  private allowTable(fn: lambda.Function, actions: readonly TableAction[]): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: actions.map((action) => `dynamodb:${action}`),
        resources: [this.table.tableArn],
      }),
    );
  }
}

/** A function's execution role, which holds its policies (and so cdk-nag's findings on them). */
function roleOf(fn: lambda.Function): iam.IRole {
  if (fn.role === undefined) throw new Error(`${fn.node.path} has no role`);
  return fn.role;
}
