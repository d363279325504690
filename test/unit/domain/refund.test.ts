import { beforeEach, describe, expect, it } from 'vitest';
import {
  AmountRefundedChangedError,
  IdempotencyKeyMismatchError,
  NotFoundError,
  PaymentNotCapturedError,
  ProviderRejectedError,
  ProviderUnavailableError,
  RefundExceedsCapturedError,
} from '../../../functions/domain/errors.ts';
import { type Refund, createRefund, derivedRefundKey } from '../../../functions/domain/refund.ts';
import { markRefundFailed, recordRefund, submitRefund } from '../../../functions/domain/refund-saga.ts';
import { reconcileRefunds } from '../../../functions/domain/reconcile.ts';
import { executionName } from '../../../functions/domain/saga-start.ts';
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
    await world.payments.create({ ...world.payment, paymentNo: 'pay_000000000000000000000002', status: 'authorized' });

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
    expect(world.refundKeysSent()).toEqual([refund.refundNo]);
    expect(world.providerRefunds()).toMatchObject([{ amount: 250, paymentIntent: world.charge.id }]);
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
    const sent = world.stripe.ledger.calls.length;

    // Act
    const state = await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });
    await markRefundFailed(world.deps, state);

    // Assess
    expect(state.outcome).toBe('failed');
    expect(world.stripe.ledger.calls).toHaveLength(sent);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'failed', failureReason: 'provider_rejected' });
    expect(world.stored().amountRefunded).toBe(0);
  });

  it('finds the refund it made when resumed after the provider forgot its key, rather than failing a refund that went through', async () => {
    // Prepare: a refund submitted once, whose execution ended before recording it; Stripe forgets a key after 24 hours.
    const refund = await world.refundOf(1000);
    const first = await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });
    world.time.advance(25 * 3600 * 1000);

    // Act: the execution the reconciler resumes submits it again.
    const resumed = await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });
    await recordRefund(world.deps, resumed);

    // Assess
    expect(resumed.provider_refund_id).toBe(first.provider_refund_id);
    expect(world.providerRefunds()).toHaveLength(1);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: first.provider_refund_id });
  });

  it("follows the provider when this execution's own call went through unheard and another failed the refund meanwhile", async () => {
    // Prepare: this execution's call refunded, its answer was lost; the duplicate's was refused, and it failed the refund.
    const refund = await world.refundOf(1000);
    world.stripe.arm('lostResponse');
    await expect(submitRefund(world.sagaDeps, { refund_no: refund.refundNo })).rejects.toThrow(ProviderUnavailableError);
    await markRefundFailed(world.deps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });

    // Act: Step Functions retries this execution's SubmitRefund.
    const retried = await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });
    await recordRefund(world.deps, retried);

    // Assess
    const [made] = world.providerRefunds();
    expect(retried.provider_refund_id).toBe(made?.id);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: made?.id });
    expect(world.stored().amountRefunded).toBe(1000);
  });
});

