/**
 * What local processes leave on disk about themselves (a pid in a lock file, a provider's
 * address): read back by the next start, which must tell a live owner from a dead one.
 */
import { readFileSync } from 'node:fs';

/** Whether a process with this pid runs (a lock's or a data folder's owner that died leaves one that does not). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The JSON in `file`, or undefined when there is none or it is not JSON. */
export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
