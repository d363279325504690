import type { IRole } from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  apiRoutes,
  payoutSteps,
  providerPayoutSteps,
  providerRefundSteps,
  providerSteps,
  refundSteps,
  sagaSteps,
  webhookSteps,
  type PayoutStepName,
  type RefundStepName,
  type SagaStepName,
} from '../../functions/catalog.ts';
import { DEFAULT_TIMEOUT_MS as PROVIDER_TIMEOUT_MS } from '../../functions/adapters/stripe/client.ts';
import { EnvVar, STEP_AWS_CALL_BUDGET, awsCallBudgetEnvironment, worstCaseCallMs } from '../../functions/config/env.ts';
import { BY_DUE_INDEX_NAME } from '../../lib/payments-table.ts';
import { BY_MERCHANT_INDEX } from '../../functions/adapters/dynamodb/table.ts';
import {
  actionsOf,
  logicalIdOf,
  statementsOfRole,
  synthesize,
  TEST_ACCOUNT,
  TEST_REGION,
  type Statement,
  type Synthesized,
} from './synth.ts';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});

/** Every function of the stack with the catalog name it was built from. */
function namedFunctions(): [string, lambda.Function][] {
  const { functions } = synth.stack;
  return [
    ...(Object.entries(functions.sagaSteps) as [string, lambda.Function][]),
    ...(Object.entries(functions.refundSteps) as [string, lambda.Function][]),
    ...(Object.entries(functions.payoutSteps) as [string, lambda.Function][]),
    ...functions.routes.map(({ route, fn }): [string, lambda.Function] => [route.id, fn]),
    ['Authorizer', functions.authorizer],
    ['Reconciler', functions.reconciler],
    ['LedgerPoster', functions.ledgerPoster],
    ['SettleDay', functions.settleDay],
    ...(Object.entries(functions.webhookSteps) as [string, lambda.Function][]),
    ['EventPublisher', functions.eventPublisher],
  ];
}

function roleOf(fn: lambda.Function): IRole {
  if (fn.role === undefined) throw new Error(`${fn.node.path} has no role`);
  return fn.role;
}

function statementsOf(fn: lambda.Function): Statement[] {
  return statementsOfRole(synth.template, logicalIdOf(roleOf(fn)));
}

function environmentOf(fn: lambda.Function): Record<string, unknown> {
  const properties = synth.template.toJSON().Resources[logicalIdOf(fn)].Properties;
  return properties.Environment.Variables as Record<string, unknown>;
}

/** What a transaction over several items needs: each of its parts is authorized as its own action. */
const TRANSACTION = ['dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

/** The stream actions, which a stream consumer's event source mapping takes on the table's stream (ListStreams: on `*` only). */
const STREAM_ACTIONS_OF_CONSUMERS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];
const STREAM_CONSUMERS = ['LedgerPoster', 'EventPublisher'];

