import { beforeEach, describe, expect, it } from 'vitest';
import {
  AmountRefundedChangedError,
  IdempotencyKeyMismatchError,
  NotFoundError,
  PaymentNotCapturedError,
  ProviderUnavailableError,
  RefundExceedsCapturedError,
} from '../../../functions/domain/errors.ts';
import type { Payment } from '../../../functions/domain/payment.ts';
import { type CreateRefundDeps, createRefund, derivedRefundKey } from '../../../functions/domain/refund.ts';
import { markRefundFailed, recordRefund, submitRefund } from '../../../functions/domain/refund-saga.ts';
import { type ReconcileDeps, reconcileRefunds } from '../../../functions/domain/reconcile.ts';
import { FakeWorkflow } from '../../support/fake-workflow.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { StrictPaymentRepository } from '../../support/strict/payments.ts';
import { StrictRefundRepository } from '../../support/strict/refunds.ts';
import { StrictStripe, strictProvider } from '../../support/strict/stripe.ts';
import { InMemoryPayments } from '../../support/in-memory-payments.ts';
import { InMemoryProvider, USD } from '../../support/in-memory-provider.ts';
import { InMemoryRefunds } from '../../support/in-memory-refunds.ts';

let payments: InMemoryPayments;
let refunds: InMemoryRefunds;
let workflow: FakeWorkflow;
let deps: CreateRefundDeps;

const captured: Payment = {
  paymentNo: 'pay_000000000000000000000001',
  merchantId: 'm_1',
  orderNo: 'o-1',
  amount: 1000,
  currency: USD,
  paymentMethod: 'pm_card_visa',
  status: 'succeeded',
  version: 5,
  chargeId: 'pi_1',
  amountCaptured: 1000,
  amountRefunded: 0,
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T10:00:00.000Z',
  resumeCount: 0,
};

beforeEach(() => {
  payments = new InMemoryPayments();
  payments.items.set(captured.paymentNo, captured);
  refunds = new InMemoryRefunds(payments);
  workflow = new FakeWorkflow();
  deps = { refunds, payments, workflow, clock: () => new Date('2026-11-23T11:00:00Z'), reconcileAfterSeconds: 300 };
});

const request = (amount: number, extra: Partial<{ expectedAmountRefunded: number; operatorId: string }> = {}) => ({
  paymentNo: captured.paymentNo,
  amount,
  operatorId: 'op',
  ...extra,
});

