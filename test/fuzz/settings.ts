/**
 * The fuzzer's settings, from the environment that `npm run fuzz` (test/fuzz/cli.ts) sets:
 * FUZZ_SEED and FUZZ_PATH replay a failure, FUZZ_RUNS asks for a long run, FUZZ_ROUTES keeps
 * to some routes, FUZZ_VERBOSE=1 prints every request. Without them, a bounded run with a new
 * seed, as `npm test` runs it.
 */
export interface FuzzSettings {
  readonly seed: number;
  readonly path?: string;
  readonly runs: number;
  /** A bounded run stops drawing new requests after this long; a long run goes on to its count. */
  readonly timeLimitMs?: number;
  /** Only these routes (catalog ids), to dig into one; all of them when absent. */
  readonly routes?: readonly string[];
  /** Print every request and its answer as it goes. */
  readonly verbose: boolean;
}

const BOUNDED_RUNS = 600;
const BOUNDED_TIME_MS = 45_000;

export function fuzzSettings(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const seed = env.FUZZ_SEED === undefined ? (Date.now() ^ (Math.random() * 0x100000000)) | 0 : Number(env.FUZZ_SEED);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${env.FUZZ_SEED}`);
  const runs = env.FUZZ_RUNS === undefined ? BOUNDED_RUNS : Number(env.FUZZ_RUNS);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`FUZZ_RUNS must be a positive integer, got ${env.FUZZ_RUNS}`);
  const bounded = env.FUZZ_RUNS === undefined && env.FUZZ_PATH === undefined;
  return {
    seed,
    runs,
    ...(env.FUZZ_PATH !== undefined && { path: env.FUZZ_PATH }),
    ...(bounded && { timeLimitMs: BOUNDED_TIME_MS }),
    ...(env.FUZZ_ROUTES !== undefined && { routes: env.FUZZ_ROUTES.split(',') }),
    verbose: env.FUZZ_VERBOSE === '1',
  };
}
