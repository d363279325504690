import { AsyncLocalStorage } from 'node:async_hooks';
import { type Boundary, type CrashFunction, crashTesting } from './crash-points.ts';

/**
 * Which function an invocation runs, and which crash boundary it is inside, if any: what the
 * wrapped ports read to name their crash points, and what the audit checks a state-changing
 * call against. Kept only while crash points or the audit are live, so a deployed function
 * pays nothing for it.
 */
export interface Invocation {
  readonly fn: CrashFunction;
  readonly boundary?: Boundary;
}

/** One store per process, whichever copy of this module asks (the local stack runs every function in one process). */
const context: AsyncLocalStorage<Invocation> = ((globalThis as { __chargeonceInvocation?: AsyncLocalStorage<Invocation> })
  .__chargeonceInvocation ??= new AsyncLocalStorage<Invocation>());

/** Runs one invocation of `fn` (a handler's whole body). */
export function asInvocationOf<R>(fn: CrashFunction, run: () => R): R {
  return crashTesting() ? context.run({ fn }, run) : run();
}

export function currentInvocation(): Invocation | undefined {
  return context.getStore();
}

/** Runs `call` as the crossing of `boundary` that the invocation's crash points stand around. */
export function insideBoundary<R>(invocation: Invocation, boundary: Boundary, call: () => R): R {
  return context.run({ ...invocation, boundary }, call);
}
