/**
 * The Lambda host: runs each function of the assembly from its bundle, as Lambda runs it.
 * Every instance is a worker thread of its own (its own globals, module state and
 * `process.env`: exactly the environment it is given), serves one invocation at a time, and
 * lives on warm between them. A function gets more instances when its invocations overlap, up
 * to its reserved concurrency (past which Lambda throttles) or the host's own limit per
 * function (past which invocations queue: a machine's limit, not the function's). An instance
 * whose invocation timed out or whose process died (a crash point) is discarded; the next
 * invocation starts a new one, cold.
 */
import { performance } from 'node:perf_hooks';
import { PROCESS_EXIT_ERROR_NAME } from '../../functions/domain/errors.ts';
import type { CrashSwitch } from './crash-switch.ts';
import { InProcessInstance } from './in-process-instance.ts';
import { FunctionInstance } from './instance.ts';
import { InvocationError } from './invocation-error.ts';

/** A function as the host runs it. */
export interface HostedFunction {
  /** `AWS_LAMBDA_FUNCTION_NAME`; what invocations name it by. */
  readonly name: string;
  readonly arn: string;
  readonly codeDir: string;
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: number;
  /** Every variable its instances see, and no other (see environment.ts). */
  readonly environment: Readonly<Record<string, string>>;
}

export interface LambdaHostOptions {
  readonly functions: readonly HostedFunction[];
  /**
   * Instances of one function at most, when it reserves no concurrency of its own. Default
   * {@link DEFAULT_MAX_INSTANCES}: on two cores, ten instances of each of several functions
   * starting at once starve DynamoDB Local past the functions' one-second request timeout.
   */
  readonly maxInstancesPerFunction?: number;
  /** The crash switches, handed to every invocation; absent, no function has them. */
  readonly crash?: CrashSwitch;
  /** Each line a function logs, as it logs it. */
  readonly onLog?: (functionName: string, line: string) => void;
  /**
   * `worker-threads` (the default): each instance a thread of its own. `none`: a benchmark's
   * baseline, each instance imported into the host's thread (see in-process-instance.ts).
   */
  readonly isolation?: 'worker-threads' | 'none';
}

type Instance = FunctionInstance | InProcessInstance;

/** What the host measured of one function. */
export interface FunctionStats {
  readonly name: string;
  readonly invocations: number;
  readonly memoryMb: number;
  /** The handlers' own time over the invocations that returned, in ms: what Lambda bills as duration (besides a cold start's init). */
  readonly handlerMs: number;
  /** Each cold start: from starting the thread to the bundle imported, in ms. */
  readonly coldStartsMs: readonly number[];
  /** Per warm invocation: its time through the host minus the handler's own, in ms. */
  readonly warmOverheadsMs: readonly number[];
}

const DEFAULT_MAX_INSTANCES = 4;

/** Lines of each function's log kept for {@link LambdaHost.logs}. */
const LOG_LINES_KEPT = 2000;

interface Pool {
  readonly fn: HostedFunction;
  readonly idle: Instance[];
  /** Instances starting or serving. */
  active: number;
  readonly waiting: (() => void)[];
  readonly log: string[];
  invocations: number;
  handlerMs: number;
  readonly coldStartsMs: number[];
  readonly warmOverheadsMs: number[];
}

export class LambdaHost {
  private readonly pools = new Map<string, Pool>();
  private stopped = false;

  constructor(private readonly options: LambdaHostOptions) {
    for (const fn of options.functions) {
      this.pools.set(fn.name, { fn, idle: [], active: 0, waiting: [], log: [], invocations: 0, handlerMs: 0, coldStartsMs: [], warmOverheadsMs: [] });
    }
  }

  /** The function named `name`, as the host runs it. */
  function(name: string): HostedFunction {
    return this.pool(name).fn;
  }

  /**
   * Invokes `name` with `event` (a synchronous Invoke): resolves with what its handler
   * returned, through JSON, or rejects with an {@link InvocationError}, as Lambda reports it.
   */
  async invoke(name: string, event: unknown): Promise<unknown> {
    const pool = this.pool(name);
    const { instance, cold } = await this.acquire(pool);
    pool.invocations += 1;
    let reusable = true;
    try {
      const begun = performance.now();
      const { payload, handlerMs } = await instance.invoke(event, this.options.crash?.environment() ?? {});
      pool.handlerMs += handlerMs;
      if (!cold) pool.warmOverheadsMs.push(performance.now() - begun - handlerMs);
      return JSON.parse(payload) as unknown;
    } catch (error) {
      // A process that died (a crash point does) takes its instance with it.
      reusable = instance.alive && !(error instanceof InvocationError && error.errorType === PROCESS_EXIT_ERROR_NAME);
      throw error;
    } finally {
      await this.release(pool, instance, reusable);
    }
  }

