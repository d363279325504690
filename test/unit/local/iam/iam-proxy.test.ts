/**
 * The IAM proxy with the real AWS SDK clients, signing as the synthesized template's roles, in
 * front of DynamoDB Local, the local Secrets Manager and a Step Functions stand-in that records
 * what reaches it.
 */
import { createServer, type Server } from 'node:http';
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, TransactGetItemsCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EnvVar } from '../../../../functions/config/env.ts';
import { localArnOf, resolveIntrinsics } from '../../../../local/assembly/intrinsics.ts';
import { startIamProxy, type Denial, type IamProxy } from '../../../../local/iam/iam-proxy.ts';
import { ensureTables, localClientConfig, startDynamoDbLocal, type DynamoDbLocal } from '../../../../local/services/dynamodb-local.ts';
import { startSecretsManagerLocal, type SecretsManagerLocal } from '../../../../local/services/secrets-manager-local.ts';
import type { CfnTemplate } from '../../../../local/assembly/intrinsics.ts';
import { synthesizeTemplate } from '../../../../local/assembly/synthesize.ts';
import { functionOf, idOf, roleOf, withoutGrant } from '../../../support/synthesized-template.ts';

const LOCAL_STRIPE_KEY = 'sk_test_iam_proxy_seeded';

/** What reached the Step Functions stand-in. */
interface Received {
  target: string;
  body: string;
  authorization: string;
}

let template: CfnTemplate;
let dynamo: DynamoDbLocal;
let secrets: SecretsManagerLocal;
let stepFunctions: Server;
let stepFunctionsUrl: string;
const reachedStepFunctions: Received[] = [];
let proxy: IamProxy;
const denials: Denial[] = [];
let tableName: string;
let tableArn: string;
let secretArn: string;
/** A client of DynamoDB Local itself, past the proxy, to see what was written. */
let direct: DynamoDBClient;

async function startStepFunctionsStandIn(): Promise<void> {
  stepFunctions = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      reachedStepFunctions.push({
        target: String(request.headers['x-amz-target']),
        body: Buffer.concat(chunks).toString('utf8'),
        authorization: String(request.headers.authorization),
      });
      response.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:x:y', startDate: 1 }));
    });
  });
  await new Promise<void>((resolve) => stepFunctions.listen(0, '127.0.0.1', resolve));
  stepFunctionsUrl = `http://127.0.0.1:${(stepFunctions.address() as { port: number }).port}`;
}

beforeAll(async () => {
  template = synthesizeTemplate();
  dynamo = await startDynamoDbLocal();
  direct = new DynamoDBClient({ ...localClientConfig, endpoint: dynamo.endpoint });
  tableName = Object.values(await ensureTables(direct, template))[0]!;
  tableArn = localArnOf(template, idOf(template, 'AWS::DynamoDB::Table', 'PaymentsTable'));
  const secretId = idOf(template, 'AWS::SecretsManager::Secret', 'StripeSecretKey');
  secretArn = localArnOf(template, secretId);
  secrets = await startSecretsManagerLocal({ template, values: { [secretId]: LOCAL_STRIPE_KEY } });
  await startStepFunctionsStandIn();
  proxy = await startProxy(template);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await secrets?.close();
  stepFunctions?.close();
  direct?.destroy();
  await dynamo?.stop();
});

beforeEach(() => {
  denials.length = 0;
  reachedStepFunctions.length = 0;
});

function startProxy(from: CfnTemplate): Promise<IamProxy> {
  return startIamProxy({
    template: from,
    upstreams: { dynamodb: dynamo.endpoint, sfn: stepFunctionsUrl, secretsManager: secrets.endpoint },
    onDenied: (denial) => denials.push(denial),
  });
}

