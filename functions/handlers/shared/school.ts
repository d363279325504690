import { cartHoldSeconds, reconcileAfterSeconds } from '../../config/env.ts';
import type { CartDeps } from '../../domain/carts/cart.ts';
import type { CatalogDeps } from '../../domain/carts/catalog.ts';
import type { CheckoutDeps } from '../../domain/carts/checkout.ts';
import type { MerchantSettings, SettingsDeps } from '../../domain/merchant.ts';
import { keptFor, once, systemClock } from './once.ts';
import { merchantKeyStore, paymentRepository, schoolStore } from './persistence.ts';
import { createPaymentDeps, createRefundDeps } from './workflow.ts';

/**
 * Merchant settings are read by every cart edit and checkout and change rarely: an instance
 * keeps each merchant's for a minute, so a setting changed takes effect within one.
 */
const SETTINGS_KEPT_MS = 60_000;

const merchantSettings = /* @__PURE__ */ once(() =>
  keptFor(SETTINGS_KEPT_MS, (merchantId): Promise<MerchantSettings> => merchantKeyStore().settingsOf(merchantId)),
);

/** The settings routes read and write the merchant's own item, never through the cart routes' minute-long copy. */
export const settingsDeps = /* @__PURE__ */ once((): SettingsDeps => ({ store: merchantKeyStore(), defaultHoldSeconds: cartHoldSeconds() }));

/** Classes, accounts, swimmers and points: the table alone. */
export const catalogDeps = /* @__PURE__ */ once((): CatalogDeps => ({ store: schoolStore(), clock: systemClock }));

/** Cart edits, cancels and reads: the table alone. */
export const cartDeps = /* @__PURE__ */ once(
  (): CartDeps => ({
    ...catalogDeps(),
    holdSeconds: cartHoldSeconds(),
    settingsOf: merchantSettings(),
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);

/**
 * Checkouts and their settlement. `startsPayments`: the checkout route and the schedule start
 * the card part's saga and the refunds of a difference; the saga's own last step, a cancel and
 * an in-store confirmation only read payments (and so have no state machine's ARN to start one).
 */
function checkoutDepsWith(startsPayments: boolean): () => CheckoutDeps {
  return once(
    (): CheckoutDeps => ({
      ...cartDeps(),
      payments: paymentRepository(),
      ...(startsPayments && { paymentCreation: createPaymentDeps(), refundCreation: createRefundDeps() }),
    }),
  );
}

export const checkoutDeps = /* @__PURE__ */ checkoutDepsWith(true);
export const settlementDeps = /* @__PURE__ */ checkoutDepsWith(false);
