import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { createDocumentClient } from '../functions/adapters/dynamodb/client.ts';
import { DynamoMerchantKeyStore } from '../functions/adapters/dynamodb/merchant-key-store.ts';
import { apiRoutes, authorizerEntry, reconcilerEntry, refundSteps, sagaSteps } from '../functions/catalog.ts';
import { EnvVar } from '../functions/config/env.ts';
import { generateApiKey, hashApiKey } from '../functions/domain/merchant.ts';
import { type ProxyHandler, startApiGatewayLocal } from './services/api-gateway-local.ts';
import { gatewayResponsesOf } from './services/gateway-responses.ts';
import { ensureTables, freePort, localClientConfig, startDynamoDbLocal } from './services/dynamodb-local.ts';
import { startSchedule } from './services/scheduler.ts';
import { stateMachineDefinitions } from './assembly/state-machine-definition.ts';
import { type ExecutionEvent, type TaskHandler, startStepFunctionsLocal } from './services/stepfunctions-local.ts';
import { synthesizeTemplate } from './assembly/synthesize.ts';

export interface LocalStackOptions {
  /** Where data and outputs.json live. */
  readonly dataDir: string;
  /** API port; 0 picks a free one. */
  readonly port: number;
  /** Keep DynamoDB in memory (tests) instead of under `dataDir`. */
  readonly inMemory?: boolean;
  /**
   * How often the schedule runs the reconciler. `0`: never; the caller runs it with
   * `reconcile()` when it chooses (the crash matrix, to know what each run crosses).
   */
  readonly reconcileEveryMs?: number;
  /** How long a payment may sit unfinished before the reconciler looks at it. */
  readonly reconcileAfterSeconds?: number;
  /** How long the reconciler holds a payment it settles itself (tests shorten it). */
  readonly reconcileLeaseSeconds?: number;
  /** How often the reconciler resumes a payment before it settles it with the provider (tests shorten it). */
  readonly maxResumes?: number;
  /** Shortens the state machine's retry intervals (tests). */
  readonly retryIntervalScale?: number;
  /**
   * The DynamoDB endpoint the handlers should use, given DynamoDB Local's own (e.g. a counting
   * proxy in front of it, for a benchmark). The caller owns whatever it starts. Absent: DynamoDB Local.
   */
  readonly dynamoEndpointFor?: (endpoint: string) => Promise<string>;
  /** Told every event of every saga execution (see {@link ExecutionEvent}). */
  readonly onExecutionEvent?: (executionArn: string, event: ExecutionEvent) => void;
  /**
   * Handlers that replace the catalog's for some routes, by route id (`apiRoutes` in
   * functions/catalog.ts), e.g. the benchmark's baseline around the same route logic. They
   * run behind the same authorizer; an id that names no route is refused.
   */
  readonly routeHandlers?: Readonly<Record<string, ProxyHandler>>;
  readonly log?: (line: string) => void;
}

export interface LocalStack {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly providerUrl: string;
  readonly outputsFile: string;
  /** Resolves when no saga execution is running. */
  idle(): Promise<void>;
  /** Runs the reconciler once, as the schedule does. */
  reconcile(): Promise<unknown>;
  /** Freezes DynamoDB Local: it accepts connections and answers nothing, as a hung database does (tests). */
  pauseDatabase(): void;
  /** Lets a paused DynamoDB Local answer again. */
  resumeDatabase(): void;
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
}

const projectRoot = path.resolve(import.meta.dirname, '..');
const functionsDir = path.join(projectRoot, 'functions');
const DEMO_MERCHANT = { merchantId: 'merchant_demo', name: 'Demo merchant' } as const;
const LOCAL_STRIPE_KEY = 'sk_test_chargeonce_local';
/** The local stack's tag on its charges at the fake provider. */
const LOCAL_DEPLOYMENT_ID = 'local';

