import { beforeEach, describe, expect, it } from 'vitest';
import {
  AmountRefundedChangedError,
  IdempotencyKeyMismatchError,
  NotFoundError,
  PaymentNotCapturedError,
  ProviderUnavailableError,
  RefundExceedsCapturedError,
} from '../../../functions/domain/errors.ts';
import { createRefund, derivedRefundKey } from '../../../functions/domain/refund.ts';
import { markRefundFailed, recordRefund, submitRefund } from '../../../functions/domain/refund-saga.ts';
import { type ReconcileDeps, reconcileRefunds } from '../../../functions/domain/reconcile.ts';
import { executionName } from '../../../functions/domain/saga-start.ts';
import { FakeWorkflow } from '../../support/fake-workflow.ts';
import { InMemoryProvider } from '../../support/in-memory-provider.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { MERCHANT, type RefundWorld, refundWorld } from '../../support/refund-world.ts';
import { StrictPaymentRepository } from '../../support/strict/payments.ts';
import { StrictRefundRepository } from '../../support/strict/refunds.ts';
import { StrictStripe, strictProvider } from '../../support/strict/stripe.ts';

let world: RefundWorld;

beforeEach(async () => {
  world = await refundWorld();
});

const request = (amount: number, extra: Partial<{ expectedAmountRefunded: number; operatorId: string }> = {}) => ({
  paymentNo: world.payment.paymentNo,
  amount,
  operatorId: 'op',
  ...extra,
});

