import { cartHoldSeconds } from '../../functions/config/env.ts';
import { addSwimmer, createAccount, createClass, grantPoints } from '../../functions/domain/carts/catalog.ts';
import type { CheckoutDeps } from '../../functions/domain/carts/checkout.ts';
import { DEFAULT_CONFLICT_RETRY } from '../../functions/domain/carts/commit.ts';
import type { MerchantSettings } from '../../functions/domain/merchant.ts';
import type { Currency } from '../../functions/domain/money.ts';
import type { Ports } from './gated-ports.ts';
import type { Actor } from './scheduler.ts';
import type { World } from './world.ts';

/**
 * The simulated merchants and their settings: the first with the deployment's defaults, the
 * second with points worth two minor units and carts that hold their seats five minutes.
 */
export const MERCHANT_SETTINGS = {
  'merchant-a': { pointValue: 1 },
  'merchant-b': { pointValue: 2, cartHoldSeconds: 300 },
} as const satisfies Record<string, MerchantSettings>;

export const MERCHANTS = Object.keys(MERCHANT_SETTINGS) as (keyof typeof MERCHANT_SETTINGS)[];

/**
 * The cart use cases' ports as `actor`'s Lambda sees them, as the handlers build them:
 * `startsPayments` for the checkout routes and the schedule, not the payment saga's last step.
 * The conflict retry's backoff is a gate of the actor and its jitter the world's: the policy
 * runs as in production, deterministically.
 */
export function schoolDeps(world: World, actor: Actor, ports: Ports, startsPayments: boolean): CheckoutDeps {
  const backoff = world.lambdaSleep(actor, 'a backoff after a transaction conflict');
  const common = { payments: ports.payments, clock: world.clock.clock, reconcileAfterSeconds: world.reconcileAfterSeconds };
  return {
    ...common,
    store: ports.school,
    // Numbered, as Stripe's ids are here: a history replays to the same carts.
    newId: (prefix) => `${prefix}_${world.nextNumber().toString(16).padStart(24, '0')}`,
    holdSeconds: cartHoldSeconds(),
    // An instance keeps a merchant's settings a minute (it reads them seldom): no gate.
    settingsOf: (merchantId) => world.merchants.settingsOf(merchantId),
    ...(startsPayments && {
      paymentCreation: { ...common, workflow: ports.paymentWorkflow },
      refundCreation: { ...common, refunds: ports.refunds, workflow: ports.refundWorkflow },
    }),
    conflictRetry: {
      retries: DEFAULT_CONFLICT_RETRY.retries,
      sleep: (ms) => {
        world.count('school commit retried after a conflict');
        return backoff(ms);
      },
      random: () => world.random(),
    },
  };
}

const EUR = 'EUR' as Currency;
const USD = 'USD' as Currency;

/**
 * Each merchant's classes: few seats, so buyers run out of them; one priced in another
 * currency, which a cart of the others refuses.
 */
export const CLASSES = [
  { classId: 'dolphins', seatsTotal: 1, price: 1500, currency: EUR },
  { classId: 'sharks', seatsTotal: 2, price: 2500, currency: EUR },
  { classId: 'whales', seatsTotal: 2, price: 900, currency: USD },
] as const;

/** Each merchant's accounts, each with the same two swimmers' ids. */
export const ACCOUNTS = ['family-1', 'family-2'] as const;
export const SWIMMERS = ['ada', 'bo'] as const;

/** Points each merchant's first account starts with. */
const SEED_POINTS = 2000;

/**
 * The school every history starts with, written through the domain on the store itself (no
 * gates: it is the world before the history): each merchant with its settings, its classes,
 * accounts, swimmers, and points on its first account. The routes that make them are
 * simulated too, as repeats.
 */
export async function seedSchool(world: World): Promise<void> {
  const deps = { store: world.school, clock: world.clock.clock };
  for (const merchantId of MERCHANTS) {
    await world.merchants.addMerchantKey({ merchantId, name: merchantId, ...MERCHANT_SETTINGS[merchantId] }, { keyHash: `key-of-${merchantId}`, keyId: `key_of_${merchantId}`, hint: merchantId.slice(-4) });
    for (const swimClass of CLASSES) await createClass(deps, merchantId, { ...swimClass, name: swimClass.classId });
    for (const accountId of ACCOUNTS) {
      await createAccount(deps, merchantId, { accountId });
      for (const swimmerId of SWIMMERS) await addSwimmer(deps, merchantId, accountId, { swimmerId, name: swimmerId });
    }
    await grantPoints(deps, merchantId, ACCOUNTS[0], { amount: SEED_POINTS, reason: 'seed' }, 'header:seed');
  }
}
