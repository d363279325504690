import { describe, expect, it } from 'vitest';
import { checkSchoolAfterEach } from '../support/school-invariants.ts';
import {
  addItem,
  checkout,
  getAccount,
  getClass,
  givePoints,
  newAccount,
  newClass,
  newSwimmer,
  openCart,
  register,
  waitForCart,
} from '../support/school.ts';
import { api } from '../support/target.ts';

/**
 * Cancels and changes move what a cart costs: a cart that buys more pays the difference like
 * any cart; one that gives back more than it buys pays the difference back, card first (to
 * the card of the purchase that paid each seat, through the refund machinery), then points.
 */
const track = checkSchoolAfterEach();

/** A swimmer registered in `classId` by a paid checkout; returns what the next cart needs. */
async function registered(classId: string, checkoutBody: Record<string, unknown>, points = 0) {
  const account = await newAccount();
  if (points > 0) await givePoints(account.account_id, points);
  const swimmer = await newSwimmer(account.account_id);
  track({ accountId: account.account_id, classId });
  const cart = (await openCart(account.account_id)).body;
  expect((await register(cart.cart_id, swimmer.swimmer_id, classId)).status).toBe(200);
  expect((await checkout(cart.cart_id, checkoutBody)).status).toBe(202);
  track({ cartId: cart.cart_id });
  const paid = await waitForCart(cart.cart_id, ['done', 'pending']);
  expect(paid.status).toBe('done');
  return { accountId: account.account_id, swimmerId: swimmer.swimmer_id, paid };
}

/** The refunds of a payment, once none is pending. */
async function settledRefunds(paymentNo: string) {
  for (let tries = 0; ; tries++) {
    const { body } = await api('GET', `/v1/payments/${paymentNo}`);
    if (body.refunds.every((refund: { status: string }) => refund.status !== 'pending')) return body;
    if (tries > 300) throw new Error(`refunds of ${paymentNo} still pending`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a cart whose cancels and changes move what was paid', () => {
  it('pays a cancelled seat back to the card first, the rest in points', async () => {
    // Prepare: a 3000 seat paid 1000 in points and 2000 by card.
    const swimClass = await newClass({ price: 3000, seats_total: 2 });
    const { accountId, swimmerId, paid } = await registered(
      swimClass.class_id,
      { payment_mode: 'pay_now', payment_method: 'pm_card_visa', points: 1000 },
      1000,
    );
    const cart = (await openCart(accountId)).body;
    track({ cartId: cart.cart_id });

    // Act
    const canceled = await addItem(cart.cart_id, { action: 'cancel', swimmer_id: swimmerId, class_id: swimClass.class_id });
    const answer = await checkout(cart.cart_id, { payment_mode: 'pay_now' });

    // Assess: no card needed; 2000 back to the card, 1000 back as points; the seat back to the class.
    expect(canceled.body.totals.price).toBe(-3000);
    expect(answer.status).toBe(202);
    expect((await waitForCart(cart.cart_id, ['done'])).status).toBe('done');
    const payment = await settledRefunds(paid.payment_no);
    expect(payment).toMatchObject({ amount_refunded: 2000, refunds: [{ amount: 2000, status: 'succeeded' }] });
    expect(await getAccount(accountId)).toMatchObject({
      points_balance: 1000,
      points_granted: 1000,
      points_spent: 1000,
      points_returned: 1000,
      swimmers: [{ swimmer_id: swimmerId, class_ids: [] }],
    });
    expect(await getClass(swimClass.class_id)).toMatchObject({ seats_remain: 2, held: 0, students: 0 });
  });

  it('moves a swimmer to a cheaper class in one -1/+1 and pays the difference back to the card', async () => {
    // Prepare
    const dear = await newClass({ price: 3000, seats_total: 1 });
    const cheap = await newClass({ price: 1000, seats_total: 1 });
    const { accountId, swimmerId, paid } = await registered(dear.class_id, { payment_mode: 'pay_now', payment_method: 'pm_card_visa' });
    track({ classId: cheap.class_id });
    const cart = (await openCart(accountId)).body;
    track({ cartId: cart.cart_id });

    // Act
    const changed = await addItem(cart.cart_id, {
      action: 'change',
      swimmer_id: swimmerId,
      from_class_id: dear.class_id,
      to_class_id: cheap.class_id,
    });
    const held = await getClass(cheap.class_id);
    await checkout(cart.cart_id, { payment_mode: 'pay_now' });

    // Assess: the new seat held until the checkout, then the swimmer moved in one step.
    expect(changed.body.totals.price).toBe(-2000);
    expect(held).toMatchObject({ seats_remain: 0, held: 1, students: 0 });
    expect((await waitForCart(cart.cart_id, ['done'])).status).toBe('done');
    expect(await settledRefunds(paid.payment_no)).toMatchObject({ amount_refunded: 2000 });
    expect(await getClass(dear.class_id)).toMatchObject({ seats_remain: 1, held: 0, students: 0 });
    expect(await getClass(cheap.class_id)).toMatchObject({ seats_remain: 0, held: 0, students: 1 });
    expect((await getAccount(accountId)).swimmers[0].class_ids).toEqual([cheap.class_id]);
  });

  it('moves a swimmer to a dearer class for the difference, paid at checkout like any cart', async () => {
    // Prepare
    const cheap = await newClass({ price: 1000, seats_total: 1 });
    const dear = await newClass({ price: 3000, seats_total: 1 });
    const { accountId, swimmerId } = await registered(cheap.class_id, { payment_mode: 'pay_now', payment_method: 'pm_card_visa' });
    track({ classId: dear.class_id });
    const cart = (await openCart(accountId)).body;
    track({ cartId: cart.cart_id });

    // Act
    await addItem(cart.cart_id, { action: 'change', swimmer_id: swimmerId, from_class_id: cheap.class_id, to_class_id: dear.class_id });
    const answer = await checkout(cart.cart_id, { payment_mode: 'pay_now', payment_method: 'pm_card_visa' });

    // Assess: 2000 by card; the swimmer in the dearer class; a later cancel would pay back its full 3000.
    expect(answer.body.totals).toMatchObject({ price: 2000, card: 2000 });
    const done = await waitForCart(cart.cart_id, ['done', 'pending']);
    expect(done.status).toBe('done');
    expect(await getClass(dear.class_id)).toMatchObject({ students: 1, held: 0, seats_remain: 0 });
    expect(await getClass(cheap.class_id)).toMatchObject({ students: 0, seats_remain: 1 });
    const next = (await openCart(accountId)).body;
    track({ cartId: next.cart_id });
    const cancel = await addItem(next.cart_id, { action: 'cancel', swimmer_id: swimmerId, class_id: dear.class_id });
    expect(cancel.body.totals.price).toBe(-3000);
    expect((await api('POST', `/v1/carts/${next.cart_id}/cancel`)).status).toBe(200);
  });
});
