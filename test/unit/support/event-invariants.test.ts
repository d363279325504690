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

  it('holds for manual payments with one payment.authorized each once authorized, whatever came after', () => {
    // Prepare
    const manual = [
      { kind: 'payment', id: 'pay_w', status: 'authorized', manual: true },
      { kind: 'payment', id: 'pay_c', status: 'canceled', manual: true },
      { kind: 'payment', id: 'pay_d', status: 'failed', manual: true },
    ] as const;
    const made = [
      { eventId: 'evt_w', type: 'payment.authorized', resourceId: 'pay_w' },
      { eventId: 'evt_c1', type: 'payment.authorized', resourceId: 'pay_c' },
      { eventId: 'evt_c2', type: 'payment.canceled', resourceId: 'pay_c' },
      { eventId: 'evt_d', type: 'payment.failed', resourceId: 'pay_d' },
    ];

    // Assess
    expect(eventViolations(manual, made)).toEqual([]);
  });

  it('finds a manual payment authorized without its event, one with two, and an automatic payment with one', () => {
    // Act
    const lost = eventViolations([{ kind: 'payment', id: 'pay_m', status: 'authorized', manual: true }], []);
    const doubled = eventViolations(
      [{ kind: 'payment', id: 'pay_m', status: 'canceled', manual: true }],
      [
        { eventId: 'evt_1', type: 'payment.authorized', resourceId: 'pay_m' },
        { eventId: 'evt_2', type: 'payment.authorized', resourceId: 'pay_m' },
        { eventId: 'evt_3', type: 'payment.canceled', resourceId: 'pay_m' },
      ],
    );
    const automatic = eventViolations(records, [...events, { eventId: 'evt_4', type: 'payment.authorized', resourceId: 'pay_1' }]);

    // Assess
    expect(lost).toEqual(['payment pay_m (manual, authorized) has 0 payment.authorized events']);
    expect(doubled).toEqual(['payment pay_m (manual, canceled) has 2 payment.authorized events']);
    expect(automatic).toEqual(['payment pay_1 (automatic, succeeded) has 1 payment.authorized events']);
  });
});
