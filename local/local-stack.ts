import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../functions/adapters/dynamodb/client.ts';
import { DynamoMerchantKeyStore } from '../functions/adapters/dynamodb/merchant-key-store.ts';
import { EnvVar } from '../functions/config/env.ts';
import type { CrashPoint } from '../functions/crash/crash-points.ts';
import { issueApiKey } from '../functions/domain/api-keys.ts';
import { type Merchant, type MerchantKeyStore, authenticateMerchant } from '../functions/domain/merchant.ts';
import { readCloudAssembly } from './assembly/cloud-assembly.ts';
import { type CfnTemplate, localArnOf, resolveIntrinsics } from './assembly/intrinsics.ts';
import { localAccountId, localRegion } from './assembly/local-account.ts';
import { type LocalFunction, type LocalResources, type LocalSchedule, readResources } from './assembly/resources.ts';
import { DEFAULT_CDK_OUT, ensureAssembly } from './assembly/synthesize.ts';
import { CrashSwitch } from './lambda/crash-switch.ts';
import type { AwsService } from './iam/aws-requests.ts';
import { endpointVariables, type IamProxy } from './iam/iam-proxy.ts';
import { startIamProxyThread } from './iam/iam-proxy-thread.ts';
import { type Authorization, TemplateIam } from './iam/template-iam.ts';
import { lambdaEnvironment } from './lambda/environment.ts';
import { InvocationError } from './lambda/invocation-error.ts';
import { type FunctionStats, type HostedFunction, LambdaHost } from './lambda/host.ts';
import { startOpsServer } from './ops/server.ts';
import { isRunning, readJson } from './process-records.ts';
import { type TokenAuthorizer, startApiGatewayLocal } from './services/api-gateway-local.ts';
import { ensureTables, localClientConfig, startDynamoDbLocal } from './services/dynamodb-local.ts';
import { EmbeddedMetrics, type MetricTotal } from './services/embedded-metrics.ts';
import { startFakeProviderProcess } from './services/fake-provider-process.ts';
import { findSecret, startSecretsManagerLocal, templateSecrets } from './services/secrets-manager-local.ts';
import { startSchedule } from './services/scheduler.ts';
import { type StreamFailure, startStreamsPoller } from './services/streams-poller.ts';
import { type ExecutionEvent, type TaskHandler, startStepFunctionsLocal } from './services/stepfunctions-local.ts';

export interface LocalStackOptions {
  /** Where data and outputs.json live. */
  readonly dataDir: string;
  /** API port; 0 picks a free one. */
  readonly port: number;
  /** Serves the ops page (local/ops/) on this port (0 picks a free one); absent: no page. */
  readonly opsPort?: number;
  /** Keep DynamoDB in memory (tests) instead of under `dataDir`. */
  readonly inMemory?: boolean;
  /**
   * A cloud assembly to run as it is (`npm start -- --cdk-out DIR`: another context, a template
   * a test changed). Absent: the app, synthesized into cdk.out/ unless its sources are unchanged.
   */
  readonly cdkOut?: string;
  /**
   * How often the most frequent schedule (the reconciler's) invokes its targets, instead of its
   * rule's rate; every other schedule is sped up by the same factor (the hourly settlement runs
   * every minute when the reconciler runs every second). `0`: never; the caller runs them with
   * `reconcile()` when it chooses (the crash matrix, to know what each run crosses).
   */
  readonly reconcileEveryMs?: number;
  /** How long a payment may sit unfinished before the reconciler looks at it. */
  readonly reconcileAfterSeconds?: number;
  /** How long the reconciler holds a payment it settles itself (tests shorten it). */
  readonly reconcileLeaseSeconds?: number;
  /** How often the reconciler resumes a payment before it settles it with the provider (tests shorten it). */
  readonly maxResumes?: number;
  /** Variables set on every function over the template's: settings a test shortens (a timeout, a lease). */
  readonly functionSettings?: Readonly<Record<string, string>>;
  /** Every invocation runs with `CRASH_AUDIT` (functions/crash/audit.ts): see {@link LocalStack.auditViolations}. */
  readonly crashAudit?: boolean;
  /** Shortens the state machine's retry intervals (tests). */
  readonly retryIntervalScale?: number;
  /**
   * The DynamoDB endpoint the functions should use, given DynamoDB Local's own (e.g. a counting
   * proxy in front of it, for a benchmark). The caller owns whatever it starts. Absent: DynamoDB Local.
   */
  readonly dynamoEndpointFor?: (endpoint: string) => Promise<string>;
  /** Told every event of every saga execution (see {@link ExecutionEvent}). */
  readonly onExecutionEvent?: (executionArn: string, event: ExecutionEvent) => void;
  /**
   * Another bundle for some functions, by the construct id of the function in the CDK app
   * (`CreatePayment`), with variables added to its environment: e.g. a benchmark's baseline
   * serving a route. An id that names no function is refused.
   */
  readonly replaceCode?: Readonly<Record<string, { readonly codeDir: string; readonly environment?: Readonly<Record<string, string>> }>>;
  /** Instances of one function at most (the Lambda host's default when absent). */
  readonly maxInstancesPerFunction?: number;
  /**
   * `none` is a benchmark's baseline only: the functions run in the stack's own thread, share
   * its environment, and call the services directly, without the IAM proxy (see
   * local/lambda/in-process-instance.ts). Default: each instance a worker thread, every AWS call
   * checked against its role.
   */
  readonly isolation?: 'worker-threads' | 'none';
  /**
   * The functions emit their metrics (Powertools' embedded metric format) and the stack adds
   * them up as CloudWatch would, for {@link LocalStack.metricTotals}; those lines go there, not to
   * `log`. Absent: `POWERTOOLS_METRICS_DISABLED` as this process has it (default: disabled).
   */
  readonly metrics?: boolean;
  /** Where the stack's own lines, and every line its functions log, go. */
  readonly log?: (line: string) => void;
}