describe('a failed refund', () => {
  it('stays due for one more look by the reconciler, refused or failed by the provider', async () => {
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
    const refund = await world.refundOf(1000);
    world.stripe.arm('timeout');
    await expect(submitRefund(world.sagaDeps, { refund_no: refund.refundNo })).rejects.toThrow(ProviderUnavailableError);
    await markRefundFailed(world.deps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });
    const retried = await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });
    await markRefundFailed(world.deps, retried);
    world.time.advance(300 * 1000);

    // Act
    const outcomes = await reconcileRefunds(world.reconcileDeps, 10);

    // Assess
    const [made] = world.providerRefunds();
    expect(retried.outcome).toBe('failed');
    expect(outcomes).toMatchObject([{ refundNo: refund.refundNo, decision: 'revived' }]);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: made?.id });
    expect(world.stored().amountRefunded).toBe(1000);
  });

  it('waits, out of a batch of one\'s way, while a refund made since its failure holds its amount; revived once that one fails', async () => {
    // Prepare: the provider made the first refund, whose answer was lost; a retry refused failed
    // it, and a second refund of the whole amount was made before the reconciler looked.
    const first = await world.refundOf(1000);
    world.stripe.arm('timeout');
    await expect(submitRefund(world.sagaDeps, { refund_no: first.refundNo })).rejects.toThrow(ProviderUnavailableError);
    await markRefundFailed(world.deps, { refund_no: first.refundNo, error: { Error: 'ProviderRejected' } });
    const second = await world.refundOf(1000, 'k2');
    world.workflow.end(second.refundNo, 'FAILED');
    world.time.advance(301_000);

    // Act
    const firstLook = await reconcileRefunds(world.reconcileDeps, 1);
    const secondLook = await reconcileRefunds(world.reconcileDeps, 1);
    await expect(submitRefund(world.sagaDeps, { refund_no: second.refundNo })).rejects.toThrow(ProviderRejectedError);
    await markRefundFailed(world.deps, { refund_no: second.refundNo, error: { Error: 'ProviderRejected' } });
    world.time.advance(301_000);
    const thirdLook = await reconcileRefunds(world.reconcileDeps, 1);

    // Assess
    expect(firstLook).toMatchObject([{ refundNo: first.refundNo, decision: 'still_pending' }]);
    expect(secondLook).toMatchObject([{ refundNo: second.refundNo, decision: 'resumed' }]);
    expect(thirdLook).toMatchObject([{ refundNo: first.refundNo, decision: 'revived' }]);
    expect(await world.refunds.get(first.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: world.providerRefunds()[0]?.id });
    expect(await world.refunds.get(second.refundNo)).toMatchObject({ status: 'failed' });
    expect(world.stored().amountRefunded).toBe(1000);
  });

  it('stays failed, and due no more, when the provider made no refund for it', async () => {
    // Prepare
    const refund = await world.refundOf(1000);
    await markRefundFailed(world.deps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });
    world.time.advance(300 * 1000);

    // Act
    const outcomes = await reconcileRefunds(world.reconcileDeps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ refundNo: refund.refundNo, decision: 'rechecked' }]);
    const failed = await world.refunds.get(refund.refundNo);
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'provider_rejected' });
    expect(failed?.reconcileAt).toBeUndefined();
    expect(world.stored().amountRefunded).toBe(0);
  });
});

describe('a refund resumed too often', () => {
  /** Every execution of the refund dies, and the reconciler resumes it until it has resumed it as often as it may. */
  async function resumedTooOften(refund: Refund) {
    const { maxResumes } = world.reconcileDeps;
    for (let resumes = 0; resumes < maxResumes; resumes++) {
      world.workflow.end(executionName(refund.refundNo, resumes), 'FAILED');
      world.time.advance(301_000);
      expect(await reconcileRefunds(world.reconcileDeps, 10)).toMatchObject([{ decision: 'resumed' }]);
    }
    world.workflow.end(executionName(refund.refundNo, maxResumes), 'FAILED');
    world.time.advance(301_000);
  }

  it('fails, its amount given back and due for one more look, when the provider made no refund for it', async () => {
    // Prepare: Stripe answers its request with a 500 it keeps for the key for a day.
    const refund = await world.refundOf(1000);
    world.stripe.arm('error500');
    await expect(submitRefund(world.sagaDeps, { refund_no: refund.refundNo })).rejects.toThrow();
    await resumedTooOften(refund);

    // Act
    const outcomes = await reconcileRefunds(world.reconcileDeps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ refundNo: refund.refundNo, decision: 'settled' }]);
    const failed = await world.refunds.get(refund.refundNo);
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'processing_error' });
    expect(failed?.reconcileAt).toBeDefined();
    expect(world.stored().amountRefunded).toBe(0);
  });

  it('follows the refund the provider made, though no execution lived to record it', async () => {
    // Prepare
    const refund = await world.refundOf(400);
    const submitted = await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });
    await resumedTooOften(refund);

    // Act
    const outcomes = await reconcileRefunds(world.reconcileDeps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ decision: 'settled' }]);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: submitted.provider_refund_id });
    expect(world.stored().amountRefunded).toBe(400);
  });

  it('stays pending, left to people and looked at again in an hour, while the provider cannot be reached', async () => {
    // Prepare
    const refund = await world.refundOf(400);
    await resumedTooOften(refund);
    world.stripe.arm('unavailable');

    // Act
    const outcomes = await reconcileRefunds(world.reconcileDeps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ decision: 'gave_up' }]);
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({
      status: 'pending',
      reconcileAt: new Date(world.time.ms + 3600_000).toISOString(),
    });
  });
});
