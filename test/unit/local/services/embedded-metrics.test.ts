import { describe, expect, it } from 'vitest';
import { EmbeddedMetrics } from '../../../../local/services/embedded-metrics.ts';

/** A line as Powertools' Metrics writes it for one invocation of a route. */
function emfLine(route: string, metrics: Record<string, number | number[]>): string {
  return JSON.stringify({
    _aws: {
      Timestamp: 1_764_700_000_000,
      CloudWatchMetrics: [
        { Namespace: 'Chargeonce', Dimensions: [['service', 'route']], Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: 'Count' })) },
      ],
    },
    service: 'chargeonce',
    route,
    ...metrics,
  });
}

describe('the local reading of embedded-format metric lines', () => {
  it('sums each metric per route over every line, a value given as an array counting each sample', () => {
    // Prepare
    const metrics = new EmbeddedMetrics();

    // Act
    metrics.take(emfLine('CreatePayment', { Http2xx: 1, IdempotentRequest: 1 }));
    metrics.take(emfLine('CreatePayment', { Http2xx: 1 }));
    metrics.take(emfLine('GetPayment', { Http2xx: [1, 1, 1] }));

    // Assess
    expect(metrics.snapshot()).toEqual([
      { name: 'Http2xx', dimensions: { route: 'CreatePayment' }, unit: 'Count', sum: 2, samples: 2 },
      { name: 'Http2xx', dimensions: { route: 'GetPayment' }, unit: 'Count', sum: 3, samples: 3 },
      { name: 'IdempotentRequest', dimensions: { route: 'CreatePayment' }, unit: 'Count', sum: 1, samples: 1 },
    ]);
  });

  it("leaves a function's own log lines, JSON or not, to its log", () => {
    // Prepare
    const metrics = new EmbeddedMetrics();

    // Act
    const taken = [
      metrics.take('{"level":"WARN","message":"provider slow","_aws_request":"x"}'),
      metrics.take('2026-12-02T19:00:00.000Z\tabc\tERROR\tInvoke Error\t{"_aws": 1}'),
      metrics.take('{"_aws": {"CloudWatchMetrics": "broken"'),
    ];

    // Assess
    expect(taken).toEqual([false, false, false]);
    expect(metrics.snapshot()).toEqual([]);
  });
});