export interface LocalStack {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly providerUrl: string;
  /** The ops page, when the stack was started with `opsPort`. */
  readonly opsUrl?: string;
  /** The provider's test key, which the functions read from the template's secret. */
  readonly providerApiKey: string;
  readonly outputsFile: string;
  readonly tableName: string;
  readonly dynamoDbEndpoint: string;
  readonly stepFunctionsEndpoint: string;
  /** The template's outputs, resolved against the local resources (`StateMachineArn`, ...). */
  readonly templateOutputs: Readonly<Record<string, string>>;
  /** Resolves when no saga execution is running and the table's stream is delivered to its last record. */
  idle(): Promise<void>;
  /** The stream batches a mapping gave up on, sent to its on-failure destination. */
  streamFailures(): readonly StreamFailure[];
  /** Runs the schedule's targets (the reconciler) once, as its rule does; rejects as the invocation failed. */
  reconcile(): Promise<unknown>;
  /**
   * Invokes a function directly with `event`, as `aws lambda invoke` does for a person (a
   * settlement rerun for a chosen date): by its construct id (`SettleDay`). Resolves to its answer.
   */
  invoke(constructId: string, event: unknown): Promise<unknown>;
  /** Freezes DynamoDB Local: it accepts connections and answers nothing, as a hung database does (tests). */
  pauseDatabase(): Promise<void>;
  /** Lets a paused DynamoDB Local answer again. */
  resumeDatabase(): void;
  /**
   * Arms crash points (`CRASH_AT`, functions/crash/) for every invocation from now on, or none.
   * Invocations already running keep the setting they started with.
   */
  setCrashAt(value: string | undefined): void;
  /** Whether the crash at that crossing of `point` fired under the current `CRASH_AT`. */
  crashFired(point: CrashPoint, crossing?: number): boolean;
  /** How often each point was crossed, in every function, under the current `CRASH_AT` tag. */
  crossings(): Partial<Record<CrashPoint, number>>;
  /** Every state-changing call the crash audit refused, in every function (with `crashAudit`). */
  auditViolations(): readonly string[];
  /** The last lines a function logged, by its construct id (`CreatePayment`) or name. */
  functionLogs(id: string): readonly string[];
  /** Exactly the environment a function's instances run with. */
  environmentOf(id: string): Readonly<Record<string, string>>;
  /** Every metric the functions emitted so far, summed (none unless started with `metrics`). */
  metricTotals(): readonly MetricTotal[];
  /** Cold starts and invocation overhead, per function. */
  lambdaStats(): readonly (FunctionStats & { readonly constructId: string })[];
  /** Adds a merchant with a new API key, as `npm run merchant:create` does, and returns the key. */
  addMerchant(merchant: Merchant): Promise<string>;
  stop(): Promise<void>;
}

