import { reconcileAfterSeconds } from '../../config/env.ts';
import type { PayoutStepDeps } from '../../domain/payout-saga.ts';
import type { RefundStepDeps } from '../../domain/refund-saga.ts';
import type { StepDeps } from '../../domain/saga.ts';
import { once, systemClock } from './once.ts';
import { paymentRepository, payoutStore, refundRepository } from './persistence.ts';

/** The saga steps that only read and write the payment: no provider, no secret. */
export const stepDeps = /* @__PURE__ */ once(
  (): StepDeps => ({
    payments: paymentRepository(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);

/** The refund saga steps that only write the refund (and its payment's total). */
export const refundStepDeps = /* @__PURE__ */ once(
  (): RefundStepDeps => ({
    refunds: refundRepository(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);

/** The payout saga steps that only write the payout (and its posting). */
export const payoutStepDeps = /* @__PURE__ */ once(
  (): PayoutStepDeps => ({
    payouts: payoutStore(),
    clock: systemClock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);
