import { afterEach, describe, expect, it, vi } from 'vitest';
import { LONGEST_TIMER_MS, startSchedule } from '../../../../local/services/scheduler.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('startSchedule', () => {
  it('runs the tick repeatedly and reports errors without stopping', async () => {
    // Prepare
    const errors: unknown[] = [];
    let calls = 0;

    // Act
    const schedule = startSchedule({
      everyMs: 10,
      tick: async () => {
        calls += 1;
        if (calls === 1) throw new Error('first tick failed');
      },
      onError: (error) => errors.push(error),
    });
    await sleep(80);
    await schedule.stop();

    // Assess
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(errors).toHaveLength(1);
  });

  it('never runs two ticks at once and waits for the running one on stop', async () => {
    // Prepare
    let active = 0;
    let maxActive = 0;
    let finished = 0;

    // Act
    const schedule = startSchedule({
      everyMs: 5,
      runImmediately: true,
      tick: async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await sleep(40);
        active -= 1;
        finished += 1;
      },
      onError: () => {},
    });
    await sleep(60);
    await schedule.stop();

    // Assess
    expect(maxActive).toBe(1);
    expect(active).toBe(0);
    expect(finished).toBe(schedule.runs);
    expect(schedule.skipped).toBeGreaterThan(0);
  });

  describe('with a period longer than a timer can wait', () => {
    const SIXTY_DAYS_MS = 60 * 24 * 60 * 60 * 1000;
    afterEach(() => {
      vi.useRealTimers();
    });

    it('does not tick before the period has passed (Node would run a longer timer every millisecond)', async () => {
      // Prepare
      expect(SIXTY_DAYS_MS).toBeGreaterThan(LONGEST_TIMER_MS);
      const schedule = startSchedule({ everyMs: SIXTY_DAYS_MS, tick: async () => {}, onError: () => {} });

      // Act
      await sleep(50);
      await schedule.stop();

      // Assess
      expect(schedule.runs).toBe(0);
    });

    it('ticks once the whole period has passed, through as many timers as it takes', async () => {
      // Prepare
      vi.useFakeTimers();
      const schedule = startSchedule({ everyMs: SIXTY_DAYS_MS, tick: async () => {}, onError: () => {} });

      // Act
      await vi.advanceTimersByTimeAsync(SIXTY_DAYS_MS - 1);
      const before = schedule.runs;
      await vi.advanceTimersByTimeAsync(1);
      const after = schedule.runs;
      await schedule.stop();

      // Assess
      expect({ before, after }).toEqual({ before: 0, after: 1 });
    });
  });
});
