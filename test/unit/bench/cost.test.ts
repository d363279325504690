import { describe, expect, it } from 'vitest';
import { type BenchCounts, PRICES, costPerThousandPayments, usagePerPayment } from '../../../bench/cost.ts';

/** Ten payments' counts, small enough to check by hand. */
const tenPayments: BenchCounts = {
  payments: 10,
  apiRequests: 10,
  functions: [
    { invocations: 10, handlerMs: 500, memoryMb: 256 },
    { invocations: 40, handlerMs: 2000, memoryMb: 256 },
  ],
  dynamo: { writeItems: 60, transactionalWriteItems: 20, readItems: 30, transactionalReadItems: 10, consistentReadItems: 10 },
  stateTransitions: 60,
};

describe('cost per 1,000 payments', () => {
  it('bills a transactional write twice, a consistent read once, an eventually consistent read half', () => {
    // Act
    const usage = usagePerPayment(tenPayments);

    // Assess: (40 plain + 2 x 20 transactional) / 10; (0.5 x 10 eventual + 10 consistent + 2 x 10 transactional) / 10.
    expect(usage.writeRequestUnits).toBe(8);
    expect(usage.readRequestUnits).toBe(3.5);
  });

  it('counts Lambda duration as memory times handler time, per payment', () => {
    // Act
    const usage = usagePerPayment(tenPayments);

    // Assess: 0.25 GB x 2.5 s / 10 payments.
    expect(usage.lambdaInvocations).toBe(5);
    expect(usage.lambdaGbSeconds).toBeCloseTo(0.0625, 10);
    expect(usage.stateTransitions).toBe(6);
    expect(usage.apiRequests).toBe(1);
  });

  it('prices each line at its public price and adds them up', () => {
    // Act
    const { lines, totalUsd } = costPerThousandPayments(usagePerPayment(tenPayments));

    // Assess: the same arithmetic docs/capacity.md shows.
    expect(lines.map((line) => [line.item, line.quantity])).toEqual([
      ['API Gateway requests', 1000],
      ['Lambda invocations', 5000],
      ['Lambda duration (GB-s)', 62.5],
      ['DynamoDB write request units', 8000],
      ['DynamoDB read request units', 3500],
      ['Step Functions state transitions', 6000],
    ]);
    expect(lines.map((line) => line.usd)).toEqual([
      expect.closeTo(0.0035, 10),
      expect.closeTo(0.001, 10),
      expect.closeTo(62.5 * 0.0000133334, 10),
      expect.closeTo(0.005, 10),
      expect.closeTo(0.0004375, 10),
      expect.closeTo(0.15, 10),
    ]);
    expect(totalUsd).toBeCloseTo(0.1607708375, 10);
  });

  it('names a source for every price', () => {
    for (const price of Object.values(PRICES)) expect(price.source).toMatch(/^https:\/\//);
  });
});
