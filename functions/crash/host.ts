/**
 * A host that runs each function in an isolated instance (the local stack's Lambda host: one
 * worker thread per instance) puts one of these on globalThis before the function's code loads,
 * so that crash points count crossings across all its instances (`point@N` is the Nth crossing
 * in the whole stack, not in one instance) and the audit's refusals reach it. Without one, as
 * in a test that calls handlers in its own process, both stay in this process.
 */
export interface CrashHost {
  /** Counts a crossing of `point` under the current `CRASH_AT` value's `tag`, and returns which crossing it is (1 for the first). */
  cross(point: string, tag: string): number;
  /** Told each state-changing call the audit refused (functions/crash/audit.ts). */
  refused(violation: string): void;
}

/** The globalThis property a host sets. */
export const CRASH_HOST_GLOBAL = '__chargeonceCrashHost';

export function crashHost(): CrashHost | undefined {
  return (globalThis as { [CRASH_HOST_GLOBAL]?: CrashHost })[CRASH_HOST_GLOBAL];
}
