/**
 * A function instance, inside its worker thread (its own globals, module graph and
 * `process.env`): what Lambda's Node.js runtime does. It imports the bundle once (the cold
 * start), then calls the handler for each invocation the host sends, one at a time, with a
 * Lambda context, and reports the result or the error as Lambda reports it. The host compiles
 * this file and runs it as the worker's script; it imports nothing of the project at run time.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { CrashHost } from '../../functions/crash/host.ts';
import {
  type ErrorReport,
  HANDLER_NOT_FOUND,
  IMPORT_MODULE_ERROR,
  type InstanceMessage,
  type InstanceSetup,
  type InvokeMessage,
  USER_CODE_SYNTAX_ERROR,
} from './protocol.ts';
import { handlerModule, lambdaContext } from './runtime.ts';

type Handler = (event: unknown, context: unknown) => unknown;

const setup = workerData as InstanceSetup;
const port = parentPort!;
const post = (message: InstanceMessage): void => port.postMessage(message);

class RuntimeError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly trace: readonly string[] = [],
  ) {
    super(message);
  }
}

/**
 * The function's log goes to the host through the same port as its answers, so that every line
 * an invocation wrote is in the host's log before the invocation's answer (a worker's own stdout
 * reaches the host on a channel of its own, after an answer at times).
 */
function sendOutputThroughPort(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      post({ type: 'log', text: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') });
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
}

function reportOf(error: unknown): ErrorReport {
  if (error instanceof RuntimeError) return { errorType: error.name, errorMessage: error.message, trace: error.trace };
  if (error instanceof Error) return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

/** `index.handler` → the export `handler` of `index.mjs` (or `.js`, `.cjs`) in the code directory. */
async function loadHandler(): Promise<Handler> {
  const { moduleName, exportName, file } = handlerModule(setup);
  if (file === undefined) throw new RuntimeError(IMPORT_MODULE_ERROR, `Error: Cannot find module '${moduleName}'`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const { errorType, errorMessage, trace } = reportOf(error);
    throw new RuntimeError(error instanceof SyntaxError ? USER_CODE_SYNTAX_ERROR : IMPORT_MODULE_ERROR, `${errorType}: ${errorMessage}`, trace);
  }
  const handler = module[exportName];
  if (typeof handler !== 'function') throw new RuntimeError(HANDLER_NOT_FOUND, `${moduleName}.${exportName} is undefined or not exported`);
  return handler as Handler;
}

/** Lambda's log line for an error it reports. */
function logError(requestId: string, phase: string, report: ErrorReport): void {
  const line = JSON.stringify({ errorType: report.errorType, errorMessage: report.errorMessage, stack: report.trace });
  console.error(`${new Date().toISOString()}\t${requestId}\tERROR\t${phase}\t${line}`);
}

function installCrashHost(): void {
  if (setup.crash === undefined) return;
  const counts = new Int32Array(setup.crash.counts);
  const index = new Map(setup.crash.points.map((point, i) => [point, i]));
  const host: CrashHost = {
    cross(point) {
      const at = index.get(point);
      if (at === undefined) throw new Error(`the host counts no crash point ${point}`);
      return Atomics.add(counts, at, 1) + 1;
    },
    refused: (violation) => post({ type: 'audit-violation', violation }),
  };
  (globalThis as Record<string, unknown>)[setup.crash.global] = host;
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<void> {
  for (const [name, value] of Object.entries(message.environment)) {
    if (value === null) delete process.env[name];
    else process.env[name] = value;
  }
  const begun = performance.now();
  try {
    const result = await handler(JSON.parse(message.event), lambdaContext(setup, message.requestId));
    const handlerMs = performance.now() - begun;
    let payload: string;
    try {
      payload = JSON.stringify(result ?? null);
    } catch (error) {
      throw new RuntimeError('Runtime.MarshalError', `Unable to marshal response: ${reportOf(error).errorMessage}`);
    }
    post({ type: 'result', requestId: message.requestId, payload, handlerMs });
  } catch (error) {
    const report = reportOf(error);
    logError(message.requestId, 'Invoke Error', report);
    post({ type: 'error', requestId: message.requestId, handlerMs: performance.now() - begun, ...report });
  }
}

if (setup.enableSourceMaps) process.setSourceMapsEnabled(true);
sendOutputThroughPort();
installCrashHost();
const begun = performance.now();
loadHandler().then(
  (handler) => {
    port.on('message', (message: InvokeMessage) => void invoke(handler, message));
    post({ type: 'ready', initMs: performance.now() - begun });
  },
  (error: unknown) => {
    const report = reportOf(error);
    logError('INIT', 'Init Error', report);
    post({ type: 'init-failed', ...report });
  },
);