describe('createRefund', () => {
  it('reserves the amount on the payment and starts the refund saga', async () => {
    const { refund, created } = await createRefund(deps, 'm_1', 'k1', request(400));

    expect(created).toBe(true);
    expect(refund).toMatchObject({ status: 'pending', amount: 400, chargeId: 'pi_1', currency: 'USD' });
    expect(payments.items.get(captured.paymentNo)).toMatchObject({ amountRefunded: 400, refundNos: [refund.refundNo] });
    expect(await workflow.describe(refund.refundNo)).toBe('RUNNING');
  });

  it('answers a repeat of the key with the first refund, and refuses it with other parameters', async () => {
    const first = await createRefund(deps, 'm_1', 'k1', request(400));

    const again = await createRefund(deps, 'm_1', 'k1', request(400));
    const other = createRefund(deps, 'm_1', 'k1', request(401));

    expect(again).toEqual({ refund: first.refund, created: false });
    await expect(other).rejects.toBeInstanceOf(IdempotencyKeyMismatchError);
    await expect(other).rejects.toMatchObject({ field: 'amount' });
    expect(payments.items.get(captured.paymentNo)?.amountRefunded).toBe(400);
  });

  it('never lets refunds together pass what was captured', async () => {
    await createRefund(deps, 'm_1', 'k1', request(600));

    await expect(createRefund(deps, 'm_1', 'k2', request(401))).rejects.toBeInstanceOf(RefundExceedsCapturedError);
    expect((await createRefund(deps, 'm_1', 'k3', request(400))).created).toBe(true);
  });

  it('refuses a stale expected_amount_refunded, an uncaptured payment and another merchant', async () => {
    await createRefund(deps, 'm_1', 'k1', request(100));
    payments.items.set('pay_000000000000000000000002', { ...captured, paymentNo: 'pay_000000000000000000000002', status: 'authorized' });

    await expect(createRefund(deps, 'm_1', 'k2', request(100, { expectedAmountRefunded: 0 }))).rejects.toBeInstanceOf(
      AmountRefundedChangedError,
    );
    await expect(
      createRefund(deps, 'm_1', 'k3', { ...request(100), paymentNo: 'pay_000000000000000000000002' }),
    ).rejects.toBeInstanceOf(PaymentNotCapturedError);
    await expect(createRefund(deps, 'm_2', 'k4', request(100))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('derives a new key for a deliberate second refund, the same for a retry', () => {
    expect(derivedRefundKey(request(100, { expectedAmountRefunded: 0 }))).not.toBe(
      derivedRefundKey(request(100, { expectedAmountRefunded: 100 })),
    );
    expect(derivedRefundKey(request(100))).toBe(derivedRefundKey(request(100)));
  });
});

/** A refund of `amount` created on a payment whose charge the provider holds, and the saga's deps around that provider. */
async function refundOfCapturedCharge(amount: number) {
  const provider = new InMemoryProvider();
  const charge = await provider.authorizeCharge({
    paymentNo: captured.paymentNo, amount: 1000, currency: USD, paymentMethod: 'pm_card_visa', idempotencyKey: 'a', metadata: {},
  });
  payments.items.set(captured.paymentNo, { ...captured, chargeId: charge.id });
  const { refund } = await createRefund(deps, 'm_1', 'k1', request(amount));
  return { provider, charge, refund, sagaDeps: { ...deps, provider, deployment: 'here' } };
}

describe('the refund saga', () => {
  it('refunds once at the provider under the refund_no, however often it runs', async () => {
    const { provider, charge, refund, sagaDeps } = await refundOfCapturedCharge(250);

    const state = await submitRefund(sagaDeps, { refund_no: refund.refundNo });
    await submitRefund(sagaDeps, { refund_no: refund.refundNo });
    await recordRefund(sagaDeps, state);
    await recordRefund(sagaDeps, state);

    expect(provider.calls.filter((c) => c.op === 'refund').map((c) => c.key)).toEqual([refund.refundNo, refund.refundNo]);
    expect([...provider.refunds.values()]).toMatchObject([{ amount: 250, chargeId: charge.id }]);
    expect(await refunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: state.provider_refund_id });
  });

  it('gives the amount back to the payment when the provider refuses', async () => {
    const { refund } = await createRefund(deps, 'm_1', 'k1', request(250));

    await markRefundFailed(deps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });
    await markRefundFailed(deps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });

    expect(await refunds.get(refund.refundNo)).toMatchObject({ status: 'failed', failureReason: 'provider_rejected' });
    expect(payments.items.get(captured.paymentNo)?.amountRefunded).toBe(0);
  });

  it('follows the provider when a duplicate execution refunded after the refund was failed: succeeded, the amount taken again', async () => {
    // Prepare: one execution's first call was refused and it failed the refund; the other's call went through.
    const { refund, sagaDeps } = await refundOfCapturedCharge(250);
    const submitted = await submitRefund(sagaDeps, { refund_no: refund.refundNo });
    await markRefundFailed(deps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });

    // Act
    await recordRefund(deps, submitted);
    await recordRefund(deps, submitted);

    // Assess
    const recorded = await refunds.get(refund.refundNo);
    expect(recorded).toMatchObject({ status: 'succeeded', providerRefundId: submitted.provider_refund_id });
    expect(recorded?.failureReason).toBeUndefined();
    expect(payments.items.get(captured.paymentNo)?.amountRefunded).toBe(250);
  });

  it('leaves a failed refund alone when the duplicate execution found it failed and called nobody', async () => {
    const { refund } = await createRefund(deps, 'm_1', 'k1', request(250));
    await markRefundFailed(deps, { refund_no: refund.refundNo, error: { Error: 'RefundDeclined' } });
    const provider = new InMemoryProvider();

    const state = await submitRefund({ ...deps, provider, deployment: 'here' }, { refund_no: refund.refundNo });
    await recordRefund(deps, state);

    expect(provider.calls).toEqual([]);
    expect(await refunds.get(refund.refundNo)).toMatchObject({ status: 'failed' });
    expect(payments.items.get(captured.paymentNo)?.amountRefunded).toBe(0);
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
    const { stripe, refund, sagaDeps, strictRefunds, strictPayments } = await strictRefundOfCapturedCharge(1000);
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
    expect((await strictPayments.get(captured.paymentNo))?.amountRefunded).toBe(1000);
  });
});

