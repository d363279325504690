import type { Payment } from '../../functions/domain/payment.ts';
import type { ReconcileDeps } from '../../functions/domain/reconcile.ts';
import { type CreateRefundDeps, createRefund } from '../../functions/domain/refund.ts';
import type { RefundSagaDeps } from '../../functions/domain/refund-saga.ts';
import { FakeWorkflow } from './fake-workflow.ts';
import { InMemoryPayments } from './in-memory-payments.ts';
import { InMemoryProvider, USD } from './in-memory-provider.ts';
import { InMemoryRefunds } from './in-memory-refunds.ts';
import { ManualClock } from './manual-clock.ts';

export const MERCHANT = 'm_1';

/**
 * A payment of 1000 captured on a charge the in-memory provider holds, and every port a
 * refund of it meets: to create it, to run its saga's steps, to reconcile it.
 */
export async function refundWorld() {
  const time = new ManualClock(Date.parse('2026-11-23T11:00:00Z'));
  const payments = new InMemoryPayments();
  const refunds = new InMemoryRefunds(payments);
  const workflow = new FakeWorkflow();
  const provider = new InMemoryProvider();
  const charge = await provider.authorizeCharge({
    paymentNo: 'pay_000000000000000000000001', amount: 1000, currency: USD, paymentMethod: 'pm_card_visa', idempotencyKey: 'a', metadata: {},
  });
  await provider.captureCharge({ chargeId: charge.id, idempotencyKey: 'c' });
  const payment: Payment = {
    paymentNo: 'pay_000000000000000000000001',
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
  payments.items.set(payment.paymentNo, payment);
  const deps: CreateRefundDeps = { refunds, payments, workflow, clock: time.clock, reconcileAfterSeconds: 300 };
  const sagaDeps: RefundSagaDeps = { ...deps, provider, deployment: 'here' };
  const reconcileDeps: ReconcileDeps = {
    ...deps,
    provider,
    deployment: sagaDeps.deployment,
    refundWorkflow: workflow,
    maxResumes: 2,
    leaseSeconds: 60,
    newLeaseOwner: () => 'owner',
  };
  return {
    time,
    payments,
    refunds,
    workflow,
    provider,
    charge,
    payment,
    deps,
    sagaDeps,
    reconcileDeps,
    /** The payment as stored now. */
    stored: () => payments.items.get(payment.paymentNo)!,
    /** A refund of `amount` under `key`, created as the API creates it (its execution RUNNING). */
    refundOf: async (amount: number, key = 'k1', extra: { expectedAmountRefunded?: number } = {}) =>
      (await createRefund(deps, MERCHANT, key, { paymentNo: payment.paymentNo, amount, operatorId: 'op', ...extra })).refund,
  };
}

export type RefundWorld = Awaited<ReturnType<typeof refundWorld>>;
