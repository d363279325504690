/**
 * What the Lambda host and a function instance (a worker thread running bootstrap.ts) say to
 * each other: the instance's set-up, invocations, and what it answers.
 */

/** An instance's set-up: which bundle it runs and what Lambda tells the function about itself. */
export interface InstanceSetup {
  readonly codeDir: string;
  /** `index.handler`: the module in `codeDir` (`.mjs`, `.js` or `.cjs`) and its export. */
  readonly handler: string;
  readonly functionName: string;
  readonly functionArn: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  readonly logGroupName: string;
  /** `NODE_OPTIONS` asks for it (Lambda's Node honours the flag; a worker thread turns it on itself). */
  readonly enableSourceMaps: boolean;
  /** Shared with every instance, so crash points count crossings across all of them (see crash-switch.ts). */
  readonly crash?: CrashSharing;
}

export interface CrashSharing {
  /** The globalThis property functions/crash/host.ts reads. */
  readonly global: string;
  /** One crossing counter per crash point, in the order of `points`. */
  readonly counts: SharedArrayBuffer;
  readonly points: readonly string[];
}

/** Host → instance: run the handler once. */
export interface InvokeMessage {
  readonly type: 'invoke';
  readonly requestId: string;
  /** The event, as JSON text (what Lambda hands a function is what JSON carries). */
  readonly event: string;
  /** Variables set (a string) or removed (null) for this invocation and those after: the crash switches. */
  readonly environment: Readonly<Record<string, string | null>>;
}

/** What Lambda reports of a failed invocation, and Step Functions sees as the error and cause. */
export interface ErrorReport {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** Instance → host. */
export type InstanceMessage =
  | { readonly type: 'ready'; readonly initMs: number }
  | ({ readonly type: 'init-failed' } & ErrorReport)
  /** The handler's result as JSON text (`null` for undefined), and how long the handler ran. */
  | { readonly type: 'result'; readonly requestId: string; readonly payload: string; readonly handlerMs: number }
  | ({ readonly type: 'error'; readonly requestId: string; readonly handlerMs: number } & ErrorReport)
  /** Text the function wrote to stdout or stderr (its log), in pieces as written. */
  | { readonly type: 'log'; readonly text: string }
  /** A state-changing call the crash audit refused (functions/crash/audit.ts), reported as it happens. */
  | { readonly type: 'audit-violation'; readonly violation: string };

/** What Lambda reports when a module cannot be loaded, or a handler throws at import. */
export const IMPORT_MODULE_ERROR = 'Runtime.ImportModuleError';
export const HANDLER_NOT_FOUND = 'Runtime.HandlerNotFound';
export const USER_CODE_SYNTAX_ERROR = 'Runtime.UserCodeSyntaxError';
export const TIMED_OUT_ERROR = 'Sandbox.Timedout';
