import { afterEach, expect } from 'vitest';
import { ledger } from '../../local/fake-provider/client.ts';
import { expectSettledAsRecorded } from './ledger-check.ts';
import { getAccount, getCart, getClass, purchasesOf, waitForCart } from './school.ts';
import { target } from './target.ts';

/** What a test touched, for the checks after it. */
export interface Touched {
  readonly classId?: string;
  readonly accountId?: string;
  readonly cartId?: string;
  /** A card payment a checkout made (a declined one leaves no trace on its cart). */
  readonly paymentNo?: string;
}

/**
 * Checks, after each test of the calling file, everything the test touched, in this order:
 * - each cart whose card payment is under way settles (`done`, or `pending` again);
 * - each payment (tracked, or of those carts) is terminal and, where the target has the fake
 *   provider, charged there exactly as recorded;
 * - each class: `seats_remain + held + students = seats_total`, and its counters equal the hold
 *   and student items counted (`seats_counted`);
 * - each account: `points_granted = points_balance + points_spent - points_returned`, the balance
 *   never negative; each of its purchases paid by card succeeded for the purchase's card amount,
 *   with one capture at the provider.
 * Returns the function that records what a test touched, with the key of the merchant that owns it.
 */
export function checkSchoolAfterEach(): (touched: Touched, key?: string) => void {
  const classes = new Touches();
  const accounts = new Touches();
  const carts = new Touches();
  const payments = new Touches();

  afterEach(async () => {
    for (const [cartId, key] of carts.take()) await settle(cartId, key, payments);
    for (const [paymentNo, key] of payments.take()) await expectSettledAsRecorded(paymentNo, key);
    for (const [classId, key] of classes.take()) await expectSeatsAddUp(classId, key);
    for (const [accountId, key] of accounts.take()) await expectPointsAddUp(accountId, key);
  });

  return ({ classId, accountId, cartId, paymentNo }, key = target().apiKey) => {
    if (classId !== undefined) classes.add(classId, key);
    if (accountId !== undefined) accounts.add(accountId, key);
    if (cartId !== undefined) carts.add(cartId, key);
    if (paymentNo !== undefined) payments.add(paymentNo, key);
  };
}

/** Ids touched by a test, each with the key of the merchant that owns it (two merchants may use one id), once each. */
class Touches {
  private readonly entries = new Map<string, [id: string, key: string]>();

  add(id: string, key: string): void {
    this.entries.set(`${key}\u0000${id}`, [id, key]);
  }

  take(): [id: string, key: string][] {
    const taken = [...this.entries.values()];
    this.entries.clear();
    return taken;
  }
}

/** A cart paying by card moves on by itself: wait for it to rest, and check its payment. */
async function settle(cartId: string, key: string, payments: Touches) {
  const cart = await getCart(cartId, { key });
  if (cart.payment_no !== undefined) payments.add(cart.payment_no, key);
  const paying = cart.status === 'applied' || (cart.status === 'checking' && cart.payment_mode === 'pay_now');
  if (paying) await waitForCart(cartId, ['done', 'pending'], { key });
}

export async function expectSeatsAddUp(classId: string, key: string) {
  const swimClass = await getClass(classId, { key });
  expect(swimClass.seats_remain, `class ${classId} seats_remain`).toBeGreaterThanOrEqual(0);
  expect(swimClass.seats_remain + swimClass.held + swimClass.students, `class ${classId} seats`).toBe(swimClass.seats_total);
  expect({ held: swimClass.held, students: swimClass.students }, `class ${classId} counters`).toEqual(swimClass.seats_counted);
}

export async function expectPointsAddUp(accountId: string, key: string) {
  const account = await getAccount(accountId, { key });
  expect(account.points_balance, `account ${accountId} balance`).toBeGreaterThanOrEqual(0);
  expect(account.points_granted, `account ${accountId} points`).toBe(
    account.points_balance + account.points_spent - account.points_returned,
  );
  for (const purchase of await purchasesOf(accountId, { key })) {
    if (purchase.payment_no === undefined) {
      // Paid without a charge: wholly by points, or in the shop.
      expect(purchase.card_amount === 0 || purchase.purchase_key.startsWith('in_store:'), purchase.purchase_key).toBe(true);
      continue;
    }
    const payment = await expectSettledAsRecorded(purchase.payment_no, key);
    expect(payment, `purchase ${purchase.purchase_key}`).toMatchObject({ status: 'succeeded', amount_captured: purchase.card_amount });
  }
}

/** The provider's captures of every payment a cart's checkouts made (their metadata names the cart); undefined without the fake. */
export async function capturesOfCart(cartId: string) {
  const { providerUrl } = target();
  if (!providerUrl) return undefined;
  return (await ledger(providerUrl)).paymentIntents.filter((pi) => pi.metadata.cart_id === cartId).flatMap((pi) => pi.captures);
}