  /** The last lines `name` logged (Lambda's log group of it), oldest first. */
  logs(name: string): readonly string[] {
    return [...this.pool(name).log];
  }

  stats(): FunctionStats[] {
    return [...this.pools.values()].map((pool) => ({
      name: pool.fn.name,
      invocations: pool.invocations,
      memoryMb: pool.fn.memoryMb,
      handlerMs: pool.handlerMs,
      coldStartsMs: [...pool.coldStartsMs],
      warmOverheadsMs: [...pool.warmOverheadsMs],
    }));
  }

  /** Kills every instance; invocations still running fail as their instances died. */
  async stop(): Promise<void> {
    this.stopped = true;
    const instances = [...this.pools.values()].flatMap((pool) => pool.idle.splice(0));
    for (const pool of this.pools.values()) for (const wake of pool.waiting.splice(0)) wake();
    await Promise.all(instances.map((instance) => instance.terminate()));
  }

  private pool(name: string): Pool {
    const pool = this.pools.get(name);
    if (pool === undefined) throw new InvocationError({ errorType: 'ResourceNotFoundException', errorMessage: `Function not found: ${name}`, trace: [] }, 'lambda');
    return pool;
  }

  private async acquire(pool: Pool): Promise<{ instance: Instance; cold: boolean }> {
    for (;;) {
      if (this.stopped) throw new InvocationError({ errorType: 'ServiceException', errorMessage: 'the local stack is stopping', trace: [] }, 'lambda');
      const warm = pool.idle.pop();
      if (warm !== undefined) {
        if (warm.alive) return { instance: warm, cold: false };
        pool.active -= 1;
        continue;
      }
      const reserved = pool.fn.reservedConcurrency;
      if (reserved !== undefined && pool.active >= reserved) {
        throw new InvocationError({ errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.', trace: [] }, 'lambda');
      }
      if (pool.active < (reserved ?? this.options.maxInstancesPerFunction ?? DEFAULT_MAX_INSTANCES)) return { instance: await this.startInstance(pool), cold: true };
      await new Promise<void>((wake) => pool.waiting.push(wake));
    }
  }

  private async startInstance(pool: Pool): Promise<Instance> {
    const { fn } = pool;
    pool.active += 1;
    const begun = performance.now();
    try {
      const crash = this.options.crash;
      const start = this.options.isolation === 'none' ? InProcessInstance.start : FunctionInstance.start;
      const instance = await start({
        setup: {
          codeDir: fn.codeDir,
          handler: fn.handler,
          functionName: fn.name,
          functionArn: fn.arn,
          memoryMb: fn.memoryMb,
          timeoutMs: fn.timeoutSeconds * 1000,
          logGroupName: `/aws/lambda/${fn.name}`,
          enableSourceMaps: (fn.environment['NODE_OPTIONS'] ?? '').split(/\s+/).includes('--enable-source-maps'),
          ...(crash !== undefined && { crash: crash.sharing }),
        },
        environment: { ...fn.environment, ...definedOnly(crash?.environment() ?? {}) },
        onLog: (line) => this.logLine(pool, line),
        onNotice: (message) => {
          if (message.type === 'audit-violation') crash?.recordRefusal(message.violation);
        },
      });
      pool.coldStartsMs.push(performance.now() - begun);
      return instance;
    } catch (error) {
      pool.active -= 1;
      this.wakeOne(pool);
      throw error;
    }
  }

  private async release(pool: Pool, instance: Instance, reusable: boolean): Promise<void> {
    if (reusable && !this.stopped) {
      pool.idle.push(instance);
    } else {
      pool.active -= 1;
      await instance.terminate();
    }
    this.wakeOne(pool);
  }

  private wakeOne(pool: Pool): void {
    pool.waiting.shift()?.();
  }

  private logLine(pool: Pool, line: string): void {
    pool.log.push(line);
    if (pool.log.length > LOG_LINES_KEPT) pool.log.splice(0, pool.log.length - LOG_LINES_KEPT);
    this.options.onLog?.(pool.fn.name, line);
  }
}

function definedOnly(environment: Readonly<Record<string, string | null>>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== null));
}
