/**
 * Builds a value on first use and keeps it for the life of the function instance: clients
 * are created once per cold start, and a handler that never needs an adapter never reads
 * its configuration. Making the closure does nothing else, so module-level calls are marked
 * `@__PURE__`: esbuild leaves out of a function's bundle each one the function never uses,
 * with the adapter it would build (a read route's bundle holds no school store).
 */
export function once<T>(build: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: build() }).v;
}

export const systemClock = () => new Date();

/**
 * `load` by key, each answer kept for `keepMs` (a failed one not at all): for what changes
 * rarely but is read on every request, such as a merchant's settings.
 */
export function keptFor<T>(keepMs: number, load: (key: string) => Promise<T>, now: () => number = Date.now) {
  const kept = new Map<string, { value: Promise<T>; until: number }>();
  return (key: string): Promise<T> => {
    const hit = kept.get(key);
    if (hit && hit.until > now()) return hit.value;
    const value = load(key);
    kept.set(key, { value, until: now() + keepMs });
    value.catch(() => {
      if (kept.get(key)?.value === value) kept.delete(key);
    });
    return value;
  };
}
