import { describe, expect, it } from 'vitest';
import { startSchedule } from '../../../../local/services/scheduler.ts';

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

  it('does not tick at once for a period longer than a Node timer can hold', async () => {
    // Prepare
    let calls = 0;

    // Act: sixty days, as the bench stretches the hourly settlement.
    const schedule = startSchedule({ everyMs: 60 * 24 * 3600_000, tick: async () => void (calls += 1), onError: () => {} });
    await sleep(50);
    await schedule.stop();

    // Assess
    expect(calls).toBe(0);
  });
});
