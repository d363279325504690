/**
 * A local Step Functions endpoint: an HTTP server that speaks the service's AWS JSON 1.0
 * protocol (`X-Amz-Target: AWSStepFunctions.<Op>`), so the real `@aws-sdk/client-sfn` works
 * against it unchanged (`AWS_ENDPOINT_URL_SFN`). Executions run in this process with
 * `aws-local-stepfunctions`; each Task invokes the function its `Resource` names (or the
 * `FunctionName` of its `lambda:invoke` integration), the way Step Functions calls Lambda (JSON
 * in, JSON out, a failed invocation's error type reported as the state's error, `Lambda.<type>`
 * when Lambda itself refused it, and `{errorType, errorMessage, trace}` as its cause).
 *
 * Operations: StartExecution, DescribeExecution, StopExecution, ListExecutions,
 * GetExecutionHistory, DescribeStateMachine, ListStateMachines.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { listen } from './listen.ts';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { functionNameOfArn, localArn, localExecutionArn, localStateMachineArn } from '../assembly/local-account.ts';
import { invokedFunctionOf, taskStates } from '../assembly/state-machine-definition.ts';
import { InvocationError } from '../lambda/invocation-error.ts';
import { ExecutionHistories } from './execution-history.ts';

/** Invokes a Lambda function: receives the state's input, returns its result. */
export type TaskHandler = (input: any) => Promise<any>;

/**
 * One event of an execution as the interpreter reports it: `ExecutionStarted`, `StateEntered`
 * (a billed state transition on AWS), `StateRetried`, `StateCaught`, `ExecutionSucceeded`...
 */
export type ExecutionEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface LocalStateMachine {
  name: string;
  /** ASL, JSONPath query language (see {@link stateMachineDefinitions}). */
  definition: Record<string, unknown>;
  /** Function name → how to invoke it, for every function a Task names (nested ones included). */
  functions: Readonly<Record<string, TaskHandler>>;
  /** The role it runs as (in its executions' context). */
  roleArn?: string;
}

export interface StartStepFunctionsLocalOptions {
  /** 0 or absent picks a free port. */
  port?: number;
  host?: string;
  stateMachines: LocalStateMachine[];
  /** Directory where execution records survive a restart. Absent: memory only. */
  dataDir?: string;
  /**
   * Multiplies every retrier's `IntervalSeconds` and `MaxDelaySeconds`, and every Wait
   * state's `Seconds` (e.g. 0.1 in tests). Backoff and jitter still apply, on the shortened
   * intervals.
   */
  retryIntervalScale?: number;
  /** How long close() waits for in-flight Task functions. Default 2000 ms. */
  closeGraceMs?: number;
  /** Where execution failures and server errors are reported. Default: console.error. */
  log?: (message: string, detail?: unknown) => void;
  /** Told every event of every execution, in order (e.g. to count state transitions in a benchmark). */
  onExecutionEvent?: (executionArn: string, event: ExecutionEvent) => void;
}

export interface StepFunctionsLocal {
  /** `http://<host>:<port>`, for `AWS_ENDPOINT_URL_SFN` or a client's `endpoint`. */
  endpoint: string;
  stateMachineArn(name: string): string;
  /** Resolves when no execution runs and no Task function is in flight. */
  idle(): Promise<void>;
  /**
   * Aborts running executions (recorded ABORTED, States.Runtime), waits up to `closeGraceMs` for
   * in-flight Task functions, stops listening.
   */
  close(): Promise<void>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One execution, as DescribeExecution reports it and as the data file keeps it. */
export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /** Epoch milliseconds. */
  startDate: number;
  stopDate?: number;
}

export const stoppedWhileRunningError = 'States.Runtime';
export const stoppedWhileRunningCause = 'the local stack stopped while it ran';

const arnPrefix = localArn('states', '').slice(0, -1);

/** AWS's rule for execution and state machine names. */
const validName = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** The error a Task's failed invocation becomes, shaped like Lambda's report of it. */
class TaskFunctionError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

interface CompiledMachine {
  name: string;
  arn: string;
  definition: Record<string, unknown>;
  machine: StateMachine;
  handlers: Record<string, (input: any) => Promise<any>>;
  roleArn: string;
  creationDate: number;
}

interface Running {
  abort: () => void;
  done: Promise<void>;
}

