import { beforeEach, describe, expect, it, vi } from 'vitest';
import { settleCheckout, type CheckoutDeps } from '../../../functions/domain/carts/checkout.ts';
import { type Cart, CartStatus, type CheckoutTerms } from '../../../functions/domain/carts/model.ts';
import type { SchoolStore } from '../../../functions/domain/carts/store.ts';
import { sweepCarts } from '../../../functions/domain/carts/sweep.ts';
import type { Currency } from '../../../functions/domain/money.ts';
import { type Payment, PaymentStatus } from '../../../functions/domain/payment.ts';
import { InMemoryPayments } from '../../support/in-memory-payments.ts';
import { ManualClock } from '../../support/manual-clock.ts';

/**
 * The deadlines no integration test can wait for (15 minutes, a day), and the schedule's
 * decisions, on a clock the test moves: only the store calls each decision makes are observed.
 */
const T0 = Date.parse('2026-11-23T10:00:00Z');
const USD = 'USD' as Currency;

let time: ManualClock;
let payments: InMemoryPayments;
let store: { [K in keyof SchoolStore]: ReturnType<typeof vi.fn> };
let deps: CheckoutDeps;

beforeEach(() => {
  time = new ManualClock(T0);
  payments = new InMemoryPayments();
  store = new Proxy({} as typeof store, {
    get: (target, name: string) => (target[name as keyof SchoolStore] ??= vi.fn(async () => undefined)),
  });
  deps = {
    store: store as unknown as SchoolStore,
    clock: time.clock,
    holdSeconds: 1800,
    reconcileAfterSeconds: 60,
    settingsOf: async () => ({ pointValue: 1 }),
    payments,
  };
});

function checkingCart(terms: Partial<CheckoutTerms>): Cart {
  return {
    merchantId: 'm_1',
    cartId: 'cart_1',
    accountId: 'acc_1',
    status: CartStatus.Checking,
    version: 3,
    currency: USD,
    items: [{ itemId: 'itm_1', action: 'register', swimmerId: 'swm_1', classId: 'cls_1', amount: 3000, seatPrice: 3000, heldAt: new Date(T0).toISOString() }],
    attempt: 1,
    checkout: {
      mode: 'pay_now',
      paymentMethod: 'pm_card_visa',
      points: 500,
      pointValue: 1,
      total: 3000,
      cardAmount: 2500,
      paymentNo: 'pay_1',
      deadline: new Date(T0 + 15 * 60_000).toISOString(),
      startedAt: new Date(T0).toISOString(),
      ...terms,
    },
    holdsExpireAt: new Date(T0 + 30 * 60_000).toISOString(),
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
  };
}

function payment(status: Payment['status']): Payment {
  const at = new Date(T0).toISOString();
  return {
    paymentNo: 'pay_1',
    merchantId: 'm_1',
    orderNo: 'cart_1-1',
    amount: 2500,
    currency: USD,
    paymentMethod: 'pm_card_visa',
    status,
    version: 2,
    amountCaptured: 0,
    amountRefunded: 0,
    createdAt: at,
    updatedAt: at,
    resumeCount: 0,
  };
}

