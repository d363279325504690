import fc from 'fast-check';
import { type Cart, FINISHED, cartTotal } from '../../functions/domain/carts/model.ts';
import { type Command, type CommandRegistry, cards, paces, pick, request } from './commands.ts';
import { ACCOUNTS, CLASSES, MERCHANTS, MERCHANT_SETTINGS, SWIMMERS } from './school.ts';
import type { CartOrder } from './cart-api.ts';
import type { Actor } from './scheduler.ts';
import type { Simulation } from './simulation.ts';

/** Mostly the first merchant; the second has points worth two and carts holding five minutes. */
const merchants = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) });
const merchantOf = (index: number) => MERCHANTS[index % MERCHANTS.length] as (typeof MERCHANTS)[number];

const classIndex = fc.nat(CLASSES.length - 1);
const accountIndex = fc.nat(ACCOUNTS.length - 1);
const swimmerIndex = fc.nat(SWIMMERS.length - 1);

/**
 * Mostly a cart still open (or one `likely` fits the command): a command on another is
 * refused, which is worth trying now and then.
 */
function cartAt(sim: Simulation, index: number, likely: (cart: Cart) => boolean = (cart) => !FINISHED.has(cart.status)): Cart | undefined {
  const carts = sim.world.school.contents().carts;
  const fitting = carts.filter(likely);
  return pick(fitting.length > 0 && index % 5 !== 0 ? fitting : carts, index);
}

/** The school's own routes, sent again: mostly a repeat answered as it is, now and then a class with other seats. */
const createClass: fc.Arbitrary<Command> = fc
  .record({ merchant: merchants, swimClass: classIndex, otherSeats: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), pace: paces })
  .map(({ merchant, swimClass, otherSeats, pace }) => ({
    toString: () => `create class(${merchantOf(merchant)}, ${CLASSES[swimClass]?.classId}${otherSeats ? ', other seats' : ''}, ${pace})`,
    async run(sim: Simulation) {
      const chosen = CLASSES[swimClass]!;
      const order = { merchantId: merchantOf(merchant), ...chosen, seatsTotal: chosen.seatsTotal + (otherSeats ? 1 : 0) };
      await request(sim, sim.carts.createClass(order), pace);
    },
  }));

const createAccount: fc.Arbitrary<Command> = fc
  .record({ merchant: merchants, account: accountIndex, swimmer: fc.option(swimmerIndex, { nil: undefined }), pace: paces })
  .map(({ merchant, account, swimmer, pace }) => ({
    toString: () => `${swimmer === undefined ? 'create account' : `add swimmer ${SWIMMERS[swimmer]} to`}(${merchantOf(merchant)}, ${ACCOUNTS[account]}, ${pace})`,
    async run(sim: Simulation) {
      const merchantId = merchantOf(merchant);
      const accountId = ACCOUNTS[account]!;
      const actor =
        swimmer === undefined ? sim.carts.createAccount(merchantId, accountId) : sim.carts.addSwimmer(merchantId, accountId, SWIMMERS[swimmer]!);
      await request(sim, actor, pace);
    },
  }));

const grantPoints: fc.Arbitrary<Command> = fc
  .record({ merchant: merchants, account: accountIndex, amount: fc.constantFrom(300, 1000, 5000), key: fc.constantFrom('grant-1', 'grant-2'), pace: paces })
  .map(({ merchant, account, amount, key, pace }) => ({
    toString: () => `grant points(${merchantOf(merchant)}, ${ACCOUNTS[account]}, ${amount}, ${key}, ${pace})`,
    async run(sim: Simulation) {
      await request(sim, sim.carts.grantPoints(merchantOf(merchant), ACCOUNTS[account]!, amount, key), pace);
    },
  }));

const openCart: fc.Arbitrary<Command> = fc.record({ merchant: merchants, account: accountIndex, pace: paces }).map(({ merchant, account, pace }) => ({
  toString: () => `open cart(${merchantOf(merchant)}, ${ACCOUNTS[account]}, ${pace})`,
  async run(sim: Simulation) {
    await request(sim, sim.carts.openCart(merchantOf(merchant), ACCOUNTS[account]!), pace);
  },
}));

type Action = 'register' | 'cancel' | 'change';
const actions = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Action>('register') },
  { weight: 1, arbitrary: fc.constant<Action>('cancel') },
  { weight: 2, arbitrary: fc.constant<Action>('change') },
);