export async function startStepFunctionsLocal(options: StartStepFunctionsLocalOptions): Promise<StepFunctionsLocal> {
  const log = options.log ?? ((message: string, detail?: unknown) => console.error(message, detail ?? ''));
  const inFlight = new Set<Promise<unknown>>();
  const machines = new Map<string, CompiledMachine>();
  for (const config of options.stateMachines) {
    if (machines.has(config.name)) throw new Error(`Two state machines are named ${config.name}`);
    machines.set(config.name, compile(config, options.retryIntervalScale, inFlight));
  }

  const store = new ExecutionStore(options.dataDir);
  const histories = new ExecutionHistories(options.dataDir);
  const running = new Map<string, Running>();

  function startExecution(body: Record<string, unknown>): Record<string, unknown> {
    const machine = machineByArn(requireString(body, 'stateMachineArn'));
    const name = optionalString(body, 'name') ?? randomUUID();
    if (!validName.test(name)) throw new ServiceError('InvalidName', `Invalid Name: '${name}'`);
    const input = optionalString(body, 'input') ?? '{}';
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new ServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${input}'`);
    }
    const executionArn = localExecutionArn(machine.name, name);
    const existing = store.get(executionArn);
    if (existing !== undefined) {
      // AWS: same name and input while the first one is open → the same answer; otherwise
      // (other input, or the first one closed) → ExecutionAlreadyExists.
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: seconds(existing.startDate) };
      }
      throw new ServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }

    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      status: 'RUNNING',
      input,
      startDate: Date.now(),
    };
    store.put(record);
    const run = machine.machine.run(parsedInput as never, {
      overrides: { taskResourceLocalHandlers: machine.handlers },
      noThrowOnAbort: true,
      context: {
        Execution: {
          Id: executionArn,
          Name: name,
          Input: parsedInput as never,
          StartTime: new Date(record.startDate).toISOString(),
          RoleArn: machine.roleArn,
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
      },
    });
    const ended = run.result.then(
      (output) => finish(executionArn, { status: 'SUCCEEDED', output: JSON.stringify(output ?? null) }),
      (error: unknown) => finish(executionArn, outcomeOfFailure(error, log, executionArn)),
    ).catch((error: unknown) => log(`Could not record the end of ${executionArn}`, error));
    // The interpreter closes its event log on every ending (success, failure, abort, timeout).
    const done = Promise.all([ended, recordEvents(executionArn, run.eventLogs, histories, options.onExecutionEvent, log)]).then(() => undefined);
    running.set(executionArn, { abort: run.abort, done });
    void done.finally(() => running.delete(executionArn));
    return { executionArn, startDate: seconds(record.startDate) };
  }

  function finish(executionArn: string, outcome: Partial<ExecutionRecord>): void {
    const record = store.get(executionArn);
    // A StopExecution (or close) already closed it: the abort's own outcome changes nothing.
    if (record === undefined || record.status !== 'RUNNING') return;
    store.put({ ...record, ...outcome, stopDate: Date.now() });
  }

  function stop(executionArn: string, error: string | undefined, cause: string | undefined): ExecutionRecord {
    const record = existingExecution(executionArn);
    if (record.status !== 'RUNNING') return record;
    const stopped: ExecutionRecord = { ...record, status: 'ABORTED', stopDate: Date.now() };
    if (error !== undefined) stopped.error = error;
    if (cause !== undefined) stopped.cause = cause;
    store.put(stopped);
    running.get(executionArn)?.abort();
    return stopped;
  }

  function existingExecution(executionArn: string): ExecutionRecord {
    if (!executionArn.startsWith(`${arnPrefix}:execution:`)) {
      throw new ServiceError('InvalidArn', `Invalid Arn: '${executionArn}'`);
    }
    const record = store.get(executionArn);
    if (record === undefined) throw new ServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  }

  function machineByArn(arn: string): CompiledMachine {
    if (!arn.startsWith(`${arnPrefix}:stateMachine:`)) throw new ServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
    const machine = machines.get(arn.slice(`${arnPrefix}:stateMachine:`.length));
    if (machine === undefined) throw new ServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  const operations: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    StartExecution: startExecution,
    DescribeExecution(body) {
      const record = existingExecution(requireString(body, 'executionArn'));
      return describe(record);
    },
    StopExecution(body) {
      const record = stop(requireString(body, 'executionArn'), optionalString(body, 'error'), optionalString(body, 'cause'));
      return { stopDate: seconds(record.stopDate ?? Date.now()) };
    },
    ListExecutions(body) {
      const machine = machineByArn(requireString(body, 'stateMachineArn'));
      const statusFilter = optionalString(body, 'statusFilter');
      const maxResults = typeof body['maxResults'] === 'number' && body['maxResults'] > 0 ? Math.min(body['maxResults'], 1000) : 100;
      const offset = decodeToken(optionalString(body, 'nextToken'));
      const matching = store
        .all()
        .filter((record) => record.stateMachineArn === machine.arn && (statusFilter === undefined || record.status === statusFilter))
        .sort((a, b) => b.startDate - a.startDate);
      const page = matching.slice(offset, offset + maxResults);
      const result: Record<string, unknown> = {
        executions: page.map((record) => ({
          executionArn: record.executionArn,
          stateMachineArn: record.stateMachineArn,
          name: record.name,
          status: record.status,
          startDate: seconds(record.startDate),
          ...(record.stopDate !== undefined ? { stopDate: seconds(record.stopDate) } : {}),
        })),
      };
      if (offset + maxResults < matching.length) result['nextToken'] = Buffer.from(String(offset + maxResults)).toString('base64');
      return result;
    },
    GetExecutionHistory(body) {
      const executionArn = requireString(body, 'executionArn');
      existingExecution(executionArn);
      const maxResults = typeof body['maxResults'] === 'number' && body['maxResults'] > 0 ? Math.min(body['maxResults'], 1000) : 100;
      const offset = decodeToken(optionalString(body, 'nextToken'));
      const events = histories.of(executionArn, { includeData: body['includeExecutionData'] !== false });
      if (body['reverseOrder'] === true) events.reverse();
      const result: Record<string, unknown> = { events: events.slice(offset, offset + maxResults) };
      if (offset + maxResults < events.length) result['nextToken'] = Buffer.from(String(offset + maxResults)).toString('base64');
      return result;
    },
    DescribeStateMachine(body) {
      const machine = machineByArn(requireString(body, 'stateMachineArn'));
      return {
        stateMachineArn: machine.arn,
        name: machine.name,
        status: 'ACTIVE',
        definition: JSON.stringify(machine.definition),
        roleArn: machine.roleArn,
        type: 'STANDARD',
        creationDate: seconds(machine.creationDate),
      };
    },
    ListStateMachines() {
      return {
        stateMachines: [...machines.values()].map((machine) => ({
          stateMachineArn: machine.arn,
          name: machine.name,
          type: 'STANDARD',
          creationDate: seconds(machine.creationDate),
        })),
      };
    },
  };

  const server = createServer((request, response) => {
    void handleRequest(request, response, operations, log);
  });
  const port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const endpoint = `http://${options.host ?? '127.0.0.1'}:${port}`;

  async function idle(): Promise<void> {
    while (running.size > 0 || inFlight.size > 0) {
      await Promise.allSettled([...[...running.values()].map((entry) => entry.done), ...inFlight]);
    }
  }

  return {
    endpoint,
    stateMachineArn(name: string) {
      if (!machines.has(name)) throw new Error(`No local state machine is named ${name}`);
      return localStateMachineArn(name);
    },
    idle,
    async close() {
      for (const executionArn of [...running.keys()]) stop(executionArn, stoppedWhileRunningError, stoppedWhileRunningCause);
      // A Task function cannot be cancelled: give in-flight ones a moment to finish their writes,
      // but never let one that hangs hold the shutdown.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.closeGraceMs ?? 2000)));
      await Promise.race([idle(), grace]);
      clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function compile(
  config: LocalStateMachine,
  retryIntervalScale: number | undefined,
  inFlight: Set<Promise<unknown>>,
): CompiledMachine {
  if (!validName.test(config.name)) throw new Error(`Invalid state machine name: '${config.name}'`);
  const handlerOf = new Map<string, { handler: TaskHandler; lambdaInvoke: boolean }>();
  for (const [state, task] of taskStates(config.definition)) {
    const invoked = invokedFunctionOf(task);
    const name = invoked === undefined ? undefined : functionNameOfArn(invoked);
    const handler = name === undefined ? undefined : config.functions[name];
    // Without a local function the interpreter would call the real AWS service.
    if (handler === undefined) throw new Error(`State machine ${config.name}: Task ${state} invokes no local function (${String(task['Resource'])})`);
    handlerOf.set(state, { handler, lambdaInvoke: invoked !== task['Resource'] });
  }
  // Validates the definition as written; the scaled copy only differs by interval numbers.
  let machine = new StateMachine(config.definition as unknown as StateMachineDefinition);
  if (retryIntervalScale !== undefined && retryIntervalScale !== 1) {
    machine = new StateMachine(scaleIntervals(config.definition, retryIntervalScale) as unknown as StateMachineDefinition);
  }
  const handlers: Record<string, (input: any) => Promise<any>> = {};
  for (const [state, { handler, lambdaInvoke }] of handlerOf) {
    handlers[state] = async (input: any) => {
      // The `lambda:invoke` integration passes `Payload` to the function and wraps its answer.
      const payload = lambdaInvoke ? (input?.Payload ?? null) : input;
      const call = invokeLikeLambda(handler, payload);
      inFlight.add(call);
      void call.then(
        () => inFlight.delete(call),
        () => inFlight.delete(call),
      );
      const result = await call;
      return lambdaInvoke ? lambdaInvokeResponse(result) : result;
    };
  }
  return {
    name: config.name,
    arn: localStateMachineArn(config.name),
    definition: config.definition,
    machine,
    handlers,
    roleArn: config.roleArn ?? localArn('iam', 'role/local'),
    creationDate: Date.now(),
  };
}

/** Keeps every event of the execution for GetExecutionHistory, and tells `onEvent` of each. */
async function recordEvents(
  executionArn: string,
  events: AsyncGenerator<ExecutionEvent>,
  histories: ExecutionHistories,
  onEvent: ((executionArn: string, event: ExecutionEvent) => void) | undefined,
  log: (message: string, detail?: unknown) => void,
): Promise<void> {
  try {
    for await (const event of events) {
      histories.add(executionArn, event);
      onEvent?.(executionArn, event);
    }
    histories.close(executionArn);
  } catch (error) {
    log(`Could not record the events of ${executionArn}`, error);
  }
}

/**
 * JSON in and out, as across Lambda's boundary; a throw becomes Lambda's error report, named
 * `Lambda.<type>` when Lambda itself refused the invocation (as Step Functions names it).
 */
async function invokeLikeLambda(handler: TaskHandler, input: unknown): Promise<unknown> {
  let result: unknown;
  try {
    result = await handler(JSON.parse(JSON.stringify(input ?? null)));
  } catch (error) {
    const { errorType, errorMessage, trace } =
      error instanceof InvocationError
        ? error.report
        : {
            errorType: error instanceof Error || (typeof error === 'object' && error !== null && typeof (error as Error).name === 'string') ? (error as Error).name : 'Error',
            errorMessage: error instanceof Error ? error.message : String(error),
            trace: error instanceof Error && typeof error.stack === 'string' ? error.stack.split('\n') : [],
          };
    const name = error instanceof InvocationError && error.by === 'lambda' ? `Lambda.${errorType}` : errorType;
    throw new TaskFunctionError(name, JSON.stringify({ errorType, errorMessage, trace }));
  }
  return result === undefined ? null : JSON.parse(JSON.stringify(result));
}

function lambdaInvokeResponse(payload: unknown): Record<string, unknown> {
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload as never,
    SdkHttpMetadata: { HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: randomUUID() },
    StatusCode: 200,
  };
}

/**
 * A copy of `definition` whose retriers and Wait states (those of a fixed `Seconds`) wait
 * `scale` times as long. A Wait's seconds may then be fractional, which the local
 * interpreter runs and the deployed definition never has.
 */
export function scaleIntervals(definition: Record<string, unknown>, scale: number): Record<string, unknown> {
  const copy = structuredClone(definition);
  const visit = (machine: Record<string, unknown>): void => {
    const states = (machine['States'] ?? {}) as Record<string, Record<string, unknown>>;
    for (const state of Object.values(states)) {
      if (state['Type'] === 'Wait' && typeof state['Seconds'] === 'number') state['Seconds'] *= scale;
      for (const retrier of (state['Retry'] as Record<string, unknown>[] | undefined) ?? []) {
        retrier['IntervalSeconds'] = ((retrier['IntervalSeconds'] as number | undefined) ?? 1) * scale;
        if (typeof retrier['MaxDelaySeconds'] === 'number') retrier['MaxDelaySeconds'] *= scale;
      }
      for (const branch of (state['Branches'] as Record<string, unknown>[] | undefined) ?? []) visit(branch);
      const processor = (state['ItemProcessor'] ?? state['Iterator']) as Record<string, unknown> | undefined;
      if (processor !== undefined) visit(processor);
    }
  };
  visit(copy);
  return copy;
}

function outcomeOfFailure(error: unknown, log: (message: string, detail?: unknown) => void, executionArn: string): Partial<ExecutionRecord> {
  if (error instanceof ExecutionAbortedError) {
    return { status: 'ABORTED' };
  }
  if (error instanceof ExecutionTimeoutError) {
    return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution ran longer than its TimeoutSeconds.' };
  }
  if (error instanceof ExecutionError && error.cause instanceof Error) {
    return { status: 'FAILED', error: error.cause.name, cause: error.cause.message };
  }
  log(`Execution ${executionArn} failed inside the local interpreter`, error);
  return { status: 'FAILED', error: 'States.Runtime', cause: error instanceof Error ? error.message : String(error) };
}

function describe(record: ExecutionRecord): Record<string, unknown> {
  const result: Record<string, unknown> = {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startDate),
    input: record.input,
    inputDetails: { included: true },
  };
  if (record.stopDate !== undefined) result['stopDate'] = seconds(record.stopDate);
  if (record.output !== undefined) {
    result['output'] = record.output;
    result['outputDetails'] = { included: true };
  }
  if (record.error !== undefined) result['error'] = record.error;
  if (record.cause !== undefined) result['cause'] = record.cause;
  return result;
}

