import { beforeEach, describe, expect, it } from 'vitest';
import { PENDING_REFUND_RECHECK_MAX_SECONDS, reconcileRefunds } from '../../../functions/domain/reconcile.ts';
import {
  REFUND_CHECKS,
  type RefundSagaState,
  checkRefund,
  markRefundFailed,
  recordRefund,
  submitRefund,
} from '../../../functions/domain/refund-saga.ts';
import { type RefundWorld, refundWorld } from '../../support/refund-world.ts';

/**
 * Refunds the provider answers `pending`: ours stays pending until the provider's is final,
 * whoever (the saga's checks or the reconciler) sees it final first.
 */
let world: RefundWorld;

beforeEach(async () => {
  world = await refundWorld();
  world.stripe.holdNextRefunds(Number.MAX_SAFE_INTEGER);
});

/** The id of the provider's only refund. */
const providerRefundId = () => world.providerRefunds()[0]!.id;

/** A refund the provider holds pending, submitted by the saga. */
async function submitted(amount = 250) {
  const refund = await world.refundOf(amount);
  const state = await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });
  return { refund, state };
}

describe('the refund saga, when the provider holds the refund pending', () => {
  it('keeps our refund pending after SubmitRefund, with its looks ahead', async () => {
    // Act
    const { refund, state } = await submitted();

    // Assess
    expect(state).toMatchObject({ outcome: 'pending', provider_refund_id: providerRefundId(), checks_left: REFUND_CHECKS });
    expect(await world.refunds.get(refund.refundNo)).toEqual(refund);
    expect(world.stored().amountRefunded).toBe(250);
  });

  it('writes the provider refund id on our refund at the first look that finds it pending, and only then', async () => {
    // Prepare
    const { refund, state } = await submitted();

    // Act
    const first = await checkRefund(world.sagaDeps, state);
    const afterFirst = await world.refunds.get(refund.refundNo);
    const second = await checkRefund(world.sagaDeps, first);

    // Assess
    expect(first).toMatchObject({ outcome: 'pending', checks_left: REFUND_CHECKS - 1 });
    expect(second).toMatchObject({ outcome: 'pending', checks_left: REFUND_CHECKS - 2 });
    expect(afterFirst).toMatchObject({ status: 'pending', providerRefundId: providerRefundId(), version: refund.version + 1 });
    expect(await world.refunds.get(refund.refundNo)).toEqual(afterFirst);
  });

  it('runs out of looks after REFUND_CHECKS of them', async () => {
    // Prepare
    let { state } = await submitted();

    // Act
    for (let look = 0; look < REFUND_CHECKS; look++) state = await checkRefund(world.sagaDeps, state);

    // Assess
    expect(state).toMatchObject({ outcome: 'pending', checks_left: 0 });
  });

  it('records the refund once the provider says succeeded', async () => {
    // Prepare
    const { refund, state } = await submitted();
    const pending = await checkRefund(world.sagaDeps, state);
    world.stripe.settleRefund(providerRefundId(), 'succeeded');

    // Act
    const settled = await checkRefund(world.sagaDeps, pending);
    await recordRefund(world.deps, settled);

    // Assess
    expect(settled.outcome).toBe('succeeded');
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded', providerRefundId: providerRefundId() });
    expect(world.stored().amountRefunded).toBe(250);
  });

  it('fails the refund with the provider\'s reason once its refund failed, and the amount can be refunded again', async () => {
    // Prepare
    const { refund, state } = await submitted(1000);
    world.stripe.settleRefund(providerRefundId(), 'failed', 'expired_or_canceled_card');

    // Act
    const settled = await checkRefund(world.sagaDeps, state);
    await markRefundFailed(world.deps, settled);
    const second = await world.refundOf(1000, 'k2');

    // Assess
    expect(settled).toMatchObject({ outcome: 'failed', failure_reason: 'expired_or_canceled_card' });
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({
      status: 'failed',
      failureReason: 'expired_or_canceled_card',
      providerRefundId: providerRefundId(),
    });
    expect(second).toMatchObject({ status: 'pending', amount: 1000 });
    expect(world.stored().amountRefunded).toBe(1000);
  });

  it('fails a refund the provider canceled, giving the amount back, with refund_declined when it gave no reason', async () => {
    // Prepare
    const { refund, state } = await submitted();
    world.stripe.settleRefund(providerRefundId(), 'canceled');

    // Act
    const settled = await checkRefund(world.sagaDeps, state);
    await markRefundFailed(world.deps, settled);

    // Assess
    expect(settled.outcome).toBe('failed');
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'failed', failureReason: 'refund_declined' });
    expect(world.stored().amountRefunded).toBe(0);
  });

  it('looks at a known pending refund again instead of asking for a new one, even after the provider forgot the key', async () => {
    // Prepare: an execution wrote the provider's refund on ours, then died.
    const { refund, state } = await submitted();
    await checkRefund(world.sagaDeps, state);
    world.stripe.forgetKeys();

    // Act
    const resumed = await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });

    // Assess
    expect(resumed).toMatchObject({ outcome: 'pending', provider_refund_id: providerRefundId(), checks_left: REFUND_CHECKS });
    expect(world.refundKeysSent()).toEqual([refund.refundNo]);
    expect(world.providerRefunds()).toHaveLength(1);
  });

  it('gets past the provider\'s stale replay: a resumed SubmitRefund hears pending again, the next look sees succeeded', async () => {
    // Prepare: the first execution died before any look wrote the provider's refund on ours.
    const { refund } = await submitted();
    world.stripe.settleRefund(providerRefundId(), 'succeeded');

    // Act
    const resumed = await submitRefund(world.sagaDeps, { refund_no: refund.refundNo });
    const looked = await checkRefund(world.sagaDeps, resumed);
    await recordRefund(world.deps, looked);

    // Assess
    expect(resumed.outcome).toBe('pending');
    expect(looked.outcome).toBe('succeeded');
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'succeeded' });
    expect(world.providerRefunds()).toHaveLength(1);
  });

  describe('with a duplicate execution whose request the provider refused', () => {
    /** One execution's call was refused and it failed the refund; the other's was accepted, pending. */
    async function refusedThenAccepted() {
      const { refund, state } = await submitted();
      await markRefundFailed(world.deps, { refund_no: refund.refundNo, error: { Error: 'ProviderRejected' } });
      return { refund, state };
    }

    it('makes the refund pending again at the next look, taking the amount again', async () => {
      // Prepare
      const { refund, state } = await refusedThenAccepted();

      // Act
      await checkRefund(world.sagaDeps, state);

      // Assess
      const revived = await world.refunds.get(refund.refundNo);
      expect(revived).toMatchObject({ status: 'pending', providerRefundId: providerRefundId() });
      expect(revived?.failureReason).toBeUndefined();
      expect(world.stored().amountRefunded).toBe(250);
    });

    it.each([
      ['succeeded', 'succeeded', 250],
      ['failed', 'failed', 0],
    ] as const)('then follows the provider\'s refund to %s', async (atProvider, status, amountRefunded) => {
      // Prepare
      const { refund, state } = await refusedThenAccepted();
      const pending = await checkRefund(world.sagaDeps, state);
      world.stripe.settleRefund(providerRefundId(), atProvider);

      // Act
      const settled = await checkRefund(world.sagaDeps, pending);
      await (settled.outcome === 'succeeded' ? recordRefund : markRefundFailed)(world.deps, settled);

      // Assess
      expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status });
      expect(world.stored().amountRefunded).toBe(amountRefunded);
    });
  });
});

