import { describe, expect, it } from 'vitest';
import {
  type LoadAnswer,
  LoadArgumentError,
  checkCeilingMix,
  dueAtMs,
  figuresByOperation,
  operationSequence,
  parseMix,
  secondFigures,
  sustainedRate,
  whyNotHeld,
} from '../../../bench/load-plan.ts';

const answer = (overrides: Partial<LoadAnswer>): LoadAnswer => ({ op: 'get', dueMs: 0, latencyMs: 10, status: 200, outcome: '200', ...overrides });

describe('the load mix', () => {
  it('reads weights by operation, those left out weighing nothing', () => {
    expect(parseMix('duplicate=45, get=45,new=10')).toEqual({ new: 10, duplicate: 45, get: 45, refund: 0, cart: 0 });
  });

  it.each([
    ['an unknown operation', 'charge=10', /"charge=10" is not one of new=N/],
    ['a weight that is not whole', 'get=1.5', /the weight of get must be a whole number/],
    ['a missing weight', 'get', /the weight of get must be a whole number/],
    ['every weight zero', 'get=0,new=0', /every weight is 0/],
  ])('refuses %s, saying what is wrong', (_, text, message) => {
    expect(() => parseMix(text)).toThrow(LoadArgumentError);
    expect(() => parseMix(text)).toThrow(message);
  });

  it("gives each operation its weight's share of every window of the sequence, give or take one", () => {
    // Prepare
    const next = operationSequence(parseMix('duplicate=45,get=45,new=10'));

    // Act
    const sequence = Array.from({ length: 1000 }, () => next());

    // Assess: any 100 requests in a row hold 45, 45 and 10 of them, within one.
    for (let start = 0; start + 100 <= sequence.length; start += 37) {
      const window = sequence.slice(start, start + 100);
      const count = (op: string) => window.filter((o) => o === op).length;
      expect(Math.abs(count('duplicate') - 45)).toBeLessThanOrEqual(1);
      expect(Math.abs(count('get') - 45)).toBeLessThanOrEqual(1);
      expect(Math.abs(count('new') - 10)).toBeLessThanOrEqual(1);
    }
  });
});

describe('the ceiling run', () => {
  it('takes a mix of the key layer\'s path, which a no-op route answers as the stack does', () => {
    expect(() => checkCeilingMix(parseMix('duplicate=50,get=50'))).not.toThrow();
    expect(() => checkCeilingMix(parseMix('get=1'))).not.toThrow();
  });

  it('refuses a mix with operations a no-op route would answer wrongly, naming them', () => {
    expect(() => checkCeilingMix(parseMix('duplicate=40,get=40,new=10,cart=10'))).toThrow(LoadArgumentError);
    expect(() => checkCeilingMix(parseMix('duplicate=40,get=40,new=10,cart=10'))).toThrow(/the mix also has new, cart$/);
  });
});

describe('the open-model schedule', () => {
  it('makes request i due at i / rate seconds', () => {
    expect([0, 1, 999, 1000].map((i) => dueAtMs(i, 1000))).toEqual([0, 1, 999, 1000]);
    expect(dueAtMs(3, 4)).toBe(750);
  });
});

describe('the load figures', () => {
  it("gives each operation's percentiles and every outcome other than its success, 5xx and no answer apart", () => {
    // Prepare
    const answers = [
      ...Array.from({ length: 98 }, (_, i) => answer({ op: 'new', status: 201, outcome: '201', latencyMs: i + 1 })),
      answer({ op: 'new', status: 503, outcome: '503 database_unavailable', latencyMs: 2000 }),
      answer({ op: 'new', status: 0, outcome: '0 ECONNRESET', latencyMs: 3000 }),
      answer({ op: 'duplicate', status: 409, outcome: '409 request_in_progress' }),
    ];

    // Act
    const figures = figuresByOperation(answers);

    // Assess
    expect(figures.map((f) => f.op)).toEqual(['new', 'duplicate']);
    expect(figures[0]).toMatchObject({ answers: 100, p50Ms: 50, p99Ms: 2000, maxMs: 3000, serverErrors: 2 });
    expect(figures[0]!.errors).toEqual([
      ['503 database_unavailable', 1],
      ['0 ECONNRESET', 1],
    ]);
    expect(figures[1]).toMatchObject({ answers: 1, serverErrors: 0, errors: [['409 request_in_progress', 1]] });
  });

  it('sums up a second by the requests due in it, whenever they were answered', () => {
    // Prepare
    const answers = [answer({ dueMs: 999, latencyMs: 5000 }), answer({ dueMs: 1000, status: 503, outcome: '503' }), answer({ dueMs: 1500 })];

    // Act
    const second = secondFigures(2, 3, answers);

    // Assess
    expect(second).toEqual({ second: 2, due: 3, answered: 2, succeeded: 1, p50Ms: 10, p99Ms: 10 });
  });

  it('sustains the rate asked for only when the answers keep up with the schedule', () => {
    // Prepare: 100 requests due over a second; answered at once, or each ten times later than due.
    const keepingUp = Array.from({ length: 100 }, (_, i) => answer({ dueMs: i * 10, latencyMs: 10 }));
    const fallingBehind = Array.from({ length: 100 }, (_, i) => answer({ dueMs: i * 10, latencyMs: i * 90 }));

    // Act, Assess
    expect(sustainedRate(keepingUp)).toBe(100);
    expect(sustainedRate(fallingBehind)).toBeCloseTo(10, 0);
    expect(sustainedRate([answer({ status: 503 })])).toBe(0);
  });

  it('holds a rate only when it was sustained, without a 5xx, and on time; else says each reason', () => {
    expect(whyNotHeld({ rate: 100, sustained: 96, failures: 0, p99Ms: 900 })).toBe('');
    expect(whyNotHeld({ rate: 100, sustained: 80, failures: 3, p99Ms: 2500 })).toBe('sustained 80% of it, 3 5xx or unanswered, p99 2500 ms');
    expect(whyNotHeld({ rate: 100, sustained: 100, failures: 0, p99Ms: 1001 })).toBe('p99 1001 ms');
  });
});
