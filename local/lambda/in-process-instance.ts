/**
 * An instance without isolation, for a benchmark's baseline only: the function's bundle is
 * imported into the host's own thread (its own module state still: each instance imports it
 * anew), every function shares the host's `process.env` (each writes its variables there before
 * it runs), and nothing bounds its time. What the worker-thread instance costs is measured
 * against this; nothing else may run a stack this way, since a function could then see
 * another's variables and outlive its timeout.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { InstanceOptions, InvocationResult } from './instance.ts';
import { InvocationError } from './invocation-error.ts';
import { HANDLER_NOT_FOUND, IMPORT_MODULE_ERROR } from './protocol.ts';
import { handlerModule, lambdaContext } from './runtime.ts';

type Handler = (event: unknown, context: unknown) => unknown;

let imports = 0;

export class InProcessInstance {
  readonly alive = true;

  private constructor(
    private readonly options: InstanceOptions,
    private readonly handler: Handler,
    readonly initMs: number,
  ) {}

  static async start(options: InstanceOptions): Promise<InProcessInstance> {
    Object.assign(process.env, options.environment);
    const { moduleName, exportName, file } = handlerModule(options.setup);
    if (file === undefined) throw new InvocationError({ errorType: IMPORT_MODULE_ERROR, errorMessage: `Error: Cannot find module '${moduleName}'`, trace: [] });
    const begun = performance.now();
    imports += 1;
    // A query of its own makes the import a module instance of its own.
    const module = (await import(`${pathToFileURL(file).href}?instance=${imports}`)) as Record<string, unknown>;
    const handler = module[exportName];
    if (typeof handler !== 'function') throw new InvocationError({ errorType: HANDLER_NOT_FOUND, errorMessage: `${moduleName}.${exportName} is undefined or not exported`, trace: [] });
    return new InProcessInstance(options, handler as Handler, performance.now() - begun);
  }

  async invoke(event: unknown, environment: Readonly<Record<string, string | null>>): Promise<InvocationResult> {
    Object.assign(process.env, this.options.environment);
    for (const [name, value] of Object.entries(environment)) {
      if (value === null) delete process.env[name];
      else process.env[name] = value;
    }
    const begun = performance.now();
    try {
      const result = await this.handler(JSON.parse(JSON.stringify(event ?? null)), lambdaContext(this.options.setup, randomUUID()));
      return { payload: JSON.stringify(result ?? null), handlerMs: performance.now() - begun };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      throw new InvocationError({ errorType: failure.name, errorMessage: failure.message, trace: (failure.stack ?? '').split('\n') });
    }
  }

  async terminate(): Promise<void> {}
}
