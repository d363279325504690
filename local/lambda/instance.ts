/**
 * One instance of a function: a worker thread running bootstrap.ts on the function's bundle,
 * with its own `process.env` and module state. It serves one invocation at a time, enforces
 * the function's timeout (past it the thread is killed, as Lambda discards the sandbox), and
 * dies with its thread.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { workerScript } from '../worker-script.ts';
import { InvocationError } from './invocation-error.ts';
import { type ErrorReport, type InstanceMessage, type InstanceSetup, type InvokeMessage, TIMED_OUT_ERROR } from './protocol.ts';

export interface InstanceOptions {
  readonly setup: InstanceSetup;
  /** Exactly the instance's `process.env`. */
  readonly environment: Readonly<Record<string, string>>;
  /** Each line the function writes to stdout or stderr (its log). */
  readonly onLog: (line: string) => void;
  /** A message that is not an invocation's answer (the crash audit's reports). */
  readonly onNotice: (message: InstanceMessage) => void;
}

export interface InvocationResult {
  /** The handler's result as JSON text. */
  readonly payload: string;
  readonly handlerMs: number;
}

export class FunctionInstance {
  private running: { requestId: string; settle: (outcome: InvocationResult | InvocationError) => void } | undefined;
  private dead: ErrorReport | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly options: InstanceOptions,
    private readonly log: LogLines,
    /** How long its bundle took to import (Lambda's Init Duration). */
    readonly initMs: number,
  ) {
    worker.on('message', (message: InstanceMessage) => this.onMessage(message));
    worker.on('error', (error) => this.die(errorOfThread(error)));
    worker.on('exit', (code) => this.die({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: exit status ${code}`, trace: [] }));
  }

  /** Starts an instance and resolves once its bundle is imported; rejects with the error Lambda reports for a failed init. */
  static start(options: InstanceOptions): Promise<FunctionInstance> {
    const worker = new Worker(workerScript(path.join(import.meta.dirname, 'bootstrap.ts')), {
      eval: true,
      workerData: options.setup,
      env: { ...options.environment },
      // Not the host's flags (tsx, vitest's): the function's runtime is plain Node.
      execArgv: [],
      // Its output comes through its port (bootstrap.ts), never onto the host's terminal.
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: options.setup.memoryMb },
    });
    // An idle instance must not keep the host's process alive by itself.
    worker.unref();
    const log = new LogLines(options.onLog);
    return new Promise((resolve, reject) => {
      const fail = (report: ErrorReport) => {
        log.flush();
        void worker.terminate();
        reject(new InvocationError(report));
      };
      const onMessage = (message: InstanceMessage) => {
        if (message.type === 'log') {
          log.add(message.text);
        } else if (message.type === 'ready') {
          cleanUp();
          resolve(new FunctionInstance(worker, options, log, message.initMs));
        } else if (message.type === 'init-failed') {
          cleanUp();
          fail(message);
        } else {
          options.onNotice(message);
        }
      };
      const onError = (error: Error) => {
        cleanUp();
        fail(errorOfThread(error));
      };
      const onExit = (code: number) => {
        cleanUp();
        fail({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: exit status ${code}`, trace: [] });
      };
      const cleanUp = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  /**
   * Runs the handler on `event` with `environment` applied first; resolves with its result or
   * rejects with the error Lambda reports. Past the function's timeout the thread is killed and
   * the invocation fails `Sandbox.Timedout`.
   */
  invoke(event: unknown, environment: Readonly<Record<string, string | null>>): Promise<InvocationResult> {
    if (this.running !== undefined) throw new Error('an instance serves one invocation at a time');
    if (this.dead !== undefined) return Promise.reject(new InvocationError(this.dead));
    const requestId = randomUUID();
    const timeoutMs = this.options.setup.timeoutMs;
    return new Promise<InvocationResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        const seconds = (timeoutMs / 1000).toFixed(2);
        this.log.flush();
        this.options.onLog(`${new Date().toISOString()} ${requestId} Task timed out after ${seconds} seconds`);
        this.die({ errorType: TIMED_OUT_ERROR, errorMessage: `Task timed out after ${seconds} seconds`, trace: [] });
      }, timeoutMs);
      this.running = {
        requestId,
        settle: (outcome) => {
          clearTimeout(timer);
          this.running = undefined;
          if (outcome instanceof InvocationError) reject(outcome);
          else resolve(outcome);
        },
      };
      const message: InvokeMessage = { type: 'invoke', requestId, event: JSON.stringify(event ?? null), environment };
      this.worker.postMessage(message);
    });
  }

  /** Kills the thread; an invocation still running fails as its instance died. */
  async terminate(): Promise<void> {
    this.die({ errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with error: the instance was stopped', trace: [] });
    await this.worker.terminate();
  }

  private onMessage(message: InstanceMessage): void {
    if (message.type === 'log') {
      this.log.add(message.text);
    } else if ((message.type === 'result' || message.type === 'error') && message.requestId === this.running?.requestId) {
      this.running.settle(
        message.type === 'result'
          ? { payload: message.payload, handlerMs: message.handlerMs }
          : new InvocationError({ errorType: message.errorType, errorMessage: message.errorMessage, trace: message.trace }),
      );
    } else {
      this.options.onNotice(message);
    }
  }

  private die(report: ErrorReport): void {
    if (this.dead !== undefined) return;
    this.dead = report;
    this.log.flush();
    void this.worker.terminate();
    this.running?.settle(new InvocationError(report));
  }
}

/** What Lambda reports when the runtime's process dies of an uncaught error (or runs out of memory). */
function errorOfThread(error: Error): ErrorReport {
  if ((error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return { errorType: 'Runtime.OutOfMemory', errorMessage: 'Runtime exited with error: out of memory', trace: [] };
  }
  return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
}

/** Splits what a function writes into its log's lines. */
class LogLines {
  private pending = '';

  constructor(private readonly onLine: (line: string) => void) {}

  add(text: string): void {
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
  }

  /** A last line the function did not end (it died writing it). */
  flush(): void {
    if (this.pending !== '') this.onLine(this.pending);
    this.pending = '';
  }
}