describe('a refund failed on a refusal', () => {
  it('stays due for one more look by the reconciler; one the provider declined does not', async () => {
    // Prepare
    const { refund: refused } = await createRefund(deps, 'm_1', 'k1', request(400));
    const { refund: declined } = await createRefund(deps, 'm_1', 'k2', request(400));

    // Act
    await markRefundFailed(deps, { refund_no: refused.refundNo, error: { Error: 'ProviderRejected' } });
    await markRefundFailed(deps, { refund_no: declined.refundNo, error: { Error: 'RefundDeclined' } });

    // Assess
    expect((await refunds.get(refused.refundNo))?.reconcileAt).toBe('2026-11-23T11:05:00.000Z');
    expect((await refunds.get(declined.refundNo))?.reconcileAt).toBeUndefined();
  });

  it('is revived at that look when a request still running at the provider refunded it after all', async () => {
    // Prepare: this execution's request hung at the provider; a duplicate's was refused and failed the refund.
    const { clock, stripe, refund, sagaDeps, strictRefunds, strictPayments, reconcileDeps } = await strictRefundOfCapturedCharge(1000);
    stripe.arm('timeout');
    await expect(submitRefund(sagaDeps, { refund_no: refund.refundNo })).rejects.toThrow(ProviderUnavailableError);
    await markRefundFailed(sagaDeps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });
    await recordRefund(sagaDeps, await submitRefund(sagaDeps, { refund_no: refund.refundNo }));
    clock.advance(300 * 1000);

    // Act
    const outcomes = await reconcileRefunds(reconcileDeps, 10);

    // Assess
    const [made] = stripe.ledger.refunds;
    expect(outcomes).toMatchObject([{ refundNo: refund.refundNo, decision: 'revived' }]);
    expect(await strictRefunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: made?.id });
    expect((await strictPayments.get(captured.paymentNo))?.amountRefunded).toBe(1000);
  });

  it('stays failed, and due no more, when the provider made no refund for it', async () => {
    // Prepare
    const { clock, refund, sagaDeps, strictRefunds, strictPayments, reconcileDeps } = await strictRefundOfCapturedCharge(1000);
    await markRefundFailed(sagaDeps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });
    clock.advance(300 * 1000);

    // Act
    const outcomes = await reconcileRefunds(reconcileDeps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ refundNo: refund.refundNo, decision: 'rechecked' }]);
    const failed = await strictRefunds.get(refund.refundNo);
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'provider_rejected' });
    expect(failed?.reconcileAt).toBeUndefined();
    expect((await strictPayments.get(captured.paymentNo))?.amountRefunded).toBe(0);
  });
});

/** A refund of a captured charge, on ports as strict as DynamoDB and Stripe (Stripe forgets keys after 24 hours). */
async function strictRefundOfCapturedCharge(amount: number) {
  const clock = new ManualClock(Date.parse('2026-11-23T10:00:00Z'));
  const stripe = new StrictStripe({ clock: clock.clock });
  const provider = strictProvider(stripe);
  const strictPayments = new StrictPaymentRepository({ clock: clock.clock });
  const strictRefunds = new StrictRefundRepository(strictPayments, { clock: clock.clock });
  const charge = await provider.authorizeCharge({
    paymentNo: captured.paymentNo,
    amount: captured.amount,
    currency: USD,
    paymentMethod: 'pm_card_visa',
    idempotencyKey: 'authorize',
    metadata: { payment_no: captured.paymentNo },
  });
  await provider.captureCharge({ chargeId: charge.id, idempotencyKey: 'capture' });
  await strictPayments.create({ ...captured, chargeId: charge.id });
  const sagaDeps = { refunds: strictRefunds, provider, deployment: 'here', clock: clock.clock, reconcileAfterSeconds: 300 };
  const { refund } = await createRefund({ ...sagaDeps, payments: strictPayments, workflow }, 'm_1', 'k1', request(amount));
  const reconcileDeps: ReconcileDeps = {
    ...sagaDeps,
    payments: strictPayments,
    workflow,
    refundWorkflow: workflow,
    maxResumes: 5,
    leaseSeconds: 120,
    newLeaseOwner: () => 'reconciler',
  };
  return { clock, stripe, refund, sagaDeps, strictPayments, strictRefunds, reconcileDeps };
}