/** What `npm start` writes, like `cdk deploy --outputs-file` does for a deployed stack. */
export interface LocalOutputs {
  apiUrl: string;
  apiKey: string;
  providerUrl: string;
  /** The payments table in DynamoDB Local, for `npm run merchant:create -- --local`. */
  tableName: string;
  dynamoDbEndpoint: string;
  /** The ops page, when the stack serves one. */
  opsUrl?: string;
}

const DEMO_MERCHANT = { merchantId: 'merchant_demo', name: 'Demo merchant' } as const;
const LOCAL_STRIPE_KEY = 'sk_test_chargeonce_local';

/**
 * The whole system on this machine, from the synthesized cloud assembly: DynamoDB Local with
 * the template's table, the Stripe-compatible fake provider in its own process, the template's
 * state machines on a local Step Functions API, its REST API on a local API Gateway, its
 * schedule, and every function run from its bundle by the Lambda host.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  mkdirSync(options.dataDir, { recursive: true });
  claimDataDir(options.dataDir);
  const outputsFile = path.join(options.dataDir, 'outputs.json');
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne().catch(() => undefined);
  };

  try {
    const assemblyDir = options.cdkOut ?? (await ensureAssembly(DEFAULT_CDK_OUT, log));
    const resources = readResources(readCloudAssembly(assemblyDir));
    log(`assembly        ${assemblyDir} (${resources.functions.length} functions)`);
    const byId = functionFinder(resources.functions);
    for (const id of Object.keys(options.replaceCode ?? {})) byId(id);

    const provider = await startFakeProviderProcess(path.join(options.dataDir, 'provider'));
    stops.push(provider.stop);
    log(`fake provider   ${provider.url}`);

    const dynamo = await startDynamoDbLocal(options.inMemory ? {} : { dbPath: path.join(options.dataDir, 'dynamodb') });
    stops.push(dynamo.stop);
    log(`DynamoDB Local  ${dynamo.endpoint}`);
    const tables = Object.values(await ensureTables(new DynamoDBClient({ ...localClientConfig, endpoint: dynamo.endpoint }), resources.template));
    if (tables.length !== 1) throw new Error(`the stack should have one table; the template has ${tables.length}`);
    const tableName = tables[0]!;

    // Step Functions and the functions each need the other: a Task invokes a function, a function starts an execution.
    let host: LambdaHost | undefined;
    let authorizeTask: ((stateMachineLogicalId: string, sessionName: string, functionArn: string) => void) | undefined;
    stops.push(() => host?.stop() ?? Promise.resolve());
    const stepFunctions = await startStepFunctionsLocal({
      stateMachines: resources.stateMachines.map((machine) => ({
        name: machine.name,
        definition: machine.definition,
        // Each Task invokes its function as the state machine's role, which must be allowed lambda:InvokeFunction on it.
        functions: Object.fromEntries(
          resources.functions.map((fn): [string, TaskHandler] => [
            fn.name,
            (event) => {
              authorizeTask!(machine.logicalId, machine.name, fn.arn);
              return host!.invoke(fn.name, event);
            },
          ]),
        ),
        ...(machine.roleArn !== undefined && { roleArn: machine.roleArn }),
      })),
      ...(options.inMemory ? {} : { dataDir: path.join(options.dataDir, 'stepfunctions') }),
      ...(options.retryIntervalScale !== undefined && { retryIntervalScale: options.retryIntervalScale }),
      ...(options.onExecutionEvent !== undefined && { onExecutionEvent: options.onExecutionEvent }),
      log: (message, detail) => log(`step functions: ${message}${detail ? ` ${String(detail)}` : ''}`),
    });
    stops.push(stepFunctions.close);
    log(`Step Functions  ${stepFunctions.endpoint}`);

    const secrets = await startSecretsManagerLocal({ template: resources.template, values: stripeKeyOfSecrets(resources) });
    stops.push(secrets.close);
    log(`Secrets Manager ${secrets.endpoint}`);

    const upstreams = {
      dynamodb: options.dynamoEndpointFor ? await options.dynamoEndpointFor(dynamo.endpoint) : dynamo.endpoint,
      sfn: stepFunctions.endpoint,
      secretsManager: secrets.endpoint,
    };
    // Every AWS call a function makes goes through the IAM proxy, signed with its role's credentials.
    const proxy =
      options.isolation === 'none'
        ? unguardedAccess(resources.template, upstreams)
        : await startIamProxyThread({ template: resources.template, upstreams, onDenied: (denial) => log(`iam: denied ${denial.message}`) });
    stops.push(proxy.close);
    log(`IAM proxy       ${proxy.endpoint}`);
    authorizeTask = (stateMachineLogicalId, sessionName, functionArn) => {
      const session = { roleLogicalId: proxy.iam.roleOfStateMachine(stateMachineLogicalId), sessionName };
      refuseUnless(proxy.iam.authorize(session, 'lambda:InvokeFunction', functionArn));
    };

    const crash = new CrashSwitch(options.crashAudit ?? false);
    const metrics = new EmbeddedMetrics();
    const settings = functionSettingsOf(options);
    host = new LambdaHost({
      functions: resources.functions.map((fn): HostedFunction => {
        const replacement = options.replaceCode?.[fn.constructId];
        return {
          ...fn,
          ...(replacement !== undefined && { codeDir: replacement.codeDir }),
          environment: { ...lambdaEnvironment(fn, provider.url, proxy.environmentFor(fn.logicalId), settings), ...replacement?.environment },
        };
      }),
      crash,
      ...(options.isolation !== undefined && { isolation: options.isolation }),
      ...(options.maxInstancesPerFunction !== undefined && { maxInstancesPerFunction: options.maxInstancesPerFunction }),
      onLog: (name, line) => {
        if (!(options.metrics === true && metrics.take(line))) log(`${name}: ${line}`);
      },
    });
    const lambda = host;

    const api = await startApiGatewayLocal({
      port: options.port,
      ...routesOf(resources, proxy.iam, (logicalId) => byId(logicalId).arn, (logicalId) => (event) => lambda.invoke(byId(logicalId).name, event)),
      log: (message, detail) => log(`api: ${message}${detail ? ` ${String(detail)}` : ''}`),
    });
    stops.push(api.close);

    const runSchedule = async (schedule: LocalSchedule) => {
      const ruleArn = localArnOf(resources.template, schedule.logicalId);
      const results: unknown[] = [];
      for (const target of schedule.targets) {
        const fn = byId(target.functionLogicalId);
        // EventBridge may invoke a function only where the function's resource policy lets it.
        refuseUnless(proxy.iam.authorizeServiceInvoke('events.amazonaws.com', ruleArn, fn.arn));
        results.push(await lambda.invoke(fn.name, target.input ?? scheduledEvent(schedule, ruleArn)));
      }
      return results;
    };
    const fastestMs = Math.min(...resources.schedules.map((schedule) => schedule.everyMs));
    for (const schedule of resources.schedules) {
      const everyMs = options.reconcileEveryMs === undefined ? schedule.everyMs : (options.reconcileEveryMs * schedule.everyMs) / fastestMs;
      if (everyMs === 0) continue;
      const running = startSchedule({
        everyMs,
        tick: () => runSchedule(schedule),
        onError: (error) => log(`${schedule.logicalId} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`),
      });
      stops.push(() => running.stop());
    }

    // Lambda refuses a mapping whose function's role cannot read the stream (or send to its destination).
    for (const mapping of resources.streamMappings) {
      const fn = byId(mapping.functionLogicalId);
      const session = { roleLogicalId: proxy.iam.roleOfFunction(fn.logicalId), sessionName: fn.name };
      const needs: [string, string][] = [
        ['dynamodb:DescribeStream', mapping.streamArn],
        ['dynamodb:GetShardIterator', mapping.streamArn],
        ['dynamodb:GetRecords', mapping.streamArn],
        ['dynamodb:ListStreams', '*'],
        ...(mapping.onFailureQueueLogicalId === undefined ? [] : [['sqs:SendMessage', localArnOf(resources.template, mapping.onFailureQueueLogicalId)] as [string, string]]),
      ];
      for (const [action, resource] of needs) {
        const decision = proxy.iam.authorize(session, action, resource);
        if (!decision.allowed) throw new Error(`event source mapping ${mapping.logicalId}: ${decision.message}`);
      }
    }
    const streams = startStreamsPoller({
      endpoint: dynamo.endpoint,
      mappings: resources.streamMappings,
      tableNameOf: () => tableName,
      invoke: (mapping, event) => lambda.invoke(byId(mapping.functionLogicalId).name, event),
      log: (line) => log(`streams: ${line}`),
    });
    stops.push(streams.stop);
    log(`streams poller  ${resources.streamMappings.map((m) => m.logicalId).join(', ') || 'no mappings'}`);

    const merchants = new DynamoMerchantKeyStore(createDocumentClient(new DynamoDBClient({ ...localClientConfig, endpoint: dynamo.endpoint })), tableName);
    const addMerchant = async (merchant: Merchant) => (await issueApiKey(merchants, merchant)).apiKey;
    const apiKey = await demoApiKey(outputsFile, merchants, addMerchant);
    const outputs: LocalOutputs = { apiUrl: api.url, apiKey, providerUrl: provider.url, tableName, dynamoDbEndpoint: dynamo.endpoint };

    const stack: LocalStack = {
      ...outputs,
      providerApiKey: LOCAL_STRIPE_KEY,
      outputsFile,
      stepFunctionsEndpoint: stepFunctions.endpoint,
      templateOutputs: resources.outputs,
      idle: async () => {
        await stepFunctions.idle();
        await streams.idle();
      },
      streamFailures: () => streams.failures(),
      reconcile: async () => (await Promise.all(resources.schedules.map(runSchedule))).flat(),
      invoke: (constructId, event) => lambda.invoke(byId(constructId).name, event),
      pauseDatabase: dynamo.pause,
      resumeDatabase: dynamo.resume,
      setCrashAt: (value) => crash.setCrashAt(value),
      crashFired: (point, crossing) => crash.fired(point, crossing),
      crossings: () => crash.crossings(),
      auditViolations: () => crash.auditViolations(),
      functionLogs: (id) => lambda.logs(byId(id).name),
      environmentOf: (id) => lambda.function(byId(id).name).environment,
      metricTotals: () => metrics.snapshot(),
      lambdaStats: () =>
        lambda.stats().map((stats) => ({ ...stats, constructId: resources.functions.find((fn) => fn.name === stats.name)!.constructId })),
      addMerchant,
      stop,
    };
    if (options.opsPort !== undefined) {
      const ops = await startOpsServer({ stack, port: options.opsPort });
      stops.push(ops.close);
      outputs.opsUrl = ops.url;
      log(`ops page        ${ops.url}`);
    }
    writeFileSync(outputsFile, `${JSON.stringify(outputs, null, 2)}\n`);
    return { ...stack, ...outputs };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The baseline's access to the services (`isolation: 'none'`): straight to each, with credentials nobody checks. */
