import { defineConfig } from 'vitest/config';

/**
 * Two files at a time where they can share the cores: vitest's default, one fewer than the
 * cores, runs one at a time on a machine of two, which leaves a core idle while a file waits for a
 * JVM, a child process or a synthesis.
 */
const TWO_FILES_AT_A_TIME = 2;

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          maxWorkers: TWO_FILES_AT_A_TIME,
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
          env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
          // A Lambda bundle the bundling test builds is imported by Node itself, as Lambda imports
          // it, not transformed by Vite (whose source map check warns of stripe's unshipped sources).
          server: { deps: { external: [/chargeonce-stubbed-/] } },
        },
      },
      {
        test: {
          name: 'infra',
          maxWorkers: TWO_FILES_AT_A_TIME,
          include: ['test/infra/**/*.test.ts'],
          // Synthesizing the stack takes seconds, once per file.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'adapters',
          maxWorkers: TWO_FILES_AT_A_TIME,
          include: ['test/adapters/**/*.test.ts'],
          // Each file starts its own DynamoDB Local and creates the synthesized table in it.
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'sim',
          maxWorkers: TWO_FILES_AT_A_TIME,
          include: ['test/sim/**/*.test.ts'],
          // Each file synthesizes the stack once (seconds) and runs a thousand histories or so.
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'crash',
          globalSetup: ['test/support/synthesized-app.ts'],
          include: ['test/crash/**/*.test.ts'],
          // Each file runs a stack of its own; two side by side keep both cores busy (the matrix's
          // shards are files for this), more would time each other out.
          maxWorkers: TWO_FILES_AT_A_TIME,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'stack',
          globalSetup: ['test/support/synthesized-app.ts'],
          include: ['test/stack/**/*.test.ts'],
          // Each file runs stacks of its own, from templates it changed.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 240_000,
        },
      },
      {
        test: {
          name: 'fuzz',
          globalSetup: ['test/support/synthesized-app.ts'],
          include: ['test/fuzz/**/*.test.ts'],
          // Handlers' loggers are made when the fuzzer imports their schemas: quiet them from the start.
          env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
          // Each file runs its own stack; a long run (`npm run fuzz -- --runs N`) takes as long as it takes.
          fileParallelism: false,
          testTimeout: 24 * 60 * 60 * 1000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'browser',
          globalSetup: ['test/support/synthesized-app.ts'],
          include: ['test/browser/**/*.test.ts'],
          // One file: one stack, one Chromium, the ops page driven as a person would.
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
