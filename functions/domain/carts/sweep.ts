import { ConcurrentModificationError, isProcessExit } from '../errors.ts';
import { type CartDeps, cancelCart, expireCart, later, move, releaseHold } from './cart.ts';
import { type CheckoutDeps, settleCheckout } from './checkout.ts';
import { fulfil } from './fulfilment.ts';
import { commit } from './commit.ts';
import { type Cart, CartStatus, FINISHED, type SeatHold } from './model.ts';

export type CartSweepDecision =
  | 'expired'
  | 'canceled'
  | 'settled'
  | 'fulfilled'
  | 'waiting'
  | 'hold_released'
  | 'hold_kept'
  | 'contended'
  | 'errored';

export interface CartSweepOutcome {
  readonly cartId: string;
  readonly status?: CartStatus;
  readonly classId?: string;
  readonly decision: CartSweepDecision;
  readonly error?: unknown;
}

/**
 * One run of the schedule over carts: found through the (status, due time) index, never a
 * scan, at most `batchSize` carts and as many holds; the next run picks up the rest.
 *
 * - an editable cart whose holds lapsed: expired (each hold released once);
 * - a cart left `expiring` or `canceling` by a crash: finished the same way;
 * - a checking cart: settled from its payment, or undone past its deadline;
 * - an `applied` cart left half-fulfilled: fulfilled;
 * - a hold whose cart ended, or no longer exists: released.
 */
export async function sweepCarts(deps: CheckoutDeps, batchSize: number): Promise<CartSweepOutcome[]> {
  const outcomes: CartSweepOutcome[] = [];
  for (const cart of await deps.store.listDueCarts(deps.clock(), batchSize)) {
    outcomes.push(await isolated(cart.cartId, cart.status, () => moveOn(deps, cart)));
  }
  for (const hold of await deps.store.listDueHolds(deps.clock(), batchSize)) {
    const outcome = await isolated(hold.cartId, undefined, async () => {
      const cart = await deps.store.getCart(hold.merchantId, hold.cartId);
      if (cart === undefined || FINISHED.has(cart.status)) {
        await releaseHold(deps, hold);
        return 'hold_released';
      }
      // The cart is alive: it releases or converts its own holds; look again once it should have ended.
      await postponeHold(deps, hold, later(deps.clock(), deps.holdSeconds + deps.reconcileAfterSeconds));
      return 'hold_kept';
    });
    outcomes.push({ ...outcome, classId: hold.classId });
  }
  return outcomes;
}

async function moveOn(deps: CheckoutDeps, cart: Cart): Promise<CartSweepDecision> {
  switch (cart.status) {
    case CartStatus.Active:
    case CartStatus.Pending:
    case CartStatus.Expiring:
      await expireCart(deps, cart);
      return 'expired';
    case CartStatus.Canceling:
      await cancelCart(deps, cart.merchantId, cart.cartId);
      return 'canceled';
    case CartStatus.Checking: {
      const settled = await settleCheckout(deps, cart);
      if (settled.status !== CartStatus.Checking) return 'settled';
      await postpone(deps, settled);
      return 'waiting';
    }
    case CartStatus.Applied:
      await fulfil(deps, cart);
      return 'fulfilled';
    default:
      return 'waiting';
  }
}

/**
 * A checking cart still waiting: one whose payment is still moving looked at again a delay
 * later, or at its deadline; one waiting for the shop at its deadline.
 */
async function postpone(deps: CartDeps, cart: Cart): Promise<void> {
  const now = deps.clock();
  const soon = later(now, deps.reconcileAfterSeconds);
  const terms = cart.checkout;
  const upcoming = terms !== undefined && terms.deadline > now.toISOString() && (terms.paymentNo === undefined || terms.deadline < soon);
  await move(deps, cart, {}, upcoming ? terms.deadline : soon);
}

async function postponeHold(deps: CartDeps, hold: SeatHold & { merchantId: string }, dueAt: string): Promise<void> {
  const { merchantId, classId, cartId, swimmerId } = hold;
  // Refused only when the hold was released meanwhile: nothing left to look at later.
  await commit(deps, `hold of cart ${cartId} in class ${classId}`, {
    hold: { kind: 'postponeHold', merchantId, classId, cartId, swimmerId, dueAt },
  });
}

async function isolated(
  cartId: string,
  status: CartStatus | undefined,
  run: () => Promise<CartSweepDecision>,
): Promise<CartSweepOutcome> {
  try {
    return { cartId, ...(status !== undefined && { status }), decision: await run() };
  } catch (error) {
    // A dead process looks at no other cart.
    if (isProcessExit(error)) throw error;
    // The customer moved the cart meanwhile (a checkout beat its expiry): the next run
    // decides on the cart as it is then.
    if (error instanceof ConcurrentModificationError) return { cartId, ...(status !== undefined && { status }), decision: 'contended' };
    // One cart's trouble must not stop the others; it stays due and is tried next run.
    return { cartId, ...(status !== undefined && { status }), decision: 'errored', error };
  }
}
