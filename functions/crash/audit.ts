import { EnvVar, optionalEnv } from '../config/env.ts';
import type { Boundary } from './crash-points.ts';
import { crashHost } from './host.ts';
import { currentInvocation } from './invocation.ts';

/**
 * A state-changing call reached AWS or the provider inside a function without passing a crash
 * point of its kind: a boundary the crash matrix would never crash. Test infrastructure only.
 */
export class UnguardedCallError extends Error {
  override readonly name = 'UnguardedCall';
}

/** Every unguarded call seen in this process, whichever copy of this module saw it. */
const violations: string[] = ((globalThis as { __chargeonceAuditViolations?: string[] }).__chargeonceAuditViolations ??= []);

/**
 * Where every state-changing call passes on its way out (the AWS clients' middleware, the
 * Stripe client's HTTP client): with `CRASH_AUDIT` set, a call made inside a function
 * invocation must be inside a crash boundary of its own kind, or it is refused and recorded.
 * A call outside any invocation (the local stack's setup, a merchant's creation) is not a
 * function's and is not audited.
 */
export function auditStateChange(boundary: Boundary, call: string): void {
  if (optionalEnv(EnvVar.CrashAudit) === undefined) return;
  const invocation = currentInvocation();
  if (invocation === undefined || invocation.boundary === boundary) return;
  const where = invocation.boundary === undefined ? 'outside any crash point' : `inside a ${invocation.boundary} crash point`;
  const violation = `${call} in ${invocation.fn}, ${where}: wrap the port it goes through (functions/crash/crashing-ports.ts)`;
  violations.push(violation);
  crashHost()?.refused(violation);
  // Loud even where the error is caught (a sweep's one cart, a start left to the reconciler).
  console.error(`${EnvVar.CrashAudit}: ${violation}`);
  throw new UnguardedCallError(violation);
}

/** The unguarded calls seen so far; a suite run in audit mode expects none. */
export function auditViolations(): readonly string[] {
  return [...violations];
}
