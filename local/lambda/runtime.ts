/** What Lambda's Node.js runtime does for every function, wherever the host runs its instance. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { InstanceSetup } from './protocol.ts';

/** `index.handler` → the export `handler` of `index.mjs` (or `.js`, `.cjs`) in the code directory; `file` absent when none exists. */
export function handlerModule(setup: Pick<InstanceSetup, 'codeDir' | 'handler'>): { moduleName: string; exportName: string; file: string | undefined } {
  const dot = setup.handler.lastIndexOf('.');
  const moduleName = setup.handler.slice(0, dot);
  const file = ['.mjs', '.js', '.cjs'].map((extension) => path.join(setup.codeDir, `${moduleName}${extension}`)).find(existsSync);
  return { moduleName, exportName: setup.handler.slice(dot + 1), file };
}

/** The context object the runtime hands the handler with each event. */
export function lambdaContext(setup: InstanceSetup, requestId: string) {
  const deadline = Date.now() + setup.timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: setup.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: setup.functionArn,
    memoryLimitInMB: String(setup.memoryMb),
    awsRequestId: requestId,
    logGroupName: setup.logGroupName,
    logStreamName: `local/[$LATEST]${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