/** Execution records, in memory and, with a data directory, in a JSON file there. */
class ExecutionStore {
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly file: string | undefined;

  constructor(dataDir: string | undefined) {
    if (dataDir === undefined) return;
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, 'stepfunctions-executions.json');
    if (!existsSync(this.file)) return;
    const saved = JSON.parse(readFileSync(this.file, 'utf8')) as { executions?: ExecutionRecord[] };
    const now = Date.now();
    for (const record of saved.executions ?? []) {
      // Its process died mid-run: nothing will ever finish it, so say so instead of RUNNING forever.
      const recovered: ExecutionRecord =
        record.status === 'RUNNING'
          ? { ...record, status: 'ABORTED', error: stoppedWhileRunningError, cause: stoppedWhileRunningCause, stopDate: now }
          : record;
      this.records.set(record.executionArn, recovered);
    }
    this.save();
  }

  get(executionArn: string): ExecutionRecord | undefined {
    return this.records.get(executionArn);
  }

  all(): ExecutionRecord[] {
    return [...this.records.values()];
  }

  put(record: ExecutionRecord): void {
    this.records.set(record.executionArn, record);
    this.save();
  }

  private save(): void {
    if (this.file === undefined) return;
    // Written whole and renamed, so a crash mid-write leaves the previous file intact.
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify({ version: 1, executions: this.all() }));
    renameSync(temporary, this.file);
  }
}

