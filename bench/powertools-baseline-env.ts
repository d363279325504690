/** The variables the duplicate storm sets on its baseline's function (bench/powertools-baseline.ts). */
export const BaselineEnv = {
  /** Its records' table (`id` (S), on demand, as Powertools documents it). */
  Table: 'IDEMPOTENCY_TABLE',
  /** `1`: keep finished records in memory too (Powertools' `useLocalCache`, off by default). */
  LocalCache: 'BASELINE_LOCAL_CACHE',
} as const;
