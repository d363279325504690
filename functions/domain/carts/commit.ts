import { ConcurrentModificationError } from '../errors.ts';
import type { NamedWrites, Refusal, SchoolStore } from './store.ts';

/**
 * What to do when a commit meets a concurrent transaction: send it again after a full-jitter
 * backoff (from 15 ms, doubling, at most 250 ms), `retries` times, then give up with a
 * `concurrent_modification` the client may retry. Many buyers racing for one class's seats
 * all write the class item; each of them should end with a seat or `sold_out`, not a conflict.
 * `sleep` and `random` are the policy's only contact with time and chance, so a simulation can
 * run it deterministically.
 */
export interface ConflictRetry {
  readonly retries: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** In [0, 1): where in its backoff window a retry waits. */
  readonly random: () => number;
}

export const DEFAULT_CONFLICT_RETRY: ConflictRetry = {
  retries: 6,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

const FIRST_BACKOFF_MS = 15;
const MAX_BACKOFF_MS = 250;

export interface CommitDeps {
  readonly store: SchoolStore;
  /** {@link DEFAULT_CONFLICT_RETRY} when absent. */
  readonly conflictRetry?: ConflictRetry;
}

/** The longest a retry after `attempt` earlier conflicts may wait. */
export function backoffCeilingMs(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
}

/**
 * Commits `writes` (`what` names them in errors), sending them again after a conflict as
 * {@link ConflictRetry} says. Undefined once committed; the refusal when a precondition failed.
 */
export async function commit<W extends NamedWrites>(deps: CommitDeps, what: string, writes: W): Promise<Refusal<W> | undefined> {
  const policy = deps.conflictRetry ?? DEFAULT_CONFLICT_RETRY;
  for (let attempt = 0; ; attempt += 1) {
    const result = await deps.store.commit(writes);
    if (result.status === 'committed') return undefined;
    if (result.status === 'refused') return result.refused;
    if (attempt >= policy.retries) {
      throw new ConcurrentModificationError(`the ${what} kept meeting concurrent transactions`, { retryAfterSeconds: 1 });
    }
    await policy.sleep(policy.random() * backoffCeilingMs(attempt));
  }
}