/** The DynamoDB rights each function needs: what it reads and writes, nothing more. */
const expectedTableActions: Record<string, string[]> = {
  ...Object.fromEntries(Object.keys(sagaSteps).map((step) => [step, ['dynamodb:GetItem', 'dynamodb:PutItem']])),
  // Settling a cart moves seats, points and the purchase in transactions.
  SettleCart: TRANSACTION,
  // These update the payment over the version the step before read, without reading it.
  RecordAuthorization: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  MarkSucceeded: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  // A refund's writes move its payment's totals in the same transaction.
  ...Object.fromEntries(
    Object.keys(refundSteps).map((step) => [step, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']]),
  ),
  // SubmitPayout reads; CheckPayout puts the travelling payout; the final steps put it with its posting (the balance updated).
  SubmitPayout: ['dynamodb:GetItem'],
  CheckPayout: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  RecordPayoutPaid: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  MarkPayoutFailed: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  // Writes also claim, complete and free their idempotency key, and move carts and seats in
  // transactions; reads read one item (a payment with its refunds in one TransactGetItems) or
  // query one partition (a class's seats, an account's swimmers or purchases).
  ...Object.fromEntries(
    apiRoutes.map((route) => [route.id, route.method === 'GET' ? ['dynamodb:GetItem', 'dynamodb:Query'] : TRANSACTION]),
  ),
  // The contract is a document in its bundle: no table at all.
  GetOpenApi: [],
  // Giving a registered seat back, it reads the account's purchases to find the card that paid it.
  Checkout: [...TRANSACTION, 'dynamodb:Query'].sort(),
  // It queries the merchant's endpoints to start a delivery to each.
  RedeliverEvent: [...TRANSACTION, 'dynamodb:Query'].sort(),
  Authorizer: ['dynamodb:GetItem'],
  Reconciler: [...TRANSACTION, 'dynamodb:Query'].sort(),
  // Its posting's puts and update, the reads it decides from, and the stream its event source
  // mapping reads as its role (lib/ledger-stream.ts).
  LedgerPoster: [
    'dynamodb:DescribeStream',
    'dynamodb:GetItem',
    'dynamodb:GetRecords',
    'dynamodb:GetShardIterator',
    'dynamodb:ListStreams',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
  ],
  // Each statement put once, the merchant's place in the registry updated, its settings read;
  // the registry, a day's balance transactions and (through its index) a day's journal queried.
  // Its lines' pages each put in a transaction that checks the statement is not written yet.
  SettleDay: ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  // An attempt reads the event and its endpoint and puts its record and the outcome; a give-up puts the outcome.
  DeliverWebhook: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  GiveUpWebhook: ['dynamodb:PutItem'],
  // Each event put once, the merchant's endpoints queried, and the stream read as the poster reads it.
  EventPublisher: [...STREAM_ACTIONS_OF_CONSUMERS, 'dynamodb:PutItem', 'dynamodb:Query'].sort(),
};


describe('Lambda functions', () => {
  it('deploys one function per saga step, webhook step, API route, the authorizer, the reconciler, the ledger poster, the settlement and the event publisher', () => {
    // Prepare
    const expected =
      Object.keys(sagaSteps).length + Object.keys(refundSteps).length + Object.keys(payoutSteps).length + Object.keys(webhookSteps).length + apiRoutes.length + 5;

    // Act
    const functions = synth.template.findResources('AWS::Lambda::Function');

    // Assess
    expect(Object.keys(functions)).toHaveLength(expected);
    expect(namedFunctions().map(([name]) => name).sort()).toEqual(Object.keys(expectedTableActions).sort());
  });

  it('runs every function on nodejs22.x, arm64, 256 MB, 15 s, traced, with its own month-long log group', () => {
    // Prepare
    const template = synth.template;

    // Act
    const functions = template.findResources('AWS::Lambda::Function');
    const logGroups = template.findResources('AWS::Logs::LogGroup');

    // Assess
    for (const [id, fn] of Object.entries(functions)) {
      expect(fn.Properties, id).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 15,
        TracingConfig: { Mode: 'Active' },
        Handler: 'index.handler',
      });
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(logGroups[logGroupId]?.Properties.RetentionInDays, id).toBe(30);
    }
    const logGroupIds = Object.values(functions).map((fn) => fn.Properties.LoggingConfig.LogGroup.Ref);
    expect(new Set(logGroupIds).size).toBe(Object.keys(functions).length);
  });

  it('lets each function write to its own log group only, without a managed policy', () => {
    for (const [name, fn] of namedFunctions()) {
      // Prepare
      const logGroupId = synth.template.toJSON().Resources[logicalIdOf(fn)].Properties.LoggingConfig.LogGroup.Ref as string;
      const role = synth.template.toJSON().Resources[logicalIdOf(roleOf(fn))];

      // Act
      const statements = statementsOf(fn);

      // Assess
      expect(role.Properties.ManagedPolicyArns, name).toBeUndefined();
      expect(actionsOf(statements, 'logs'), name).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(statements.filter((s) => s.Action.some((a) => a.startsWith('logs:'))).flatMap((s) => s.Resource), name).toEqual([
        { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      ]);
    }
  });

  it('gives every function the table name, the reconcile delay and the Powertools settings', () => {
    for (const [name, fn] of namedFunctions()) {
      // Act
      const environment = environmentOf(fn);

      // Assess
      expect(environment, name).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'chargeonce',
        POWERTOOLS_METRICS_NAMESPACE: 'Chargeonce',
        NODE_OPTIONS: '--enable-source-maps',
        [EnvVar.TableName]: { Ref: logicalIdOf(synth.stack.table.table) },
        [EnvVar.ReconcileAfterSeconds]: '300',
      });
    }
  });

  it('never gives a function the crash switches (CRASH_AT, CRASH_AUDIT), which only tests set', () => {
    // Prepare: the same check on a template given one, to see it can fail.
    const template = synth.template.toJSON() as { Resources: Record<string, { Type: string; Properties: any }> };
    const mutated = structuredClone(template);
    const [someFunction] = Object.values(mutated.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    someFunction!.Properties.Environment.Variables[EnvVar.CrashAudit] = '1';

    // Act
    const switched = (t: typeof template) =>
      Object.entries(t.Resources)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .filter(([, r]) => [EnvVar.CrashAt, EnvVar.CrashAudit].some((name) => name in (r.Properties.Environment?.Variables ?? {})))
        .map(([id]) => id);

    // Assess
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').length).toBeGreaterThan(0);
    expect(switched(template)).toEqual([]);
    expect(switched(mutated)).toHaveLength(1);
  });

  it('gives the saga steps and the reconciler the step’s AWS call budget, and the routes and authorizer the route’s default', () => {
    // Prepare
    const budgetVariables = Object.keys(awsCallBudgetEnvironment(STEP_AWS_CALL_BUDGET));
    const waitedOn = new Set([...apiRoutes.map((route) => route.id), 'Authorizer']);

    for (const [name, fn] of namedFunctions()) {
      // Act
      const environment = environmentOf(fn);

      // Assess
      if (waitedOn.has(name)) {
        expect(budgetVariables.filter((variable) => variable in environment), name).toEqual([]);
      } else {
        expect(environment, name).toMatchObject(awsCallBudgetEnvironment(STEP_AWS_CALL_BUDGET));
      }
    }
  });

  it('fits a provider call and a DynamoDB call at their longest, with a second to spare, in every function’s timeout', () => {
    // Act
    const timeouts = Object.values(synth.template.findResources('AWS::Lambda::Function')).map((fn) => fn.Properties.Timeout);

    // Assess: a hung dependency fails the step by name (retried), never by Lambda killing it.
    for (const timeout of timeouts) {
      expect(PROVIDER_TIMEOUT_MS + worstCaseCallMs(STEP_AWS_CALL_BUDGET) + 1000).toBeLessThanOrEqual(timeout * 1000);
    }
  });

  const listRoutes = apiRoutes.filter((route) => route.lists).map((route) => route.id);

  it('grants each function exactly the DynamoDB actions it uses, on the table only', () => {
    const tableArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack.table.table), 'Arn'] };
    const merchantsIndexArn = { 'Fn::Join': ['', [tableArn, `/index/${BY_MERCHANT_INDEX}`]] };
    for (const [name, fn] of namedFunctions()) {
      // Act
      const statements = statementsOf(fn);
      const dynamo = statements.filter((s) => s.Action.some((a) => a.startsWith('dynamodb:')));

      // Assess
      expect(actionsOf(statements, 'dynamodb'), name).toEqual(expectedTableActions[name]);
      for (const statement of dynamo) {
        expect(statement.Action.filter((a) => a.includes('*') || a === 'dynamodb:Scan'), name).toEqual([]);
        const others = statement.Resource.filter((r) => JSON.stringify(r) !== JSON.stringify(tableArn));
        const onStream = statement.Action.filter((action) => action.startsWith('dynamodb:')).every((action) => STREAM_ACTIONS_OF_CONSUMERS.includes(action));
        if (onStream) {
          // Only the stream's consumers read it: its records, on the stream's ARN; the list of streams (CDK merges it with X-Ray's writes), on * only.
          expect(STREAM_CONSUMERS).toContain(name);
          const streamArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack.table.table), 'StreamArn'] };
          expect(statement.Resource).toEqual(statement.Action.includes('dynamodb:ListStreams') ? ['*'] : [streamArn]);
        } else if (name === 'Reconciler' && statement.Action.includes('dynamodb:Query')) {
          // The reconciler queries the schedule's index only.
          expect(others).toEqual([{ 'Fn::Join': ['', [tableArn, `/index/${BY_DUE_INDEX_NAME}`]] }]);
        } else if ([...listRoutes, 'SettleDay'].includes(name) && statement.Action.includes('dynamodb:Query')) {
          // A list, and the settlement (a merchant's journal by time), query the merchants' index, and no other.
          expect(others.filter((r) => JSON.stringify(r) !== JSON.stringify(merchantsIndexArn)), name).toEqual([]);
        } else {
          expect(others, name).toEqual([]);
        }
      }
      const queriesMerchantsIndex = dynamo.some((s) => s.Resource.some((r) => JSON.stringify(r) === JSON.stringify(merchantsIndexArn)));
      expect(queriesMerchantsIndex, name).toBe([...listRoutes, 'SettleDay'].includes(name));
    }
  });

  it('lets only the provider steps, the reconciler and the settlement read the Stripe secret', () => {
    // Prepare
    const secretRef = { Ref: logicalIdOf(synth.stack.stripeSecret) };

    for (const [name, fn] of namedFunctions()) {
      // Act
      const statements = statementsOf(fn);
      const environment = environmentOf(fn);
      const callsProvider =
        providerSteps.includes(name as SagaStepName) ||
        providerRefundSteps.includes(name as RefundStepName) ||
        providerPayoutSteps.includes(name as PayoutStepName) ||
        name === 'Reconciler' ||
        // It lists the provider's balance transactions of each day it settles.
        name === 'SettleDay';

      // Assess
      if (callsProvider) {
        expect(actionsOf(statements, 'secretsmanager'), name).toEqual([
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
        ]);
        expect(statements.find((s) => s.Action.includes('secretsmanager:GetSecretValue'))?.Resource).toEqual([secretRef]);
        expect(environment[EnvVar.StripeSecretArn], name).toEqual(secretRef);
        // The tag that keeps the reconciler off other stacks' charges in a shared account.
        expect(environment[EnvVar.DeploymentId], name).toBeDefined();
      } else {
        expect(actionsOf(statements, 'secretsmanager'), name).toEqual([]);
        expect(environment[EnvVar.StripeSecretArn], name).toBeUndefined();
      }
    }
  });

  it.each([
    ['payment', ['CreatePayment', 'CapturePayment', 'CancelPayment', 'Checkout'], EnvVar.StateMachineArn],
    ['refund', ['CreateRefund', 'Checkout'], EnvVar.RefundStateMachineArn],
    ['payout', ['CreatePayout'], EnvVar.PayoutStateMachineArn],
  ] as const)('lets the routes that start the %s saga and the reconciler start it; only the reconciler reads executions', (saga, routes, arnVariable) => {
    // Prepare
    const machine = { payment: synth.stack.saga, refund: synth.stack.refundSaga, payout: synth.stack.payoutSaga }[saga].stateMachine;
    const stateMachineRef = { Ref: logicalIdOf(machine) };
    const starters: string[] = [...routes, 'Reconciler'];

    for (const [name, fn] of namedFunctions()) {
      // Act
      const statements = statementsOf(fn);
      const environment = environmentOf(fn);

      // Assess
      const expected =
        name === 'Reconciler'
          ? ['states:DescribeExecution', 'states:StartExecution']
          : // The last two start webhook deliveries (test/infra/webhook-delivery.test.ts).
            ['CreatePayment', 'CapturePayment', 'CancelPayment', 'CreateRefund', 'Checkout', 'CreatePayout', 'RedeliverEvent', 'EventPublisher'].includes(name)
            ? ['states:StartExecution']
            : [];
      expect(actionsOf(statements, 'states'), name).toEqual(expected);
      if (starters.includes(name)) {
        expect(environment[arnVariable], name).toEqual(stateMachineRef);
        const starts = statements.filter((s) => s.Action.includes('states:StartExecution')).flatMap((s) => s.Resource);
        expect(starts, name).toContainEqual(stateMachineRef);
      } else {
        expect(environment[arnVariable], name).toBeUndefined();
      }
    }
  });

  it("scopes the reconciler's DescribeExecution to this state machine's executions", () => {
    // Act
    const statements = statementsOf(synth.stack.functions.reconciler);
    const described = statements
      .filter((s) => s.Action.includes('states:DescribeExecution'))
      .flatMap((s) => s.Resource);

    // Assess
    expect(described).toContainEqual({
      'Fn::Join': [
        '',
        [
          `arn:aws:states:${TEST_REGION}:${TEST_ACCOUNT}:execution:`,
          { 'Fn::GetAtt': [logicalIdOf(synth.stack.saga.stateMachine), 'Name'] },
          ':*',
        ],
      ],
    });
    expect(described).toHaveLength(3);
  });
});