describe('reconcileRefunds, for a refund the provider holds pending', () => {
  /** A refund whose execution looked at the provider's pending refund, then ended (out of looks, or dead). */
  async function leftPending(ended: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED') {
    const { refund, state } = await submitted();
    let looked: RefundSagaState = state;
    for (let look = 0; look < REFUND_CHECKS; look++) looked = await checkRefund(world.sagaDeps, looked);
    world.workflow.end(refund.refundNo, ended);
    world.time.advance(301_000);
    return refund;
  }

  it('looks again later while the provider still holds it, after as long as it has waited, starting no execution', async () => {
    // Prepare
    const refund = await leftPending();
    const waited = world.time.ms - Date.parse(refund.createdAt);

    // Act
    const [outcome] = await reconcileRefunds(world.reconcileDeps, 10);

    // Assess
    expect(outcome).toMatchObject({ refundNo: refund.refundNo, decision: 'still_pending' });
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({
      status: 'pending',
      reconcileAt: new Date(world.time.ms + waited).toISOString(),
    });
    expect([...world.workflow.executions.keys()]).toEqual([refund.refundNo]);
  });

  it('looks at a refund pending for days once an hour', async () => {
    // Prepare
    const refund = await leftPending();
    world.time.advance(3 * 24 * 3600_000);

    // Act
    await reconcileRefunds(world.reconcileDeps, 10);

    // Assess
    const reconcileAt = (await world.refunds.get(refund.refundNo))?.reconcileAt;
    expect(reconcileAt).toBe(new Date(world.time.ms + PENDING_REFUND_RECHECK_MAX_SECONDS * 1000).toISOString());
  });

  it.each([
    ['SUCCEEDED', 'succeeded', undefined, 'succeeded', 250],
    ['FAILED', 'succeeded', undefined, 'succeeded', 250],
    ['SUCCEEDED', 'failed', 'lost_or_stolen_card', 'failed', 0],
  ] as const)(
    'records what the provider decided once final (execution %s, provider %s)',
    async (ended, atProvider, reason, status, amountRefunded) => {
      // Prepare
      const refund = await leftPending(ended);
      world.stripe.settleRefund(providerRefundId(), atProvider, reason);

      // Act
      const [outcome] = await reconcileRefunds(world.reconcileDeps, 10);

      // Assess
      expect(outcome).toMatchObject({ refundNo: refund.refundNo, decision: 'settled' });
      expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status, ...(reason && { failureReason: reason }) });
      expect(world.stored().amountRefunded).toBe(amountRefunded);
      expect(await reconcileRefunds(world.reconcileDeps, 10)).toEqual([]);
    },
  );

  it('leaves a refund alone while its execution still runs, even with its provider refund known', async () => {
    // Prepare
    const { refund, state } = await submitted();
    await checkRefund(world.sagaDeps, state);
    world.stripe.settleRefund(providerRefundId(), 'succeeded');
    world.time.advance(301_000);

    // Act
    const [outcome] = await reconcileRefunds(world.reconcileDeps, 10);

    // Assess
    expect(outcome?.decision).toBe('still_running');
    expect(await world.refunds.get(refund.refundNo)).toMatchObject({ status: 'pending' });
  });

  it('resumes the saga of a refund whose provider refund it does not know, as before', async () => {
    // Prepare: the execution died between SubmitRefund and its first look.
    const { refund } = await submitted();
    world.workflow.end(refund.refundNo, 'FAILED');
    world.time.advance(301_000);

    // Act
    const [outcome] = await reconcileRefunds(world.reconcileDeps, 10);

    // Assess
    expect(outcome?.decision).toBe('resumed');
    expect(await world.workflow.describe(`${refund.refundNo}-r1`)).toBe('RUNNING');
  });
});
