import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { everyHistoryHolds, failureReport, focuses, histories, replayCommand, runHistory } from './history.ts';
import { brokenVariants } from './variants.ts';

/**
 * The simulator itself: it must tell a broken product from the product, within a budget a
 * test run can afford, and replay what it found exactly.
 */

/**
 * A broken product's history is only to be found here, not shrunk. Shrinking is what made these
 * tests' time swing from seed to seed: the revival race took 36 s in one clean run and 159 s in
 * the next, where it was found after 249 histories (about 3 s of them). A search of `npm run sim`
 * shrinks what it finds; the seed and path printed here replay the history as found.
 */
const FIND_ONLY = { endOnFailure: true } as const;

describe('the simulator', () => {
  it('catches a refund cap removed from the refund repository within the CI budget of 1,000 histories', async () => {
    // Act
    const result = await fc.check(everyHistoryHolds(brokenVariants['refund cap removed']), { numRuns: 1000, ...FIND_ONLY });

    // Assess
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/refunds stay within what was captured: pay_\w+ has \d+ refunded of \d+ captured/);
    console.log(`refund cap removed: found after ${result.numRuns} histories`);
  });

  it('finds the refund revival race (the provider refunded, our refund failed) when the revival is reverted', async () => {
    // Act
    const result = await fc.check(everyHistoryHolds(brokenVariants['refund not revived'], undefined, focuses['refund races']), { numRuns: 2000, ...FIND_ONLY });

    // Assess
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/re_\w+ failed, yet the provider refunded it/);
    console.log(`refund not revived: found after ${result.numRuns} histories; ${replayCommand(result, { variant: 'refund not revived', focus: 'refund races' })}`);
  });

  it('catches points not given back on a declined or undone checkout within the CI budget of 1,000 histories', async () => {
    // Act
    const result = await fc.check(everyHistoryHolds(brokenVariants['points not returned']), { numRuns: 1000, ...FIND_ONLY });

    // Assess
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/points spent on a checkout come back unless it paid.*: -\d+ points credited back/);
    console.log(`points not returned: found after ${result.numRuns} histories`);
  });

  it('catches a manual payment captured in full when its merchant asked for part, within the CI budget of 1,000 histories', async () => {
    // Act
    const result = await fc.check(everyHistoryHolds(brokenVariants['capture amount ignored'], undefined, focuses['manual capture']), { numRuns: 1000, ...FIND_ONLY });

    // Assess
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/succeeded with \d+ of \d+ asked for; the provider captured \d+/);
    console.log(`capture amount ignored: found after ${result.numRuns} histories`);
  });

  it('catches a stream record posted to the ledger again when it is redelivered, within the CI budget of 1,000 histories', async () => {
    // Act
    const result = await fc.check(everyHistoryHolds(brokenVariants['redelivery posted again']), { numRuns: 1000, ...FIND_ONLY });

    // Assess
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/every merchant's ledger adds up.*: \w+ holds -?\d+, its journal adds up to -?\d+/);
    console.log(`redelivery posted again: found after ${result.numRuns} histories`);
  });

  it.each(['refund races', 'manual capture'] as const)("keeps every promise in the %s' corner with the product as it is", async (focus) => {
    // Act
    const result = await fc.check(everyHistoryHolds({}, undefined, focuses[focus]), { numRuns: 500 });

    // Assess
    expect(result.failed, result.failed ? failureReport(result, { focus }) : '').toBe(false);
  });

  it('replays a failure it reported from the seed and path alone', async () => {
    // Prepare
    const variant = brokenVariants['refund cap removed'];
    const found = await fc.check(everyHistoryHolds(variant), { numRuns: 1000, ...FIND_ONLY });

    // Act
    const replayed = await fc.check(everyHistoryHolds(variant), {
      seed: found.seed,
      path: found.counterexamplePath ?? '',
      endOnFailure: true,
    });

    // Assess
    expect(replayed.failed).toBe(true);
    expect(fc.stringify(replayed.counterexample)).toBe(fc.stringify(found.counterexample));
    expect(String(replayed.errorInstance)).toBe(String(found.errorInstance));
  });

  it('runs the same history the same way twice, gate for gate', async () => {
    // Prepare
    const sampled = fc.sample(histories(), { numRuns: 20, seed: 2026 });

    // Act
    const traces = async () => Promise.all(sampled.map(async (history) => (await runHistory(history, {}, true)).world.trace));
    const [first, second] = [await traces(), await traces()];

    // Assess
    expect(first.flat().length).toBeGreaterThan(1000);
    expect(second).toEqual(first);
  });
});
