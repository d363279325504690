import { afterEach, expect } from 'vitest';
import { ledger } from '../../local/fake-provider/client.ts';
import { violations } from './invariants/ledger.ts';
import { type SchoolViews, schoolInvariants, schoolStateOfViews } from './invariants/school.ts';
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
 * Checks, after each test of the calling file, everything the test touched against the
 * invariants every simulated history is held to too (test/support/invariants/), in this order:
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
    for (const [cartId, key] of carts.take()) {
      const paymentNo = await settleCart(cartId, key);
      if (paymentNo !== undefined) payments.add(paymentNo, key);
    }
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

/** A cart paying by card moves on by itself: waits for it to rest; its payment, for the checks after it. */
export async function settleCart(cartId: string, key: string): Promise<string | undefined> {
  const cart = await getCart(cartId, { key });
  const paying = cart.status === 'applied' || (cart.status === 'checking' && cart.payment_mode === 'pay_now');
  if (paying) await waitForCart(cartId, ['done', 'pending'], { key });
  return cart.payment_no;
}

/**
 * The school's promises every simulated history is held to (test/support/invariants/school.ts),
 * over what the API shows of a class: `seats_remain + held + students = seats_total`, with the
 * counters equal to the hold and student items counted (`seats_counted`).
 */
export async function expectSeatsAddUp(classId: string, key: string) {
  await expectSchoolHolds({ classes: [await getClass(classId, { key })] }, key);
}

/**
 * The same for an account: `points_granted = points_balance + points_spent - points_returned`,
 * the balance never negative; and each of its purchases paid by card paid by a payment that
 * succeeded for the purchase's card amount, with one capture at the provider.
 */
export async function expectPointsAddUp(accountId: string, key: string) {
  const account = await getAccount(accountId, { key });
  const purchases = await purchasesOf(accountId, { key });
  const payments = [];
  for (const purchase of purchases) if (purchase.payment_no !== undefined) payments.push(await expectSettledAsRecorded(purchase.payment_no, key));
  await expectSchoolHolds({ accounts: [account], purchases: purchases.map((p) => ({ ...p, account_id: accountId })), payments }, key);
}

/** What the API shows, held to the shared school invariants (with the provider's ledger where the target has the fake). */
async function expectSchoolHolds(views: SchoolViews, key: string) {
  const { providerUrl } = target();
  const provider = providerUrl ? await ledger(providerUrl) : undefined;
  expect(violations(schoolInvariants, schoolStateOfViews(views, merchantOfKey(key), provider), 'settled')).toEqual([]);
}

/** How the checks name a merchant they only know by its API key. */
function merchantOfKey(key: string): string {
  return key === target().apiKey ? 'merchant' : 'other merchant';
}

/** The provider's captures of every payment a cart's checkouts made (their metadata names the cart); undefined without the fake. */
export async function capturesOfCart(cartId: string) {
  const { providerUrl } = target();
  if (!providerUrl) return undefined;
  return (await ledger(providerUrl)).paymentIntents.filter((pi) => pi.metadata.cart_id === cartId).flatMap((pi) => pi.captures);
}
