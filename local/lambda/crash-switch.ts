/**
 * The stack's crash switches (functions/crash/): `CRASH_AT` and `CRASH_AUDIT` reach a function
 * only through here, never from the template. The host hands them to every invocation, so a
 * test case's setting takes effect at the next invocation of a warm instance (no instance is
 * restarted per case). Crossings are counted in memory shared by all instances, so `point@N`
 * is the Nth crossing in the whole stack, and this side reads them, and which crashes fired,
 * without asking any instance.
 */
import { EnvVar } from '../../functions/config/env.ts';
import { type Armed, type CrashPoint, crashPoints, parseCrashAt } from '../../functions/crash/crash-points.ts';
import { CRASH_HOST_GLOBAL } from '../../functions/crash/host.ts';
import type { CrashSharing } from './protocol.ts';

export class CrashSwitch {
  private readonly counts = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * crashPoints.length));
  private value: string | undefined;
  private armed: readonly Armed[] = [];
  private tag: string | undefined;
  private readonly refused: string[] = [];

  /** `audit`: every invocation runs with `CRASH_AUDIT` (functions/crash/audit.ts). */
  constructor(private readonly audit: boolean) {}

  /** What every instance shares. */
  get sharing(): CrashSharing {
    return { global: CRASH_HOST_GLOBAL, counts: this.counts.buffer as SharedArrayBuffer, points: crashPoints };
  }

  /**
   * Arms the crashes `value` names (`point@N,...#tag`), from the next invocation on, or none
   * (`undefined`). A new tag counts crossings afresh, as one process counts them per tag.
   */
  setCrashAt(value: string | undefined): void {
    const { armed, tag } = value === undefined ? { armed: [], tag: undefined } : parseCrashAt(value);
    if (tag !== this.tag) for (let i = 0; i < this.counts.length; i++) Atomics.store(this.counts, i, 0);
    this.value = value;
    this.armed = armed;
    this.tag = tag;
  }

  /** The variables each invocation runs with: set, or removed (null). */
  environment(): Record<string, string | null> {
    return { [EnvVar.CrashAt]: this.value ?? null, [EnvVar.CrashAudit]: this.audit ? '1' : null };
  }

  /** How often each point was crossed under the current tag; a point never crossed is absent. */
  crossings(): Partial<Record<CrashPoint, number>> {
    const counts: Partial<Record<CrashPoint, number>> = {};
    crashPoints.forEach((point, i) => {
      const count = Atomics.load(this.counts, i);
      if (count > 0) counts[point] = count;
    });
    return counts;
  }

  /** Whether the crash at that crossing of `point` fired: it is armed, and a function crossed it that often. */
  fired(point: CrashPoint, crossing = 1): boolean {
    return this.armed.some((a) => a.point === point && a.crossing === crossing) && (this.crossings()[point] ?? 0) >= crossing;
  }

  /** An instance's report of a call the audit refused. */
  recordRefusal(violation: string): void {
    this.refused.push(violation);
  }

  /** Every call the audit refused, in every instance, so far. */
  auditViolations(): readonly string[] {
    return [...this.refused];
  }
}