describe('createRefund', () => {
  it('reserves the amount on the payment and starts the refund saga', async () => {
    const { refund, created } = await createRefund(world.deps, MERCHANT, 'k1', request(400));

    expect(created).toBe(true);
    expect(refund).toMatchObject({ status: 'pending', amount: 400, chargeId: world.charge.id, currency: 'USD' });
    expect(world.stored()).toMatchObject({ amountRefunded: 400, refundNos: [refund.refundNo] });
    expect(await world.workflow.describe(refund.refundNo)).toBe('RUNNING');
  });

  it('answers a repeat of the key with the first refund, and refuses it with other parameters', async () => {
    const first = await createRefund(world.deps, MERCHANT, 'k1', request(400));

    const again = await createRefund(world.deps, MERCHANT, 'k1', request(400));
    const other = createRefund(world.deps, MERCHANT, 'k1', request(401));

    expect(again).toEqual({ refund: first.refund, created: false });
    await expect(other).rejects.toBeInstanceOf(IdempotencyKeyMismatchError);
    await expect(other).rejects.toMatchObject({ field: 'amount' });
    expect(world.stored().amountRefunded).toBe(400);
  });

  it('never lets refunds together pass what was captured', async () => {
    await createRefund(world.deps, MERCHANT, 'k1', request(600));

    await expect(createRefund(world.deps, MERCHANT, 'k2', request(401))).rejects.toBeInstanceOf(RefundExceedsCapturedError);
    expect((await createRefund(world.deps, MERCHANT, 'k3', request(400))).created).toBe(true);
  });

  it('refuses a stale expected_amount_refunded, an uncaptured payment and another merchant', async () => {
    await createRefund(world.deps, MERCHANT, 'k1', request(100));
    world.payments.items.set('pay_000000000000000000000002', { ...world.payment, paymentNo: 'pay_000000000000000000000002', status: 'authorized' });

    await expect(createRefund(world.deps, MERCHANT, 'k2', request(100, { expectedAmountRefunded: 0 }))).rejects.toBeInstanceOf(
      AmountRefundedChangedError,
    );
    await expect(
      createRefund(world.deps, MERCHANT, 'k3', { ...request(100), paymentNo: 'pay_000000000000000000000002' }),
    ).rejects.toBeInstanceOf(PaymentNotCapturedError);
    await expect(createRefund(world.deps, 'm_2', 'k4', request(100))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('derives a new key for a deliberate second refund, the same for a retry', () => {
    expect(derivedRefundKey(request(100, { expectedAmountRefunded: 0 }))).not.toBe(
      derivedRefundKey(request(100, { expectedAmountRefunded: 100 })),
    );
    expect(derivedRefundKey(request(100))).toBe(derivedRefundKey(request(100)));
  });
});

describe('the refund saga', () => {
  it('refunds once at the provider under the refund_no, however often it runs', async () => {
    // Prepare
    const refund = await world.refundOf(250);

    // Act
    const state = await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });
    await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });
    await recordRefund(world.deps, state);
    await recordRefund(world.deps, state);

    // Assess
    expect(state).toMatchObject({ outcome: 'succeeded' });
    expect(world.provider.calls.filter((c) => c.op === 'refund').map((c) => c.key)).toEqual([refund.refundNo, refund.refundNo]);
    expect([...world.provider.refunds.values()]).toMatchObject([{ amount: 250, chargeId: world.charge.id }]);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: state.provider_refund_id });
  });

  it('gives the amount back to the payment when the provider refuses the request', async () => {
    // Prepare
    const refund = await world.refundOf(250);

    // Act
    await markRefundFailed(world.deps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });
    await markRefundFailed(world.deps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });

    // Assess
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'failed', failureReason: 'provider_rejected' });
    expect(world.stored().amountRefunded).toBe(0);
  });

  it('follows the provider when a duplicate execution refunded after the refund was failed: succeeded, the amount taken again', async () => {
    // Prepare: one execution's first call was refused and it failed the refund; the other's call went through.
    const refund = await world.refundOf(250);
    const submitted = await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });
    await markRefundFailed(world.deps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });

    // Act
    await recordRefund(world.deps, submitted);
    await recordRefund(world.deps, submitted);

    // Assess
    const recorded = await world.refunds.get(refund.refundNo);
    expect(recorded).toMatchObject({ status: 'succeeded', providerRefundId: submitted.provider_refund_id });
    expect(recorded?.failureReason).toBeUndefined();
    expect(world.stored().amountRefunded).toBe(250);
  });

  it('sends nothing for a refund another execution failed, and leaves it failed when the provider made none', async () => {
    // Prepare
    const refund = await world.refundOf(250);
    await markRefundFailed(world.deps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });
    const provider = new InMemoryProvider();

    // Act
    const state = await submitRefund({ ...world.sagaDeps, provider }, { refund_no: refund.refundNo });
    await markRefundFailed(world.deps, state);

    // Assess
    expect(state.outcome).toBe('failed');
    expect(provider.calls).toEqual([]);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'failed', failureReason: 'provider_rejected' });
    expect(world.stored().amountRefunded).toBe(0);
  });

  it('finds the refund it made when resumed after the provider forgot its key, rather than failing a refund that went through', async () => {
    // Prepare: a refund submitted once, whose execution ended before recording it; Stripe forgets a key after 24 hours.
    const { clock, stripe, refund, sagaDeps, strictRefunds } = await strictRefundOfCapturedCharge(1000);
    const first = await submitRefund(sagaDeps, { refund_no: refund.refundNo });
    clock.advance(25 * 3600 * 1000);

    // Act: the execution the reconciler resumes submits it again.
    const resumed = await submitRefund(sagaDeps, { refund_no: refund.refundNo });
    await recordRefund(sagaDeps, resumed);

    // Assess
    expect(resumed.provider_refund_id).toBe(first.provider_refund_id);
    expect(stripe.ledger.refunds).toHaveLength(1);
    expect(await strictRefunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: first.provider_refund_id });
  });

  it("follows the provider when this execution's own call went through unheard and another failed the refund meanwhile", async () => {
    // Prepare: this execution's call refunded, its answer was lost; the duplicate's was refused, and it failed the refund.
    const { stripe, refund, sagaDeps, strictRefunds, strictPayments, paymentNo } = await strictRefundOfCapturedCharge(1000);
    stripe.arm('lostResponse');
    await expect(submitRefund(sagaDeps, { refund_no: refund.refundNo })).rejects.toThrow(ProviderUnavailableError);
    await markRefundFailed(sagaDeps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });

    // Act: Step Functions retries this execution's SubmitRefund.
    const retried = await submitRefund(sagaDeps, { refund_no: refund.refundNo });
    await recordRefund(sagaDeps, retried);

    // Assess
    const [made] = stripe.ledger.refunds;
    expect(retried.provider_refund_id).toBe(made?.id);
    expect(await strictRefunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: made?.id });
    expect((await strictPayments.get(paymentNo))?.amountRefunded).toBe(1000);
  });
});