const addItem: fc.Arbitrary<Command> = fc
  .record({ cart: fc.nat(), action: actions, swimmer: swimmerIndex, to: classIndex, from: classIndex, pace: paces })
  .map(({ cart: index, action, swimmer, to, from, pace }) => ({
    toString: () => `add item(cart #${index}, ${action} ${SWIMMERS[swimmer]} ${action === 'change' ? `from ${CLASSES[from]?.classId} ` : ''}to ${CLASSES[to]?.classId}, ${pace})`,
    async run(sim: Simulation) {
      const cart = cartAt(sim, index);
      if (cart === undefined) return;
      const swimmerId = SWIMMERS[swimmer]!;
      const classId = CLASSES[to]!.classId;
      const body =
        action === 'change'
          ? { action, swimmer_id: swimmerId, from_class_id: CLASSES[from]!.classId, to_class_id: classId }
          : { action, swimmer_id: swimmerId, class_id: classId };
      await request(sim, sim.carts.addItem({ merchantId: cart.merchantId, cartId: cart.cartId, body }), pace);
    },
  }));

const removeItem: fc.Arbitrary<Command> = fc.record({ cart: fc.nat(), item: fc.nat(), pace: paces }).map(({ cart: index, item, pace }) => ({
  toString: () => `remove item(cart #${index}, item #${item}, ${pace})`,
  async run(sim: Simulation) {
    const cart = cartAt(sim, index);
    const line = cart && pick(cart.items, item);
    if (cart === undefined || line === undefined) return;
    await request(sim, sim.carts.removeItem({ merchantId: cart.merchantId, cartId: cart.cartId, itemId: line.itemId }), pace);
  },
}));

/** How many points a checkout spends, from the cart and the account as the client sees them. */
const pointsChoices = {
  none: () => 0,
  half: (left: number, value: number) => Math.floor(left / 2 / value),
  all: (left: number, value: number) => Math.floor(left / value),
  // The card part a few cents: under the provider's minimum, which it refuses.
  'all but a few cents': (left: number, value: number) => Math.max(0, Math.floor((left - 20) / value)),
  'more than the balance': (_left: number, _value: number, balance: number) => balance + 1,
};

const checkoutTerms = fc.record({
  mode: fc.oneof({ weight: 3, arbitrary: fc.constant('pay_now' as const) }, { weight: 2, arbitrary: fc.constant('pay_in_store' as const) }),
  card: cards,
  points: fc.constantFrom(...(Object.keys(pointsChoices) as (keyof typeof pointsChoices)[])),
  key: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(1, 2) }, { weight: 1, arbitrary: fc.constant('shared' as const) }),
});
type CheckoutTerms = typeof checkoutTerms extends fc.Arbitrary<infer T> ? T : never;

const describeCheckout = ({ mode, card, points, key }: CheckoutTerms) =>
  `${mode}${mode === 'pay_now' ? ` ${card}` : ''}, points ${points}, key ${key}`;

/** Checks the cart out as a client would, from the cart and the account as it sees them. */
function sendCheckout(sim: Simulation, cart: Cart, { mode, card, points, key }: CheckoutTerms): Actor {
  const account = sim.world.school.contents().accounts.find((a) => a.merchantId === cart.merchantId && a.accountId === cart.accountId);
  const value = MERCHANT_SETTINGS[cart.merchantId as (typeof MERCHANTS)[number]].pointValue;
  const spent = pointsChoices[points](Math.max(cartTotal(cart), 0), value, account?.pointsBalance ?? 0);
  const body = { payment_mode: mode, ...(mode === 'pay_now' && { payment_method: card }), points: spent };
  // A client's key names one checkout attempt of one cart; a shared one is a client's bug.
  const headerKey = key === 'shared' ? 'checkout' : `${cart.cartId}-checkout-${key}`;
  return sim.carts.checkout({ merchantId: cart.merchantId, cartId: cart.cartId, body, headerKey });
}

const checkout: fc.Arbitrary<Command> = fc.record({ cart: fc.nat(), terms: checkoutTerms, pace: paces }).map(({ cart: index, terms, pace }) => ({
  toString: () => `checkout(cart #${index}, ${describeCheckout(terms)}, ${pace})`,
  async run(sim: Simulation) {
    const cart = cartAt(sim, index);
    if (cart !== undefined) await request(sim, sendCheckout(sim, cart, terms), pace);
  },
}));

/**
 * A family shops in one go: opens its cart, holds seats for its swimmers (or gives up, or
 * changes, a class one of them is in), and checks out; each request answered before the next,
 * the checkout's own saga paced as the history says.
 */
