import { describe, expect, it } from 'vitest';
import { eventViolations } from '../../support/invariants/events.ts';

describe('eventViolations', () => {
  const records = [
    { kind: 'payment', id: 'pay_1', status: 'succeeded' },
    { kind: 'payment', id: 'pay_2', status: 'pending' },
    { kind: 'refund', id: 're_1', status: 'failed' },
  ] as const;
  const events = [
    { eventId: 'evt_1', type: 'payment.succeeded', resourceId: 'pay_1' },
    { eventId: 'evt_2', type: 'refund.failed', resourceId: 're_1' },
    { eventId: 'evt_3', type: 'cart.done', resourceId: 'cart_1' },
  ];

  it('holds when each final payment and refund has its one event', () => {
    // Assess
    expect(eventViolations(records, events)).toEqual([]);
  });

  it('holds for a refund that failed and was revived: two transitions, two events', () => {
    // Prepare
    const revived = [{ kind: 'refund', id: 're_2', status: 'succeeded' }] as const;
    const both = [
      { eventId: 'evt_6', type: 'refund.failed', resourceId: 're_2' },
      { eventId: 'evt_7', type: 'refund.succeeded', resourceId: 're_2' },
    ];

    // Assess
    expect(eventViolations(revived, both)).toEqual([]);
  });

  it('finds a lost event, a second event, and an event without its change', () => {
    // Act
    const lost = eventViolations(records, events.slice(1));
    const doubled = eventViolations(records, [...events, { eventId: 'evt_4', type: 'refund.failed', resourceId: 're_1' }]);
    const unfounded = eventViolations(records, [...events, { eventId: 'evt_5', type: 'payment.failed', resourceId: 'pay_2' }]);

    // Assess
    expect(lost).toEqual(['payment pay_1 is succeeded with 0 payment.succeeded events']);
    expect(doubled).toEqual(['refund re_1 is failed with 2 refund.failed events']);
    expect(unfounded).toEqual(['event evt_5 (payment.failed) names payment pay_2, which is pending']);
  });
});