/** The SDK clients a function gets, configured from the environment the proxy gives it. */
function clientsOf(functionName: string, through = proxy) {
  const environment = through.environmentFor(functionOf(template, functionName));
  const config = {
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: {
      accessKeyId: environment['AWS_ACCESS_KEY_ID']!,
      secretAccessKey: environment['AWS_SECRET_ACCESS_KEY']!,
      sessionToken: environment['AWS_SESSION_TOKEN']!,
    },
  };
  return {
    dynamo: new DynamoDBClient({ ...config, endpoint: environment['AWS_ENDPOINT_URL_DYNAMODB'] }),
    sfn: new SFNClient({ ...config, endpoint: environment['AWS_ENDPOINT_URL_SFN'] }),
    secrets: new SecretsManagerClient({ ...config, endpoint: environment['AWS_ENDPOINT_URL_SECRETS_MANAGER'] }),
  };
}

const key = (pk: string) => ({ pk: { S: pk }, sk: { S: 'item' } });
const stored = async (pk: string) => (await direct.send(new GetItemCommand({ TableName: tableName, Key: key(pk), ConsistentRead: true }))).Item;
const principalOf = (functionName: string) =>
  `arn:aws:sts::000000000000:assumed-role/${roleOf(template, functionName)}/${functionOf(template, functionName)}`;