function unguardedAccess(template: CfnTemplate, upstreams: Readonly<Record<AwsService, string>>): Pick<IamProxy, 'endpoint' | 'iam' | 'environmentFor' | 'close'> {
  return {
    endpoint: 'none: the functions call each service directly',
    iam: TemplateIam.fromTemplate(template),
    environmentFor: () => ({
      AWS_ACCESS_KEY_ID: 'unchecked',
      AWS_SECRET_ACCESS_KEY: 'unchecked',
      ...Object.fromEntries(Object.entries(upstreams).map(([service, endpoint]) => [endpointVariables[service as AwsService], endpoint])),
    }),
    close: async () => undefined,
  };
}

/** A denied invocation fails as Lambda refuses it (Step Functions names it `Lambda.AccessDeniedException`). */
function refuseUnless(decision: Authorization): void {
  if (!decision.allowed) throw new InvocationError({ errorType: 'AccessDeniedException', errorMessage: decision.message, trace: [] }, 'lambda');
}

/**
 * The local test key, as the value of each secret a function is told to read its provider's
 * key from (`STRIPE_SECRET_ARN`), by the secret's logical id.
 */
function stripeKeyOfSecrets(resources: LocalResources): Record<string, string> {
  const secrets = templateSecrets(resources.template);
  return Object.fromEntries(
    resources.functions.flatMap((fn) => {
      const arn = fn.environment[EnvVar.StripeSecretArn];
      const secret = arn === undefined ? undefined : findSecret(secrets, arn);
      return secret === undefined ? [] : [[secret.logicalId, LOCAL_STRIPE_KEY]];
    }),
  );
}