describe('settling a checking cart', () => {
  it('closes a payment still unauthorized at the deadline, gives the points back and reopens the cart', async () => {
    payments.items.set('pay_1', payment(PaymentStatus.Pending));
    time.advance(15 * 60_000);

    const settled = await settleCheckout(deps, checkingCart({}));

    expect(payments.items.get('pay_1')).toMatchObject({ status: 'canceled', declineCode: 'deadline_passed' });
    expect(settled).toMatchObject({ status: 'pending', lastFailure: 'deadline_passed', version: 4 });
    expect(settled.checkout).toBeUndefined();
    expect(store.reopen).toHaveBeenCalledWith(expect.objectContaining({ from: { status: 'checking', version: 3 } }), 500);
  });

  it('leaves an authorized payment past the deadline to its saga: it is captured or voided within minutes', async () => {
    payments.items.set('pay_1', payment(PaymentStatus.Authorized));
    time.advance(20 * 60_000);

    const settled = await settleCheckout(deps, checkingCart({}));

    expect(settled.status).toBe('checking');
    expect(payments.items.get('pay_1')?.status).toBe('authorized');
    expect(store.reopen).not.toHaveBeenCalled();
  });

  it('waits for a payment still moving before the deadline', async () => {
    payments.items.set('pay_1', payment(PaymentStatus.Pending));
    time.advance(5 * 60_000);

    expect((await settleCheckout(deps, checkingCart({}))).status).toBe('checking');
    expect(payments.items.get('pay_1')?.status).toBe('pending');
  });

  it('undoes a pay-in-store checkout nobody paid within the day: points back, cart pending', async () => {
    const inStore = checkingCart({ mode: 'pay_in_store', paymentMethod: undefined, paymentNo: undefined, deadline: new Date(T0 + 24 * 3600_000).toISOString() });

    expect((await settleCheckout(deps, inStore)).status).toBe('checking');
    time.advance(24 * 3600_000);
    const settled = await settleCheckout(deps, inStore);

    expect(settled).toMatchObject({ status: 'pending', lastFailure: 'deadline_passed' });
    expect(store.reopen).toHaveBeenCalledTimes(1);
  });

  it('reopens the cart of a declined payment with its decline code', async () => {
    payments.items.set('pay_1', { ...payment(PaymentStatus.Failed), declineCode: 'insufficient_funds' });

    const settled = await settleCheckout(deps, checkingCart({}));

    expect(settled).toMatchObject({ status: 'pending', lastFailure: 'insufficient_funds' });
  });

  it('applies the cart of a succeeded payment under the charge id, then fulfils it', async () => {
    payments.items.set('pay_1', { ...payment(PaymentStatus.Succeeded), chargeId: 'pi_1', amountCaptured: 2500 });

    const settled = await settleCheckout(deps, checkingCart({}));

    expect(store.applyPurchase).toHaveBeenCalledWith(
      expect.objectContaining({ cart: expect.objectContaining({ status: 'applied', purchaseKey: 'pi_1' }) }),
      expect.objectContaining({ purchaseKey: 'pi_1', cardAmount: 2500, points: 500 }),
    );
    expect(store.fulfilItem).toHaveBeenCalledTimes(1);
    expect(settled.status).toBe('done');
  });
});

describe('the schedule over holds', () => {
  const hold = { merchantId: 'm_1', classId: 'cls_1', cartId: 'cart_1', accountId: 'acc_1', swimmerId: 'swm_1', itemId: 'itm_1', heldAt: '' };

  it.each([
    ['no longer exists', undefined],
    ['ended', { ...checkingCart({}), status: CartStatus.Expired }],
    ['was paid', { ...checkingCart({}), status: CartStatus.Done }],
  ])('releases a hold whose cart %s', async (_, cart) => {
    store.listDueCarts.mockResolvedValue([]);
    store.listDueHolds.mockResolvedValue([hold]);
    store.getCart.mockResolvedValue(cart);

    const outcomes = await sweepCarts(deps, 10);

    expect(store.releaseHold).toHaveBeenCalledWith(hold, 'm_1');
    expect(outcomes).toEqual([{ cartId: 'cart_1', classId: 'cls_1', decision: 'hold_released' }]);
  });

  it('keeps the hold of a cart still alive, and looks again later', async () => {
    store.listDueCarts.mockResolvedValue([]);
    store.listDueHolds.mockResolvedValue([hold]);
    store.getCart.mockResolvedValue(checkingCart({}));

    const outcomes = await sweepCarts(deps, 10);

    expect(store.releaseHold).not.toHaveBeenCalled();
    expect(store.postponeHold).toHaveBeenCalledWith(hold, new Date(T0 + (1800 + 60) * 1000).toISOString());
    expect(outcomes[0]?.decision).toBe('hold_kept');
  });

  it('goes on with the batch past a cart that fails, reporting it', async () => {
    const broken = { ...checkingCart({}), cartId: 'cart_broken', status: CartStatus.Applied };
    const expiring = { ...checkingCart({}), cartId: 'cart_2', status: CartStatus.Pending, checkout: undefined, items: [] };
    store.listDueCarts.mockResolvedValue([broken, expiring]);
    store.listDueHolds.mockResolvedValue([]);
    store.fulfilItem.mockRejectedValue(new Error('boom'));

    const outcomes = await sweepCarts(deps, 10);

    expect(outcomes.map((o) => [o.cartId, o.decision])).toEqual([
      ['cart_broken', 'errored'],
      ['cart_2', 'expired'],
    ]);
  });
});