const denied = (functionName: string, action: string, resource: string) =>
  `User: ${principalOf(functionName)} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

describe('the IAM proxy', () => {
  it("forwards a call the caller's role allows, and DynamoDB Local keeps one database whatever the role", async () => {
    // Prepare
    const createPayment = clientsOf('CreatePayment');
    const getPayment = clientsOf('GetPayment');

    // Act
    await createPayment.dynamo.send(new PutItemCommand({ TableName: tableName, Item: { ...key('allowed'), v: { N: '1' } } }));
    const read = await getPayment.dynamo.send(new GetItemCommand({ TableName: tableName, Key: key('allowed'), ConsistentRead: true }));

    // Assess
    expect(read.Item?.['v']).toEqual({ N: '1' });
    expect(denials).toEqual([]);
  });

  it('answers a denied call with the AccessDeniedException AWS sends, and writes nothing', async () => {
    // Prepare
    const getPayment = clientsOf('GetPayment');

    // Act
    const putting = getPayment.dynamo.send(new PutItemCommand({ TableName: tableName, Item: key('denied') }));

    // Assess
    await expect(putting).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: denied('GetPayment', 'dynamodb:PutItem', tableArn),
      $metadata: { httpStatusCode: 400 },
    });
    expect(await stored('denied')).toBeUndefined();
    expect(denials).toMatchObject([{ action: 'dynamodb:PutItem', resource: tableArn, target: 'DynamoDB_20120810.PutItem' }]);
  });

  it('authorizes each item of a transaction as its own action, and refuses the whole of it for one item', async () => {
    // Prepare: the Authorize step may GetItem and PutItem, not DeleteItem.
    const authorize = clientsOf('Authorize');
    const items = (second: object) => [{ Put: { TableName: tableName, Item: key('tx-put') } }, second];

    // Act
    const refused = authorize.dynamo.send(new TransactWriteItemsCommand({ TransactItems: items({ Delete: { TableName: tableName, Key: key('other') } }) }));
    await expect(refused).rejects.toMatchObject({ name: 'AccessDeniedException', message: denied('Authorize', 'dynamodb:DeleteItem', tableArn) });
    const putAfterRefusal = await stored('tx-put');
    const conditionCheck = authorize.dynamo.send(
      new TransactWriteItemsCommand({
        TransactItems: items({ ConditionCheck: { TableName: tableName, Key: key('other'), ConditionExpression: 'attribute_not_exists(pk)' } }),
      }),
    );
    await expect(conditionCheck).rejects.toMatchObject({ name: 'AccessDeniedException', message: denied('Authorize', 'dynamodb:ConditionCheckItem', tableArn) });
    await authorize.dynamo.send(new TransactWriteItemsCommand({ TransactItems: items({ Put: { TableName: tableName, Item: key('tx-put-2') } }) }));
    const gets = await clientsOf('GetPayment').dynamo.send(new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName: tableName, Key: key('tx-put') } }] }));

    // Assess
    expect(putAfterRefusal).toBeUndefined();
    expect(await stored('tx-put-2')).toBeDefined();
    expect(gets.Responses).toHaveLength(1);
    expect(denials.map(({ action }) => action)).toEqual(['dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem']);
  });

  it("authorizes a Query on an index against the index's ARN", async () => {
    // Prepare
    const query = new QueryCommand({
      TableName: tableName,
      IndexName: 'by_due',
      KeyConditionExpression: 'due_shard = :s',
      ExpressionAttributeValues: { ':s': { S: '0' } },
    });

    // Act
    const byReconciler = await clientsOf('Reconciler').dynamo.send(query);
    const byGetPayment = clientsOf('GetPayment').dynamo.send(query);

    // Assess
    expect(byReconciler.Items).toEqual([]);
    await expect(byGetPayment).rejects.toMatchObject({ name: 'AccessDeniedException', message: denied('GetPayment', 'dynamodb:Query', `${tableArn}/index/by_due`) });
  });

  it('refuses the call a removed grant allowed, on a copy of the template, and only that call', async () => {
    // Prepare: the CreatePayment function's role without dynamodb:PutItem.
    const withoutPut = await startProxy(withoutGrant(template, roleOf(template, 'CreatePayment'), 'dynamodb:PutItem'));
    const createPayment = clientsOf('CreatePayment', withoutPut);

    try {
      // Act
      const putting = createPayment.dynamo.send(new PutItemCommand({ TableName: tableName, Item: key('removed-grant') }));
      await expect(putting).rejects.toMatchObject({ name: 'AccessDeniedException', message: denied('CreatePayment', 'dynamodb:PutItem', tableArn) });
      await createPayment.dynamo.send(
        new UpdateItemCommand({ TableName: tableName, Key: key('removed-grant'), UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '2' } } }),
      );
      await clientsOf('CreatePayment').dynamo.send(new PutItemCommand({ TableName: tableName, Item: key('unchanged-template') }));

      // Assess
      expect((await stored('removed-grant'))?.['v']).toEqual({ N: '2' });
      expect(await stored('unchanged-template')).toBeDefined();
    } finally {
      await withoutPut.close();
    }
  });

  it('lets a route start its own saga, unchanged, and not the other one', async () => {
    // Prepare
    const createPayment = clientsOf('CreatePayment');
    const paymentSaga = localArnOf(template, idOf(template, 'AWS::StepFunctions::StateMachine', 'PaymentSagaStateMachine'));
    const refundSaga = localArnOf(template, idOf(template, 'AWS::StepFunctions::StateMachine', 'RefundSagaStateMachine'));

    // Act
    await createPayment.sfn.send(new StartExecutionCommand({ stateMachineArn: paymentSaga, name: 'p-1', input: '{"payment_no":"p-1"}' }));
    const refund = createPayment.sfn.send(new StartExecutionCommand({ stateMachineArn: refundSaga, name: 'r-1', input: '{}' }));
    await expect(refund).rejects.toMatchObject({ name: 'AccessDeniedException', message: denied('CreatePayment', 'states:StartExecution', refundSaga) });
    const executionArn = `${paymentSaga.replace(':stateMachine:', ':execution:')}:p-1`;
    await clientsOf('Reconciler').sfn.send(new DescribeExecutionCommand({ executionArn }));

    // Assess
    expect(reachedStepFunctions.map(({ target }) => target)).toEqual(['AWSStepFunctions.StartExecution', 'AWSStepFunctions.DescribeExecution']);
    expect(JSON.parse(reachedStepFunctions[0]!.body)).toEqual({ stateMachineArn: paymentSaga, name: 'p-1', input: '{"payment_no":"p-1"}' });
    expect(reachedStepFunctions[0]!.authorization).toContain(`Credential=${proxy.environmentFor(functionOf(template, 'CreatePayment'))['AWS_ACCESS_KEY_ID']}/`);
  });

  it('serves the Stripe secret to the provider steps and refuses it to the others, naming the secret as asked', async () => {
    // Act
    const read = await clientsOf('Capture').secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
    const refused = clientsOf('MarkSucceeded').secrets.send(new GetSecretValueCommand({ SecretId: 'StripeSecretKey' }));

    // Assess
    expect(read.SecretString).toBe(LOCAL_STRIPE_KEY);
    await expect(refused).rejects.toMatchObject({ name: 'AccessDeniedException', message: denied('MarkSucceeded', 'secretsmanager:GetSecretValue', 'StripeSecretKey') });
  });

  it('passes a hung database through as a hang, and serves the next call once it answers', async () => {
    // Prepare
    const getPayment = clientsOf('GetPayment');
    const read = () => new GetItemCommand({ TableName: tableName, Key: key('hang') });

    // Act
    await dynamo.pause();
    try {
      const hung = getPayment.dynamo.send(read(), { abortSignal: AbortSignal.timeout(500) });
      await expect(hung).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      dynamo.resume();
    }
    const after = await getPayment.dynamo.send(read());

    // Assess
    expect(after.$metadata.httpStatusCode).toBe(200);
  });

  describe('identifies the caller by its signature', () => {
    const table = () => ({ TableName: tableName, Item: key('forged') });

    it('refuses an access key it never issued', async () => {
      // Prepare
      const stranger = new DynamoDBClient({ ...localClientConfig, endpoint: proxy.endpoint, maxAttempts: 1 });

      // Act & Assess
      await expect(stranger.send(new PutItemCommand(table()))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
      expect(await stored('forged')).toBeUndefined();
    });

    it("refuses a role's access key signed with another secret, or sent without its session token", async () => {
      // Prepare
      const environment = proxy.environmentFor(functionOf(template, 'CreatePayment'));
      const client = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
        new DynamoDBClient({ region: 'us-east-1', endpoint: proxy.endpoint, maxAttempts: 1, credentials });
      const accessKeyId = environment['AWS_ACCESS_KEY_ID']!;
      const sessionToken = environment['AWS_SESSION_TOKEN']!;

      // Act
      const wrongSecret = client({ accessKeyId, secretAccessKey: 'not-the-secret', sessionToken }).send(new PutItemCommand(table()));
      const noToken = client({ accessKeyId, secretAccessKey: environment['AWS_SECRET_ACCESS_KEY']! }).send(new PutItemCommand(table()));

      // Assess
      await expect(wrongSecret).rejects.toMatchObject({ name: 'InvalidSignatureException' });
      await expect(noToken).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
      expect(await stored('forged')).toBeUndefined();
    });
  });
});

describe("a function's own code, as its role", () => {
  let stripe: Server;
  let stripeUrl: string;
  const stripeAuthorizations: string[] = [];

  beforeAll(async () => {
    // A Stripe stand-in that notes the key each request carries and finds nothing.
    stripe = createServer((request, response) => {
      stripeAuthorizations.push(String(request.headers.authorization));
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ object: 'search_result', data: [], has_more: false, next_page: null, url: '/v1/payment_intents/search' }));
    });
    await new Promise<void>((resolve) => stripe.listen(0, '127.0.0.1', resolve));
    stripeUrl = `http://127.0.0.1:${(stripe.address() as { port: number }).port}`;
  });
  afterAll(() => stripe.close());
  beforeEach(() => {
    stripeAuthorizations.length = 0;
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  /**
   * Runs `invoke` on a catalog function's handler module with the environment the template gives
   * the function (resolved as the local stack resolves it; no STRIPE_API_KEY) plus what the host
   * adds: the proxy's credentials and endpoints, the region, the provider's address. The modules
   * are fresh, so the handler builds its clients from that environment. Returns its answer and log.
   */
  async function runAs<M, T>(
    functionName: string,
    load: () => Promise<M>,
    invoke: (module: M) => Promise<T>,
    through = proxy,
  ): Promise<{ result: T; log: string }> {
    const functionId = functionOf(template, functionName);
    const variables = template.Resources?.[functionId]!.Properties!['Environment'] as { Variables: Record<string, unknown> };
    const environment = {
      ...(resolveIntrinsics(template, variables.Variables, functionId) as Record<string, string>),
      ...through.environmentFor(functionId),
      AWS_REGION: 'us-east-1',
      [EnvVar.StripeApiBase]: stripeUrl,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    };
    for (const [name, value] of Object.entries(environment)) vi.stubEnv(name, value);
    const lines: string[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    }
    vi.resetModules();
    try {
      return { result: await invoke(await load()), log: lines.join('') };
    } finally {
      vi.restoreAllMocks();
    }
  }

  const createPaymentRoute = () => import('../../../../functions/handlers/api/create-payment.ts');
  const createPayment = (orderNo: string) => (module: { handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> }) =>
    module.handler({
      body: JSON.stringify({ order_no: orderNo, amount: 1250, currency: 'usd', payment_method: 'pm_card_visa' }),
      isBase64Encoded: false,
      headers: {},
      requestContext: { requestId: orderNo, authorizer: { merchant_id: 'm_iam' } },
    } as unknown as APIGatewayProxyEvent);

  it('reads the Stripe key from the secret its STRIPE_SECRET_ARN names, through the proxy', async () => {
    // Act: a provider step's code path to its provider.
    await runAs('Capture', () => import('../../../../functions/adapters/stripe/client.ts'), async ({ stripeProviderFromEnv }) =>
      (await stripeProviderFromEnv()).findChargesByPaymentNo('P-1'),
    );

    // Assess
    expect(stripeAuthorizations).toEqual([`Bearer ${LOCAL_STRIPE_KEY}`]);
    expect(denials).toEqual([]);
  });

  it('creates a payment and starts its saga with the unchanged template', async () => {
    // Act
    const { result } = await runAs('CreatePayment', createPaymentRoute, createPayment('o-iam-allowed'));

    // Assess
    expect(result.statusCode).toBe(201);
    expect(reachedStepFunctions.map(({ target }) => target)).toEqual(['AWSStepFunctions.StartExecution']);
    expect(denials).toEqual([]);
  });

  it('fails, with AccessDenied in its log, once the template no longer grants it dynamodb:PutItem', async () => {
    // Prepare
    const withoutPut = await startProxy(withoutGrant(template, roleOf(template, 'CreatePayment'), 'dynamodb:PutItem'));

    try {
      // Act
      const { result, log } = await runAs('CreatePayment', createPaymentRoute, createPayment('o-iam-denied'), withoutPut);

      // Assess
      expect(result.statusCode).toBe(500);
      expect(log).toContain('AccessDeniedException');
      expect(log).toContain(`is not authorized to perform: dynamodb:PutItem on resource: ${tableArn}`);
      expect(reachedStepFunctions).toEqual([]);
      expect(denials.map(({ action }) => action)).toEqual(['dynamodb:PutItem']);
    } finally {
      await withoutPut.close();
    }
  });

  it("runs the reconciler's sweep with nothing refused: the due index, the secret, the provider", async () => {
    // Act
    const { result, log } = await runAs('Reconciler', () => import('../../../../functions/handlers/reconciler.ts'), (module) => module.handler());

    // Assess
    expect(result).toEqual({ reconciled: 0, carts: 0, released: 0 });
    expect(log).toBe('');
    // The sweep's two searches: open authorizations of automatic payments, and of manual ones near their deadline.
    expect(stripeAuthorizations).toEqual([`Bearer ${LOCAL_STRIPE_KEY}`, `Bearer ${LOCAL_STRIPE_KEY}`]);
    expect(denials).toEqual([]);
  });
});