describe('a refund failed on a refusal', () => {
  it('stays due for one more look by the reconciler, as one the provider failed does', async () => {
    // Prepare
    const refused = await world.refundOf(400, 'k1');
    const declined = await world.refundOf(400, 'k2');

    // Act
    await markRefundFailed(world.deps, { refund_no: refused.refundNo, error: { Error: 'ProviderRejected' } });
    await markRefundFailed(world.deps, { refund_no: declined.refundNo, outcome: 'failed', failure_reason: 'expired_or_canceled_card' });

    // Assess
    expect((await world.refunds.get(refused.refundNo))?.reconcileAt).toBe('2026-11-23T11:05:00.000Z');
    expect((await world.refunds.get(declined.refundNo))?.reconcileAt).toBe('2026-11-23T11:05:00.000Z');
  });

  it('is revived at that look when a request still running at the provider refunded it after all', async () => {
    // Prepare: this execution's request hung at the provider; a duplicate's was refused and failed the refund.
    const { clock, stripe, refund, sagaDeps, strictRefunds, strictPayments, reconcileDeps, paymentNo } = await strictRefundOfCapturedCharge(1000);
    stripe.arm('timeout');
    await expect(submitRefund(sagaDeps, { refund_no: refund.refundNo })).rejects.toThrow(ProviderUnavailableError);
    await markRefundFailed(sagaDeps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });
    const retried = await submitRefund(sagaDeps, { refund_no: refund.refundNo });
    await markRefundFailed(sagaDeps, retried);
    clock.advance(300 * 1000);

    // Act
    const outcomes = await reconcileRefunds(reconcileDeps, 10);

    // Assess
    const [made] = stripe.ledger.refunds;
    expect(retried.outcome).toBe('failed');
    expect(outcomes).toMatchObject([{ refundNo: refund.refundNo, decision: 'revived' }]);
    expect(await strictRefunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: made?.id });
    expect((await strictPayments.get(paymentNo))?.amountRefunded).toBe(1000);
  });

  it('stays failed, and due no more, when the provider made no refund for it', async () => {
    // Prepare
    const { clock, refund, sagaDeps, strictRefunds, strictPayments, reconcileDeps, paymentNo } = await strictRefundOfCapturedCharge(1000);
    await markRefundFailed(sagaDeps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });
    clock.advance(300 * 1000);

    // Act
    const outcomes = await reconcileRefunds(reconcileDeps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ refundNo: refund.refundNo, decision: 'rechecked' }]);
    const failed = await strictRefunds.get(refund.refundNo);
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'provider_rejected' });
    expect(failed?.reconcileAt).toBeUndefined();
    expect((await strictPayments.get(paymentNo))?.amountRefunded).toBe(0);
  });
});