/**
 * The whole system on this machine: DynamoDB Local, the Stripe-compatible fake provider in
 * its own process, the state machine synthesized from the CDK app on a local Step Functions
 * API, the same handlers behind a local API Gateway, and the reconciler's schedule.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const unknownRoutes = Object.keys(options.routeHandlers ?? {}).filter((id) => !apiRoutes.some((route) => route.id === id));
  if (unknownRoutes.length > 0) throw new Error(`routeHandlers names no route: ${unknownRoutes.join(', ')}`);
  mkdirSync(options.dataDir, { recursive: true });
  claimDataDir(options.dataDir);
  const outputsFile = path.join(options.dataDir, 'outputs.json');
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne().catch(() => undefined);
  };

  try {
    const provider = await startFakeProviderProcess(path.join(options.dataDir, 'provider'));
    stops.push(provider.stop);
    log(`fake provider   ${provider.url}`);

    const dynamo = await startDynamoDbLocal(
      options.inMemory ? {} : { dbPath: path.join(options.dataDir, 'dynamodb') },
    );
    stops.push(dynamo.stop);
    log(`DynamoDB Local  ${dynamo.endpoint}`);

    const template = synthesizeTemplate();
    const tables = Object.values(
      await ensureTables(new DynamoDBClient({ ...localClientConfig, endpoint: dynamo.endpoint }), template),
    );
    const definitions = stateMachineDefinitions(template);
    // Each saga is told apart by its states, which are the catalog's step names.
    const definitionOf = (steps: Record<string, string>) =>
      definitions.find((d) => Object.keys(steps).every((state) => state in (d.definition.States as object)));
    const paymentSaga = definitionOf(sagaSteps);
    const refundSaga = definitionOf(refundSteps);
    if (tables.length !== 1 || !paymentSaga || !refundSaga || definitions.length !== 2) {
      throw new Error('the stack should have one table and two state machines (payments, refunds)');
    }

    const handlersDynamoEndpoint = options.dynamoEndpointFor ? await options.dynamoEndpointFor(dynamo.endpoint) : dynamo.endpoint;

    // The handlers read these on first use, exactly as they read the CDK app's settings on Lambda.
    Object.assign(process.env, {
      AWS_REGION: localClientConfig.region,
      AWS_ACCESS_KEY_ID: localClientConfig.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localClientConfig.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: handlersDynamoEndpoint,
      [EnvVar.TableName]: tables[0],
      [EnvVar.StripeApiKey]: LOCAL_STRIPE_KEY,
      [EnvVar.StripeApiBase]: provider.url,
      [EnvVar.ReconcileAfterSeconds]: String(options.reconcileAfterSeconds ?? 60),
      [EnvVar.DeploymentId]: LOCAL_DEPLOYMENT_ID,
      ...(options.reconcileLeaseSeconds !== undefined && {
        [EnvVar.ReconcileLeaseSeconds]: String(options.reconcileLeaseSeconds),
      }),
      ...(options.maxResumes !== undefined && { [EnvVar.ReconcileMaxResumes]: String(options.maxResumes) }),
      POWERTOOLS_SERVICE_NAME: 'chargeonce',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    });

    const handlersOf = async (steps: Record<string, string>) => {
      const taskHandlers: Record<string, TaskHandler> = {};
      for (const [state, entry] of Object.entries(steps)) taskHandlers[state] = await handlerOf(entry);
      return taskHandlers;
    };
    const stepFunctions = await startStepFunctionsLocal({
      stateMachines: [
        { name: paymentSaga.stateMachineName, definition: paymentSaga.definition, taskHandlers: await handlersOf(sagaSteps) },
        { name: refundSaga.stateMachineName, definition: refundSaga.definition, taskHandlers: await handlersOf(refundSteps) },
      ],
      ...(options.inMemory ? {} : { dataDir: path.join(options.dataDir, 'stepfunctions') }),
      ...(options.retryIntervalScale !== undefined && { retryIntervalScale: options.retryIntervalScale }),
      ...(options.onExecutionEvent !== undefined && { onExecutionEvent: options.onExecutionEvent }),
      log: (message, detail) => log(`step functions: ${message}${detail ? ` ${String(detail)}` : ''}`),
    });
    stops.push(stepFunctions.close);
    process.env.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;
    process.env[EnvVar.StateMachineArn] = stepFunctions.stateMachineArn(paymentSaga.stateMachineName);
    process.env[EnvVar.RefundStateMachineArn] = stepFunctions.stateMachineArn(refundSaga.stateMachineName);
    log(`Step Functions  ${stepFunctions.endpoint}`);

    const routes = await Promise.all(
      apiRoutes.map(async (route) => ({
        method: route.method,
        path: route.path,
        handler: options.routeHandlers?.[route.id] ?? ((await handlerOf(route.entry)) as ProxyHandler),
      })),
    );
    const authorizer = (await handlerOf(authorizerEntry)) as (
      e: APIGatewayTokenAuthorizerEvent,
    ) => Promise<APIGatewayAuthorizerResult>;
    const api = await startApiGatewayLocal({
      port: options.port,
      routes,
      authorizer,
      gatewayResponses: gatewayResponsesOf(template),
      log: (message, detail) => log(`api: ${message}${detail ? ` ${String(detail)}` : ''}`),
    });
    stops.push(api.close);

    const reconcile = await handlerOf(reconcilerEntry);
    if (options.reconcileEveryMs !== 0) {
      const schedule = startSchedule({
        everyMs: options.reconcileEveryMs ?? 60_000,
        tick: () => reconcile({}),
        onError: (error) => log(`reconciler failed: ${error instanceof Error ? error.message : String(error)}`),
      });
      stops.push(() => schedule.stop());
    }

    const apiKey = await demoApiKey(outputsFile, tables[0]!);
    const outputs: LocalOutputs = {
      apiUrl: api.url,
      apiKey,
      providerUrl: provider.url,
      tableName: tables[0]!,
      dynamoDbEndpoint: dynamo.endpoint,
    };
    writeFileSync(outputsFile, `${JSON.stringify(outputs, null, 2)}\n`);

    return {
      ...outputs,
      outputsFile,
      idle: () => stepFunctions.idle(),
      reconcile: () => reconcile({}),
      pauseDatabase: dynamo.pause,
      resumeDatabase: dynamo.resume,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function handlerOf(entry: string): Promise<TaskHandler> {
  const module = (await import(path.join(functionsDir, entry))) as { handler: TaskHandler };
  return module.handler;
}

/** The demo merchant's key: the one from the last run when its data is still here, else a new one. */
async function demoApiKey(outputsFile: string, tableName: string): Promise<string> {
  const store = new DynamoMerchantKeyStore(createDocumentClient(new DynamoDBClient({})), tableName);
  const previous = readJson<Partial<LocalOutputs>>(outputsFile)?.apiKey;
  if (previous && (await store.findMerchantByKeyHash(hashApiKey(previous)))) return previous;
  const apiKey = generateApiKey();
  await store.addMerchantKey(DEMO_MERCHANT, hashApiKey(apiKey));
  return apiKey;
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

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The fake provider runs as its own process, detached, with its ledger on disk: it is the
 * bank, and a crash of the product (even `kill -9` of the whole stack) must not take the
 * bank with it. A provider left running by a stack that died is reused, so its ledger and
 * idempotency records carry on exactly as Stripe's would.
 */
async function startFakeProviderProcess(dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  mkdirSync(dataDir, { recursive: true });
  const recordFile = path.join(dataDir, 'process.json');
  const previous = readJson<{ pid: number; url: string }>(recordFile);
  if (previous && (await answers(previous.url))) return { url: previous.url, stop: () => stopPid(previous.pid) };

  const port = await freePort();
  const logFd = openSync(path.join(dataDir, 'provider.log'), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'local/fake-provider/main.ts')], {
    cwd: projectRoot,
    // Stricter than Stripe: a call the product sends without its own idempotency key is refused.
    env: { ...process.env, PORT: String(port), FAKE_PROVIDER_DATA_DIR: dataDir, FAKE_PROVIDER_REQUIRE_IDEMPOTENCY_KEY: 'true' },
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  child.unref();
  closeSync(logFd);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (!(await answers(url))) {
    if (child.exitCode !== null) throw new Error(`the fake provider exited with code ${child.exitCode}; see ${dataDir}/provider.log`);
    if (Date.now() > deadline) throw new Error(`the fake provider did not answer on ${url}; see ${dataDir}/provider.log`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  writeFileSync(recordFile, JSON.stringify({ pid: child.pid, url }));
  return { url, stop: () => stopChild(child) };
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/_fake/faults`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function stopPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  // A detached child is unref'd; hold the event loop until it has really gone.
  child.ref();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
