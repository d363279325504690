import { describe, expect, it } from 'vitest';
import { runDemo, verdict } from '../../demo/run-demo.ts';

/** It starts whole stacks while a shard of the crash matrix runs beside it on the other core: a minute is not enough. */
const WHOLE_STACKS_TIMEOUT_MS = 240_000;

describe('npm run demo', () => {
  it('shows charge-then-mark charging twice, mark-then-charge never charging, and the product charging once', async () => {
    // Act
    const rows = await runDemo();

    // Assess
    const verdictOf = (strategy: string, crash: string) =>
      verdict(rows.find((row) => row.strategy.startsWith(strategy) && row.crash === crash)!.captures);
    expect(verdictOf('1.', 'between-steps')).toBe('CHARGED 2 TIMES');
    expect(verdictOf('2.', 'between-steps')).toBe('NEVER CHARGED');
    const product = rows.filter((row) => row.strategy.startsWith('3.'));
    expect(product.length).toBeGreaterThan(0);
    expect(product.every((row) => row.captures === 1 && row.status === 'succeeded')).toBe(true);
  }, WHOLE_STACKS_TIMEOUT_MS);
});