describe('a refund resumed too often', () => {
  /** Every execution of the refund dies, and the reconciler resumes it until it has resumed it as often as it may. */
  async function resumedTooOften(strict: Awaited<ReturnType<typeof strictRefundOfCapturedCharge>>) {
    const { clock, refund, reconcileDeps, workflow } = strict;
    for (let resumes = 0; resumes < reconcileDeps.maxResumes; resumes++) {
      workflow.end(executionName(refund.refundNo, resumes), 'FAILED');
      clock.advance(301_000);
      expect(await reconcileRefunds(reconcileDeps, 10)).toMatchObject([{ decision: 'resumed' }]);
    }
    workflow.end(executionName(refund.refundNo, reconcileDeps.maxResumes), 'FAILED');
    clock.advance(301_000);
  }

  it('fails, its amount given back and due for one more look, when the provider made no refund for it', async () => {
    // Prepare: Stripe answers its request with a 500 it keeps for the key for a day.
    const strict = await strictRefundOfCapturedCharge(1000);
    strict.stripe.arm('error500');
    await expect(submitRefund(strict.sagaDeps, { refund_no: strict.refund.refundNo })).rejects.toThrow();
    await resumedTooOften(strict);

    // Act
    const outcomes = await reconcileRefunds(strict.reconcileDeps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ refundNo: strict.refund.refundNo, decision: 'settled' }]);
    const failed = await strict.strictRefunds.get(strict.refund.refundNo);
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'processing_error' });
    expect(failed?.reconcileAt).toBeDefined();
    expect((await strict.strictPayments.get(strict.paymentNo))?.amountRefunded).toBe(0);
  });

  it('follows the refund the provider made, though no execution lived to record it', async () => {
    // Prepare
    const strict = await strictRefundOfCapturedCharge(400);
    const submitted = await submitRefund(strict.sagaDeps, { refund_no: strict.refund.refundNo });
    await resumedTooOften(strict);

    // Act
    const outcomes = await reconcileRefunds(strict.reconcileDeps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ decision: 'settled' }]);
    expect(await strict.strictRefunds.get(strict.refund.refundNo)).toMatchObject({
      status: 'succeeded',
      providerRefundId: submitted.provider_refund_id,
    });
    expect((await strict.strictPayments.get(strict.paymentNo))?.amountRefunded).toBe(400);
  });

  it('stays pending, left to people and looked at again in an hour, while the provider cannot be reached', async () => {
    // Prepare
    const strict = await strictRefundOfCapturedCharge(400);
    await resumedTooOften(strict);
    strict.stripe.arm('unavailable');

    // Act
    const outcomes = await reconcileRefunds(strict.reconcileDeps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ decision: 'gave_up' }]);
    expect(await strict.strictRefunds.get(strict.refund.refundNo)).toMatchObject({
      status: 'pending',
      reconcileAt: new Date(strict.clock.ms + 3600_000).toISOString(),
    });
  });
});

/** A refund of a captured charge, on ports as strict as DynamoDB and Stripe (Stripe forgets keys after 24 hours). */
async function strictRefundOfCapturedCharge(amount: number) {
  const clock = new ManualClock(Date.parse('2026-11-23T10:00:00Z'));
  const stripe = new StrictStripe({ clock: clock.clock });
  const provider = strictProvider(stripe);
  const strictPayments = new StrictPaymentRepository({ clock: clock.clock });
  const strictRefunds = new StrictRefundRepository(strictPayments, { clock: clock.clock });
  const workflow = new FakeWorkflow();
  const paymentNo = 'pay_000000000000000000000001';
  const charge = await provider.authorizeCharge({
    paymentNo,
    amount: 1000,
    currency: world.payment.currency,
    paymentMethod: 'pm_card_visa',
    idempotencyKey: 'authorize',
    metadata: { payment_no: paymentNo },
  });
  await provider.captureCharge({ chargeId: charge.id, idempotencyKey: 'capture' });
  await strictPayments.create({ ...world.payment, chargeId: charge.id, createdAt: clock.clock().toISOString() });
  const sagaDeps = { refunds: strictRefunds, provider, deployment: 'here', clock: clock.clock, reconcileAfterSeconds: 300 };
  const { refund } = await createRefund({ ...sagaDeps, payments: strictPayments, workflow }, MERCHANT, 'k1', { paymentNo, amount, operatorId: 'op' });
  const reconcileDeps: ReconcileDeps = {
    ...sagaDeps,
    payments: strictPayments,
    workflow,
    refundWorkflow: workflow,
    maxResumes: 5,
    leaseSeconds: 120,
    newLeaseOwner: () => 'reconciler',
  };
  return { clock, stripe, refund, sagaDeps, strictPayments, strictRefunds, reconcileDeps, paymentNo, workflow };
}
