/**
 * Builds a value on first use and keeps it for the life of the function instance: clients
 * are created once per cold start, and a handler that never needs an adapter never reads
 * its configuration.
 */
export function once<T>(build: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: build() }).v;
}

export const systemClock = () => new Date();
