import { beforeEach, describe, expect, it } from 'vitest';
import {
  AmountRefundedChangedError,
  IdempotencyKeyMismatchError,
  NotFoundError,
  PaymentNotCapturedError,
  RefundExceedsCapturedError,
} from '../../../functions/domain/errors.ts';
import { createRefund, derivedRefundKey } from '../../../functions/domain/refund.ts';
import { markRefundFailed, recordRefund, submitRefund } from '../../../functions/domain/refund-saga.ts';
import { InMemoryProvider } from '../../support/in-memory-provider.ts';
import { MERCHANT, type RefundWorld, refundWorld } from '../../support/refund-world.ts';

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

  it('asks nobody for a refund another execution failed, and leaves it failed', async () => {
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
});
