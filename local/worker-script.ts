/**
 * A worker thread runs JavaScript, and the local stack is TypeScript run by tsx: each worker's
 * entry is bundled once per process, with what it imports, into the script the worker evals.
 */
import { buildSync } from 'esbuild';

const compiled = new Map<string, string>();

export function workerScript(entryFile: string): string {
  let code = compiled.get(entryFile);
  if (code === undefined) {
    code = buildSync({
      entryPoints: [entryFile],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      write: false,
      logLevel: 'error',
    }).outputFiles[0]!.text;
    compiled.set(entryFile, code);
  }
  return code;
}
