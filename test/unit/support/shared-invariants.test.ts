import { describe, expect, it } from 'vitest';
import type { Ledger } from '../../../local/fake-provider/ledger.ts';
import { violations } from '../../support/invariants/ledger.ts';
import { type SchoolViews, schoolInvariants, schoolStateOfViews } from '../../support/invariants/school.ts';

/**
 * The school's invariants over what the API shows, as the integration suite reads them after
 * each test (the simulation reads the same invariants from its store): each must report what
 * breaks it.
 */
const swimClass = { class_id: 'cls_1', seats_total: 5, seats_remain: 3, held: 1, students: 1, seats_counted: { held: 1, students: 1 } };
const account = { account_id: 'acc_1', points_balance: 700, points_granted: 1000, points_spent: 500, points_returned: 200 };
const purchase = { account_id: 'acc_1', purchase_key: 'pi_1', payment_no: 'pay_1', card_amount: 2500 };
const payment = { payment_no: 'pay_1', status: 'succeeded', amount_captured: 2500 };
const capturedOnce: Ledger = {
  paymentIntents: [
    {
      id: 'pi_1',
      created: 0,
      amount: 2500,
      currency: 'usd',
      status: 'succeeded',
      captureMethod: 'manual',
      paymentMethod: 'pm_card_visa',
      metadata: { payment_no: 'pay_1' },
      description: null,
      receiptEmail: null,
      charge: null,
      lastPaymentError: null,
      captures: [{ amount: 2500, at: 0 }],
      cancellation: null,
    },
  ],
  refunds: [],
  payouts: [],
  calls: [],
};

const found = (views: SchoolViews, provider: Ledger = capturedOnce) =>
  violations(schoolInvariants, schoolStateOfViews(views, 'merchant', provider), 'settled');

describe('the school invariants over the API', () => {
  it('hold for a class, an account and a card purchase that add up', () => {
    expect(found({ classes: [swimClass], accounts: [account], purchases: [purchase], payments: [payment] })).toEqual([]);
  });

  it.each([
    ['a seat in no place', { classes: [{ ...swimClass, seats_remain: 2 }] }, /seats_remain \+ held \+ students = seats_total.*2 remain/],
    ['a counter that is not its items', { classes: [{ ...swimClass, seats_counted: { held: 2, students: 1 } }] }, /counters 1 held, 1 students; items 2 holds/],
    ['points that do not add up', { accounts: [{ ...account, points_returned: 100 }] }, /points_granted = .*granted 1000, balance 700/],
    ['a negative balance', { accounts: [{ ...account, points_balance: -1, points_granted: 299 }] }, /balance -1/],
    ['a card purchase whose payment captured another amount', { purchases: [purchase], payments: [{ ...payment, amount_captured: 2000 }] }, /pi_1: 2500 by card; payment pay_1 is succeeded with 2000/],
    ['a card purchase without its payment', { purchases: [purchase], payments: [] }, /payment pay_1 is missing/],
  ])('report %s', (_, views, reported) => {
    expect(found(views).join('\n')).toMatch(reported);
  });

  it('reports a card purchase the provider captured twice', () => {
    const twice: Ledger = {
      ...capturedOnce,
      paymentIntents: capturedOnce.paymentIntents.map((pi) => ({ ...pi, captures: [...pi.captures, ...pi.captures] })),
    };

    expect(found({ purchases: [purchase], payments: [payment] }, twice).join('\n')).toMatch(/the provider captured \[2500,2500\]/);
  });
});