/** Finds a function by its construct id (`CreatePayment`), its name or its logical id. */
function functionFinder(functions: readonly LocalFunction[]): (id: string) => LocalFunction {
  return (id) => {
    const found = functions.find((fn) => fn.constructId === id || fn.name === id || fn.logicalId === id);
    if (found === undefined) throw new Error(`the assembly has no function ${id}; it has ${functions.map((fn) => fn.constructId).join(', ')}`);
    return found;
  };
}

/** The variables the stack sets on every function: the caller's, over its own defaults. */
function functionSettingsOf(options: LocalStackOptions): Record<string, string> {
  return {
    // What the caller's own process asks for (a test quiets the functions before it starts the stack).
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    POWERTOOLS_METRICS_DISABLED: options.metrics === true ? 'false' : (process.env.POWERTOOLS_METRICS_DISABLED ?? 'true'),
    [EnvVar.ReconcileAfterSeconds]: String(options.reconcileAfterSeconds ?? 60),
    // The merchant's receivers run on this machine, beside the functions.
    [EnvVar.WebhookLoopbackUrls]: '1',
    ...(options.reconcileLeaseSeconds !== undefined && { [EnvVar.ReconcileLeaseSeconds]: String(options.reconcileLeaseSeconds) }),
    ...(options.maxResumes !== undefined && { [EnvVar.ReconcileMaxResumes]: String(options.maxResumes) }),
    ...options.functionSettings,
  };
}

