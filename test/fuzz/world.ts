import { FINISHED } from '../../functions/domain/carts/model.ts';
import { expectSettledAsRecorded } from '../support/ledger-check.ts';
import { givePoints, newAccount, newClass, newSwimmer, openCart, register } from '../support/school.ts';
import { api, paymentBody, waitForRefunds } from '../support/target.ts';
import { observe } from './runner.ts';
import { type Things, type World, emptyThings } from './template.ts';

/** The fuzzing merchant's accounts that shop: each keeps a cart open. */
const SHOPPERS = 3;
/** How many requests a cart waiting for the shop is left before it is given up. */
const CHECKING_FOR = 20;

/** Large enough that the fuzzer's small refunds never run out of money to refund. */
const REFUNDABLE = 5_000_000;

/**
 * What the fuzzer's requests act on, made through the API for each merchant: classes (one
 * free, one in euros, one with a single seat), accounts with points and swimmers, an open cart
 * holding a seat, succeeded payments with a refund.
 */
export async function buildWorld(keys: { merchant: string; other: string }): Promise<World> {
  const world: World = { merchant: emptyThings(), other: emptyThings(), runId: Date.now().toString(36), sequence: 0, requests: 0 };
  await fill(world.merchant, keys.merchant, SHOPPERS);
  await fill(world.other, keys.other, 1);
  return world;
}

async function fill(things: Things, key: string, accounts: number): Promise<void> {
  const options = { key };
  for (const fields of [{ seats_total: 40 }, { price: 0, seats_total: 10 }, { currency: 'EUR', price: 2500 }, { seats_total: 1 }]) {
    things.classes.push((await newClass(fields, options)).class_id);
  }
  for (let index = 0; index < accounts; index++) {
    const accountId = (await newAccount({}, options)).account_id as string;
    things.accounts.push(accountId);
    await givePoints(accountId, 50_000, options);
    const swimmers = [(await newSwimmer(accountId, 'Ada', options)).swimmer_id, (await newSwimmer(accountId, 'Grace', options)).swimmer_id];
    things.swimmers.set(accountId, swimmers);
    const cart = (await openCart(accountId, options)).body;
    things.carts.push({ cartId: cart.cart_id, accountId });
    const held = (await register(cart.cart_id, swimmers[0], things.classes[0]!, options)).body;
    things.items.set(cart.cart_id, held.items.map((item: { item_id: string }) => item.item_id));
  }
  for (let index = 0; index < 2; index++) {
    const created = await api('POST', '/v1/payments', paymentBody({ amount: REFUNDABLE }), { key });
    await expectSettledAsRecorded(created.body.payment_no, key);
    things.payments.push(created.body.payment_no);
  }
  const refund = await api('POST', '/v1/refunds', { payment_no: things.payments[0], amount: 100, operator_id: 'fuzz-world' }, { key });
  things.refunds.push(refund.body.refund_no);
  await waitForRefunds(things.payments[0]!, { key });
}

/**
 * Opens a new cart holding a seat for each shopper whose last cart ended, giving up one left
 * waiting to be paid in the shop first: a few checkouts in, every cart request would otherwise
 * meet `cart_closed` or `cart_locked` and go no deeper.
 */
export async function reopenEndedCarts(world: World, key: string): Promise<void> {
  const things = world.merchant;
  for (const accountId of things.accounts.slice(0, SHOPPERS)) {
    const latest = things.carts.findLast((cart) => cart.accountId === accountId);
    // Left checking for a while, so confirm-in-store and repeated checkouts meet it first.
    if (latest?.status === 'checking' && world.requests - (latest.seenAt ?? 0) > CHECKING_FOR) {
      // A card checkout under way refuses (409) and ends by itself; one waiting for the shop is canceled.
      const canceled = await api('POST', `/v1/carts/${latest.cartId}/cancel`, undefined, { key });
      if (canceled.status === 200) observe(things, canceled.body, world.requests);
    }
    if (latest !== undefined && !FINISHED.has(latest.status as never)) continue;
    const cart = (await openCart(accountId, { key })).body;
    observe(things, cart, world.requests);
    await holdAnySeat(things, cart.cart_id, accountId, key);
  }
}

async function holdAnySeat(things: Things, cartId: string, accountId: string, key: string): Promise<void> {
  for (const swimmerId of things.swimmers.get(accountId) ?? []) {
    for (const classId of things.classes) {
      const held = await register(cartId, swimmerId, classId, { key });
      if (held.status === 200) return observe(things, held.body);
    }
  }
}