async function handleRequest(
  request: IncomingMessage,
  response: ServerResponse,
  operations: Record<string, (body: Record<string, unknown>) => Record<string, unknown>>,
  log: (message: string, detail?: unknown) => void,
): Promise<void> {
  const requestId = randomUUID();
  const send = (status: number, payload: unknown): void => {
    const body = JSON.stringify(payload);
    response.writeHead(status, {
      'Content-Type': 'application/x-amz-json-1.0',
      'Content-Length': Buffer.byteLength(body),
      'x-amzn-RequestId': requestId,
    });
    response.end(body);
  };
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AWSStepFunctions.') ? operations[target.slice('AWSStepFunctions.'.length)] : undefined;
    if (request.method !== 'POST' || operation === undefined) {
      throw new ServiceError('UnknownOperationException', `Unknown operation: '${target}'`);
    }
    let body: unknown;
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new ServiceError('SerializationException', 'The request body is not valid JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ServiceError('SerializationException', 'The request body must be a JSON object');
    }
    send(200, operation(body as Record<string, unknown>));
  } catch (error) {
    if (error instanceof ServiceError) {
      send(error.httpStatus, { __type: error.type, message: error.message });
    } else {
      log('Step Functions local: internal error', error);
      send(500, { __type: 'InternalFailure', message: error instanceof Error ? error.message : String(error) });
    }
  }
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new ServiceError('ValidationException', `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ServiceError('ValidationException', `'${field}' must be a string`);
  return value;
}

function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const offset = Number(Buffer.from(token, 'base64').toString('utf8'));
  if (!Number.isInteger(offset) || offset < 0) throw new ServiceError('InvalidToken', `Invalid Token: '${token}'`);
  return offset;
}

/** AWS JSON 1.0 sends timestamps as epoch seconds. */
function seconds(epochMs: number): number {
  return epochMs / 1000;
}
