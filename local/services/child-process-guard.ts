/**
 * Keeps a child process from outliving this one: a Java process left behind would keep its
 * port, and the next start would fail on it.
 */
import type { ChildProcess } from 'node:child_process';

const guarded = new Set<ChildProcess>();
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function killAll(): void {
  for (const child of guarded) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  guarded.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // When someone else handles the signal (a graceful shutdown), leave it to them: they call
  // stop(), or exit and the 'exit' hook below kills the child. Alone, restore the default:
  // kill the children, then die of the same signal.
  if (process.listenerCount(signal) > 1) return;
  killAll();
  for (const name of signals) process.removeListener(name, onSignal);
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAll);
  for (const signal of signals) process.on(signal, onSignal);
}

/**
 * Kills `child` with SIGKILL when this process exits or dies of SIGINT/SIGTERM/SIGHUP.
 * @returns a function that stops guarding it (call it once the child has been stopped).
 */
export function killOnExit(child: ChildProcess): () => void {
  install();
  guarded.add(child);
  child.once('exit', () => guarded.delete(child));
  return () => {
    guarded.delete(child);
  };
}
