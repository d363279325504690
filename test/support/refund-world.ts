import type { Payment } from '../../functions/domain/payment.ts';
import type { ReconcileDeps } from '../../functions/domain/reconcile.ts';
import { type CreateRefundDeps, createRefund } from '../../functions/domain/refund.ts';
import type { RefundSagaDeps } from '../../functions/domain/refund-saga.ts';
import { USD } from './currencies.ts';
import { ManualClock } from './manual-clock.ts';
import { StrictPaymentRepository } from './strict/payments.ts';
import { StrictRefundRepository } from './strict/refunds.ts';
import { StrictStripe, strictProvider } from './strict/stripe.ts';
import { StrictPayoutStore } from './strict/payouts.ts';
import { StrictWorkflow } from './strict/workflow.ts';

export const MERCHANT = 'm_1';

/**
 * A payment of 1000 captured on a charge Stripe holds, and every port a refund of it meets (to
 * create it, to run its saga's steps, to reconcile it), each as strict as the service it
 * stands for: the repositories' conditions and transactions, Stripe's refunds and idempotency
 * under the real adapter, Step Functions' execution names.
 */
export async function refundWorld() {
  const time = new ManualClock(Date.parse('2026-11-23T11:00:00Z'));
  const payments = new StrictPaymentRepository({ clock: time.clock });
  const refunds = new StrictRefundRepository(payments, { clock: time.clock });
  const workflow = new StrictWorkflow(time.clock);
  const stripe = new StrictStripe({ clock: time.clock });
  const provider = strictProvider(stripe);
  const paymentNo = 'pay_000000000000000000000001';
  const charge = await provider.authorizeCharge({
    paymentNo, amount: 1000, currency: USD, paymentMethod: 'pm_card_visa', idempotencyKey: 'a', metadata: { payment_no: paymentNo },
  });
  await provider.captureCharge({ chargeId: charge.id, idempotencyKey: 'c' });
  const payment: Payment = {
    paymentNo,
    merchantId: MERCHANT,
    orderNo: 'o-1',
    amount: 1000,
    currency: USD,
    paymentMethod: 'pm_card_visa',
    status: 'succeeded',
    version: 5,
    chargeId: charge.id,
    amountCaptured: 1000,
    amountRefunded: 0,
    createdAt: '2026-11-23T10:00:00.000Z',
    updatedAt: '2026-11-23T10:00:00.000Z',
    resumeCount: 0,
  };
  await payments.create(payment);
  const deps: CreateRefundDeps = { refunds, payments, workflow, clock: time.clock, reconcileAfterSeconds: 300 };
  const sagaDeps: RefundSagaDeps = { ...deps, provider, deployment: 'here' };
  const reconcileDeps: ReconcileDeps = {
    ...deps,
    provider,
    deployment: sagaDeps.deployment,
    refundWorkflow: workflow,
    payouts: new StrictPayoutStore(),
    payoutWorkflow: workflow,
    maxResumes: 2,
    leaseSeconds: 60,
    newLeaseOwner: () => 'owner',
  };
  return {
    time,
    payments,
    refunds,
    workflow,
    stripe,
    provider,
    charge,
    payment,
    deps,
    sagaDeps,
    reconcileDeps,
    /** The payment as stored now. */
    stored: () => payments.item(paymentNo)!.payment,
    /** The refunds Stripe made, in order. */
    providerRefunds: () => stripe.current().refunds,
    /** The keys of the refund requests Stripe ran (a replay is not run again). */
    refundKeysSent: () => stripe.ledger.calls.filter((call) => call.request === 'POST /v1/refunds').map((call) => call.idempotencyKey),
    /** A refund of `amount` under `key`, created as the API creates it (its execution RUNNING). */
    refundOf: async (amount: number, key = 'k1', extra: { expectedAmountRefunded?: number } = {}) =>
      (await createRefund(deps, MERCHANT, key, { paymentNo, amount, operatorId: 'op', ...extra })).refund,
  };
}

export type RefundWorld = Awaited<ReturnType<typeof refundWorld>>;
