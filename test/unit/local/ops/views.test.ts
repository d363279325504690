import { describe, expect, it } from 'vitest';
import { Metric } from '../../../../functions/config/metrics.ts';
import { dashboardCounters } from '../../../../local/ops/views.ts';

describe("the ops page's counters", () => {
  it("show every metric of the dashboard's list, a zero for one not emitted yet, and each route's own total", () => {
    // Prepare
    const emitted = [
      { name: Metric.IdempotentReplay.name, dimensions: { route: 'CreatePayment' }, unit: 'Count', sum: 3, samples: 3 },
      { name: Metric.IdempotentReplay.name, dimensions: { route: 'CreateRefund' }, unit: 'Count', sum: 1, samples: 1 },
    ];

    // Act
    const counters = dashboardCounters(emitted);

    // Assess
    expect(new Set(counters.map((c) => c.name))).toEqual(new Set(Object.values(Metric).map((m) => m.name)));
    expect(counters.filter((c) => c.name === Metric.IdempotentReplay.name).map((c) => c.sum)).toEqual([3, 1]);
    expect(counters.find((c) => c.name === Metric.LeaseTakeover.name)).toMatchObject({ sum: 0, samples: 0 });
  });
});