/**
 * The API's routes and their authorizers, each invoking the function the template wires to it,
 * as API Gateway does: only where the function's resource policy lets API Gateway invoke it
 * for that method (or authorizer), else the request fails 500 as on AWS.
 */
function routesOf(resources: LocalResources, iam: TemplateIam, functionArn: (functionLogicalId: string) => string, invoke: (functionLogicalId: string) => TaskHandler) {
  const api = resources.api;
  if (api === undefined) throw new Error('the template has no REST API to serve');
  const asApiGateway =
    (functionLogicalId: string) =>
    (event: unknown, sourceArn: string): Promise<any> => {
      refuseUnless(iam.authorizeServiceInvoke('apigateway.amazonaws.com', sourceArn, functionArn(functionLogicalId)));
      return invoke(functionLogicalId)(event);
    };
  const refOf = (logicalId: string) => String(resolveIntrinsics(resources.template, { Ref: logicalId }, logicalId));
  const authorizers = new Map(
    api.authorizers.map((authorizer): [string, TokenAuthorizer] => [
      authorizer.logicalId,
      {
        id: refOf(authorizer.logicalId),
        invoke: asApiGateway(authorizer.functionLogicalId),
        identityHeader: authorizer.identityHeader,
        resultTtlSeconds: authorizer.resultTtlSeconds,
      },
    ]),
  );
  return {
    apiId: refOf(api.logicalId),
    stage: api.stageName,
    gatewayResponses: api.gatewayResponses,
    routes: api.routes.map((route) => ({
      method: route.method,
      path: route.path,
      handler: asApiGateway(route.functionLogicalId),
      ...(route.authorizerLogicalId !== undefined && { authorizer: authorizers.get(route.authorizerLogicalId)! }),
    })),
  };
}

/** The event EventBridge sends a scheduled rule's target. */
function scheduledEvent(schedule: LocalSchedule, ruleArn: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: localAccountId,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: localRegion,
    resources: [ruleArn],
    detail: {},
  };
}

/** The demo merchant's key: the one from the last run when its data is still here, else a new one. */
async function demoApiKey(outputsFile: string, merchants: MerchantKeyStore, addMerchant: (merchant: Merchant) => Promise<string>): Promise<string> {
  const previous = readJson<Partial<LocalOutputs>>(outputsFile)?.apiKey;
  if (previous && (await authenticateMerchant(merchants, `Bearer ${previous}`, new Date()))) return previous;
  return addMerchant(DEMO_MERCHANT);
}

/**
 * One stack per data folder: a second one would kill the first one's DynamoDB Local as an
 * orphan. A stack that died (even by `kill -9`) leaves a pid that no longer runs, and its
 * claim lapses with it.
 */
function claimDataDir(dataDir: string): void {
  const lockFile = path.join(dataDir, 'stack.pid');
  const holder = Number(readJson<number>(lockFile));
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isRunning(holder)) {
    throw new Error(`another local stack (pid ${holder}) is running on ${dataDir}; stop it first`);
  }
  writeFileSync(lockFile, String(process.pid));
}
