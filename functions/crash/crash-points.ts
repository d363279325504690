import { EnvVar } from '../config/env.ts';
import { PROCESS_EXIT_ERROR_NAME } from '../domain/errors.ts';

/**
 * Every boundary where a process can die, by the function it runs in. A crash point is
 * `<function>:<boundary>`; the crash matrix test runs every one of them, so a point exists
 * here or nowhere (`crashAt` accepts no other name).
 */
export const crashBoundaries = {
  'create-payment': ['before-write', 'after-write', 'before-start', 'after-start'],
  authorize: ['before-provider', 'after-provider', 'before-write', 'after-write'],
  'record-authorization': ['before-write', 'after-write'],
  capture: ['before-provider', 'after-provider'],
  'mark-succeeded': ['before-write', 'after-write'],
  'void-authorization': ['before-provider', 'after-provider'],
  'mark-failed': ['before-write', 'after-write'],
  checkout: ['before-write', 'after-write', 'before-start', 'after-start'],
  'settle-cart': ['before-write', 'after-write'],
  reconciler: ['before-write', 'after-write', 'before-start', 'after-start', 'before-provider', 'after-provider'],
  'create-refund': ['before-write', 'after-write', 'before-start', 'after-start'],
  'submit-refund': ['before-provider', 'after-provider'],
  'check-refund': ['before-write', 'after-write'],
  'record-refund': ['before-write', 'after-write'],
  'mark-refund-failed': ['before-write', 'after-write'],
} as const;

export type CrashFunction = keyof typeof crashBoundaries;
export type CrashBoundary = (typeof crashBoundaries)[CrashFunction][number];
export type CrashPoint = {
  [F in CrashFunction]: `${F}:${(typeof crashBoundaries)[F][number]}`;
}[CrashFunction];

export const crashPoints: readonly CrashPoint[] = Object.entries(crashBoundaries).flatMap(([fn, boundaries]) =>
  boundaries.map((boundary) => `${fn}:${boundary}` as CrashPoint),
);

/**
 * What a killed Lambda reports: its process exited mid-invocation. Neither retried nor caught
 * by the state machine; the execution fails and the reconciler resumes the payment.
 */
export class SimulatedCrash extends Error {
  override readonly name = PROCESS_EXIT_ERROR_NAME;
  constructor(readonly point: CrashPoint) {
    super(`simulated crash at ${point} (${EnvVar.CrashAt})`);
  }
}

/** Crashes already fired, shared by every copy of this module in the process. */
const fired: Set<string> = ((globalThis as { __chargeonceCrashesFired?: Set<string> }).__chargeonceCrashesFired ??=
  new Set());

/**
 * Dies here if `CRASH_AT` names this point. Each configured point fires once per value of
 * `CRASH_AT`, as a real crash does: the process that restarts runs through. A `#tag` suffix on
 * the value (`authorize:after-provider#run-2`) arms the same point again.
 */
export function crashAt(point: CrashPoint): void {
  const configured = process.env[EnvVar.CrashAt];
  if (!configured) return;
  const [list = '', tag = ''] = configured.split('#');
  if (!list.split(',').includes(point)) return;
  const key = `${point}#${tag}`;
  if (fired.has(key)) return;
  fired.add(key);
  throw new SimulatedCrash(point);
}

/** Whether the crash at `point` fired under the current `CRASH_AT` value (for tests and the demo). */
export function crashFired(point: CrashPoint): boolean {
  const [, tag = ''] = (process.env[EnvVar.CrashAt] ?? '').split('#');
  return fired.has(`${point}#${tag}`);
}
