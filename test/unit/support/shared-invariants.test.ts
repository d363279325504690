import { describe, expect, it } from 'vitest';
import type { Ledger } from '../../../local/fake-provider/ledger.ts';
import { type PaymentView, chargeInvariants, stateOfView, violations } from '../../support/invariants/ledger.ts';
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

describe('the charge invariants over a manual payment as the API shows it', () => {
  const intent = capturedOnce.paymentIntents[0]!;
  const ledgerOf = (status: string, captures: readonly number[]): Ledger => ({
    ...capturedOnce,
    paymentIntents: [{ ...intent, status: status as typeof intent.status, captures: captures.map((amount) => ({ amount, at: 0 })) }],
  });
  const view = { payment_no: 'pay_1', amount: 2500, capture_method: 'manual' };
  const charged = (payment: PaymentView, provider: Ledger) => violations(chargeInvariants, stateOfView(payment, provider), 'settled');

  it('hold for one captured for the amount the merchant asked, and for one still awaiting its capture', () => {
    expect(charged({ ...view, status: 'succeeded', amount_captured: 1500, amount_to_capture: 1500, awaiting_capture: false }, ledgerOf('succeeded', [1500]))).toEqual([]);
    expect(charged({ ...view, status: 'authorized', amount_captured: 0, awaiting_capture: true }, ledgerOf('requires_capture', []))).toEqual([]);
  });

  it.each([
    ['captured in full when the merchant asked for part', { status: 'succeeded', amount_captured: 2500, amount_to_capture: 1500, awaiting_capture: false }, ledgerOf('succeeded', [2500]), /succeeded with 2500 of 1500 asked for/],
    ['left authorized once the merchant asked for its capture', { status: 'authorized', amount_captured: 0, amount_to_capture: 1500, awaiting_capture: false }, ledgerOf('requires_capture', []), /pi_1 of pay_1 is still authorized/],
    ['an automatic one left authorized', { status: 'authorized', amount_captured: 0, capture_method: 'automatic' }, ledgerOf('requires_capture', []), /pay_1 is authorized, not marked for attention/],
  ] as const)('report one %s', (_, shown, provider, reported) => {
    expect(charged({ ...view, ...shown }, provider).join('\n')).toMatch(reported);
  });
});
