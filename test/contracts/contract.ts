import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';

/**
 * A port's contract: named checks, each given a fresh implementation of the port. The same
 * checks run as tests against every implementation (the DynamoDB adapter on DynamoDB Local,
 * an in-memory port), and against deliberately weakened ones, which must fail some of them:
 * a check no mutant can fail proves nothing.
 */
export type Contract<Subject> = Readonly<Record<string, (subject: Subject) => Promise<void>>>;

/** Registers one test per check of `contract`, each on a subject `make` builds for it. */
export function describeContract<Subject>(
  title: string,
  contract: Contract<Subject>,
  make: () => Subject | Promise<Subject>,
): void {
  describe(title, () => {
    for (const [name, check] of Object.entries(contract)) {
      it(name, async () => check(await make()));
    }
  });
}

/** The names of the checks of `contract` that fail on subjects `make` builds, with why. */
export async function failingChecks<Subject>(
  contract: Contract<Subject>,
  make: () => Subject | Promise<Subject>,
): Promise<Record<string, string>> {
  const failures: Record<string, string> = {};
  for (const [name, check] of Object.entries(contract)) {
    try {
      await check(await make());
    } catch (error) {
      failures[name] = error instanceof Error ? error.message : String(error);
    }
  }
  return failures;
}

/** An id no other check (nor an earlier run on the same table) has used. */
export const uniqueId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

let windowsHandedOut = 0;

/**
 * An hour of time earlier than every hour handed out before in this process, as a function
 * from minutes into it to an ISO timestamp. `listDue(now)` answers everything due up to
 * `now`; a check that lists due items in a table other checks (or other runs of itself)
 * wrote to must ask about a time before all of theirs.
 */
export function earlierHour(): (minutes: number) => string {
  windowsHandedOut += 1;
  const start = Date.UTC(2000, 0, 1) - windowsHandedOut * 3_600_000;
  return (minutes) => new Date(start + minutes * 60_000).toISOString();
}