const shop: fc.Arbitrary<Command> = fc
  .record({
    merchant: merchants,
    account: accountIndex,
    lines: fc.uniqueArray(fc.record({ action: actions, swimmer: swimmerIndex, swimClass: classIndex }), {
      minLength: 1,
      maxLength: 3,
      selector: ({ swimmer, swimClass }) => `${swimmer}:${swimClass}`,
    }),
    terms: checkoutTerms,
    pace: paces,
  })
  .map(({ merchant, account, lines, terms, pace }) => ({
    toString: () =>
      `shop(${merchantOf(merchant)}, ${ACCOUNTS[account]}, ${lines.map((l) => `${l.action} ${SWIMMERS[l.swimmer]} ${CLASSES[l.swimClass]?.classId}`).join(', ')}, ${describeCheckout(terms)}, ${pace})`,
    async run(sim: Simulation) {
      const merchantId = merchantOf(merchant);
      const accountId = ACCOUNTS[account]!;
      await request(sim, sim.carts.openCart(merchantId, accountId), 'to the end');
      const stored = sim.world.school.contents();
      const cartId = stored.accounts.find((a) => a.merchantId === merchantId && a.accountId === accountId)?.activeCartId;
      if (cartId === undefined) return;
      for (const { action, swimmer, swimClass } of lines) {
        const swimmerId = SWIMMERS[swimmer]!;
        const classId = CLASSES[swimClass]!.classId;
        // A cancel or change gives up a class the swimmer is in, when it is in one.
        const inClass = stored.swimmers.find((s) => s.merchantId === merchantId && s.accountId === accountId && s.swimmerId === swimmerId)?.classIds[0];
        const body =
          action === 'register' || inClass === undefined
            ? { action: 'register', swimmer_id: swimmerId, class_id: classId }
            : action === 'cancel'
              ? { action, swimmer_id: swimmerId, class_id: inClass }
              : { action, swimmer_id: swimmerId, from_class_id: inClass, to_class_id: classId };
        await request(sim, sim.carts.addItem({ merchantId, cartId, body }), 'to the end');
      }
      const cart = sim.world.school.contents().carts.find((c) => c.cartId === cartId);
      if (cart !== undefined) await request(sim, sendCheckout(sim, cart, terms), pace);
    },
  }));

const cartAction = (name: string, send: (sim: Simulation, cart: CartOrder) => Actor, likely?: (cart: Cart) => boolean): fc.Arbitrary<Command> =>
  fc.record({ cart: fc.nat(), pace: paces }).map(({ cart: index, pace }) => ({
    toString: () => `${name}(cart #${index}, ${pace})`,
    async run(sim: Simulation) {
      const cart = cartAt(sim, index, likely);
      if (cart !== undefined) await request(sim, send(sim, { merchantId: cart.merchantId, cartId: cart.cartId }), pace);
    },
  }));

/** Other transactions on the school's items: the next commits meet a TransactionConflict, which the domain retries (six times). */
const contention: fc.Arbitrary<Command> = fc.constantFrom(1, 3, 7).map((times) => ({
  toString: () => `contention(the next ${times} school commits conflict)`,
  async run(sim: Simulation) {
    sim.world.school.conflictNext(times);
  },
}));

/** The carts part of a history: the school's routes, cart edits, both checkouts, the shop's confirmation, cancels. */
export const cartCommands: CommandRegistry = () => [
  { name: 'create class', weight: 1, arbitrary: createClass },
  { name: 'create account or swimmer', weight: 1, arbitrary: createAccount },
  { name: 'grant points', weight: 1, arbitrary: grantPoints },
  { name: 'shop', weight: 4, arbitrary: shop },
  { name: 'open cart', weight: 2, arbitrary: openCart },
  { name: 'add item', weight: 5, arbitrary: addItem },
  { name: 'remove item', weight: 1, arbitrary: removeItem },
  { name: 'checkout', weight: 4, arbitrary: checkout },
  {
    name: 'confirm in store',
    weight: 2,
    arbitrary: cartAction(
      'confirm in store',
      (sim, cart) => sim.carts.confirmInStore(cart),
      (cart) => cart.status === 'checking' && cart.checkout?.mode === 'pay_in_store',
    ),
  },
  { name: 'cancel cart', weight: 1, arbitrary: cartAction('cancel cart', (sim, cart) => sim.carts.cancel(cart)) },
  { name: 'contention', weight: 1, arbitrary: contention },
];
