import { beforeEach, describe, expect, it } from 'vitest';
import { ConcurrentModificationError, IdempotencyKeyMismatchError, InsufficientFundsError } from '../../../functions/domain/errors.ts';
import { type CreatePayoutDeps, type Payout, createPayout, payoutNoFor } from '../../../functions/domain/payout.ts';
import {
  PAYOUT_CHECKS,
  type PayoutSagaDeps,
  checkPayout,
  markPayoutFailed,
  recordPayoutPaid,
  submitPayout,
} from '../../../functions/domain/payout-saga.ts';
import type { PaymentProvider, ProviderPayout } from '../../../functions/domain/provider.ts';
import { type ReconcileDeps, reconcilePayouts } from '../../../functions/domain/reconcile.ts';
import { executionName } from '../../../functions/domain/saga-start.ts';
import { USD } from '../../support/currencies.ts';
import { StrictPayoutStore } from '../../support/strict/payouts.ts';
import { StrictWorkflow } from '../../support/strict/workflow.ts';

const MERCHANT = 'merchant_1';
const RECONCILE_AFTER_SECONDS = 60;

let now: Date;
let payouts: StrictPayoutStore;
let workflow: StrictWorkflow;
let made: ProviderPayout[];
let deps: CreatePayoutDeps & PayoutSagaDeps;

/** A provider that pays out at once into `made`, a payout per key, as Stripe's idempotency would answer. */
function payingProvider(): PaymentProvider {
  const byKey = new Map<string, ProviderPayout>();
  return {
    createPayout: async (input) => {
      const existing = byKey.get(input.idempotencyKey);
      if (existing !== undefined) return existing;
      const payout: ProviderPayout = { id: `po_p${made.length}`, amount: input.amount, currency: input.currency, status: 'pending', arrivalDate: 1_800_000_000, payoutNo: input.metadata['payout_no']! };
      byKey.set(input.idempotencyKey, payout);
      made.push(payout);
      return payout;
    },
    retrievePayout: async (id) => {
      const found = made.find((p) => p.id === id);
      if (found === undefined) throw new Error(`no payout ${id}`);
      return found;
    },
    findPayouts: async ({ payoutNo }) => made.filter((p) => p.payoutNo === payoutNo).reverse(),
  } as Partial<PaymentProvider> as PaymentProvider;
}

/** The provider's payout `id` moves on to `status`. */
function providerMoves(id: string, status: ProviderPayout['status'], failureCode?: string) {
  const index = made.findIndex((p) => p.id === id);
  made[index] = { ...made[index]!, status, ...(failureCode !== undefined && { failureCode }) };
}

beforeEach(() => {
  now = new Date('2026-12-02T10:00:00Z');
  const clock = () => now;
  payouts = new StrictPayoutStore(new Map([[USD, 1000]]));
  workflow = new StrictWorkflow(clock);
  made = [];
  deps = { payouts, workflow, clock, reconcileAfterSeconds: RECONCILE_AFTER_SECONDS, sleep: async () => undefined, provider: payingProvider(), deployment: 'here' };
});

const request = { amount: 400, currency: USD };
const later = (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
};

describe('createPayout', () => {
  it('moves the amount out of available with its journal transaction and starts the saga', async () => {
    // Act
    const { payout, created } = await createPayout(deps, MERCHANT, 'k1', request);

    // Assess
    expect(created).toBe(true);
    expect(payout).toMatchObject({ payoutNo: payoutNoFor(MERCHANT, 'k1'), status: 'pending', amount: 400 });
    expect(payouts.available.get(USD)).toBe(600);
    expect(payouts.postings[0]?.transactions.map((t) => t.key)).toEqual([`payout:${payout.payoutNo}`]);
    expect(payouts.postings[0]?.added).toMatchObject({ type: 'payout', amount: -400, net: -400 });
    expect(workflow.all().map((e) => e.name)).toEqual([payout.payoutNo]);
  });

  it('refuses what available does not cover, writing nothing', async () => {
    // Act
    const refused = createPayout(deps, MERCHANT, 'k1', { amount: 1001, currency: USD });

    // Assess
    await expect(refused).rejects.toBeInstanceOf(InsufficientFundsError);
    await expect(refused).rejects.toMatchObject({ code: 'insufficient_funds', field: 'amount', httpStatus: 409 });
    expect(payouts.available.get(USD)).toBe(1000);
    expect(workflow.all()).toEqual([]);
  });

  it('answers a repeat of the key with the first payout, and refuses the key with another amount', async () => {
    // Prepare
    const first = await createPayout(deps, MERCHANT, 'k1', request);

    // Act
    const repeat = await createPayout(deps, MERCHANT, 'k1', request);
    const other = createPayout(deps, MERCHANT, 'k1', { ...request, amount: 401 });

    // Assess
    expect(repeat).toEqual({ payout: first.payout, created: false });
    await expect(other).rejects.toBeInstanceOf(IdempotencyKeyMismatchError);
    await expect(other).rejects.toMatchObject({ field: 'amount' });
    expect(payouts.available.get(USD)).toBe(600);
  });

  it('tries again when its transaction meets another one in flight on the balance', async () => {
    // Prepare: the first two attempts lose to concurrent transactions.
    const create = payouts.create.bind(payouts);
    let conflicts = 2;
    payouts.create = async (payout, posting) => {
      if (conflicts-- > 0) throw new ConcurrentModificationError('in flight');
      return create(payout, posting);
    };

    // Act
    const { created } = await createPayout(deps, MERCHANT, 'k1', request);

    // Assess
    expect(created).toBe(true);
    expect(payouts.available.get(USD)).toBe(600);
  });
});

describe('the payout saga', () => {
  async function submitted(): Promise<{ payout: Payout; state: Awaited<ReturnType<typeof submitPayout>> }> {
    const { payout } = await createPayout(deps, MERCHANT, 'k1', request);
    return { payout, state: await submitPayout(deps, { payout_no: payout.payoutNo }) };
  }

  it('pays out once under the payout_no, however often SubmitPayout runs', async () => {
    // Act
    const { payout, state } = await submitted();
    const again = await submitPayout(deps, { payout_no: payout.payoutNo });

    // Assess
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ amount: 400, payoutNo: payout.payoutNo });
    expect(state).toMatchObject({ outcome: 'pending', provider_payout_id: made[0]!.id, checks_left: PAYOUT_CHECKS });
    expect(again.provider_payout_id).toBe(state.provider_payout_id);
  });

  it('writes the travelling payout’s provider id down, then records it paid with in_payout to paid_out, once', async () => {
    // Prepare
    const { payout, state } = await submitted();
    providerMoves(state.provider_payout_id!, 'in_transit');

    // Act
    const checked = await checkPayout(deps, state);
    const travelling = await payouts.get(payout.payoutNo);
    providerMoves(state.provider_payout_id!, 'paid');
    const final = await checkPayout(deps, checked);
    await recordPayoutPaid(deps, final);
    await recordPayoutPaid(deps, final);

    // Assess
    expect(checked).toMatchObject({ outcome: 'in_transit', checks_left: PAYOUT_CHECKS - 1 });
    expect(travelling).toMatchObject({ status: 'in_transit', providerPayoutId: state.provider_payout_id });
    expect(await payouts.get(payout.payoutNo)).toMatchObject({ status: 'paid', arrivalDate: '2027-01-15T08:00:00.000Z' });
    expect((await payouts.get(payout.payoutNo))?.reconcileAt).toBeUndefined();
    expect(payouts.postings.map((p) => p.transactions[0]?.key)).toEqual([`payout:${payout.payoutNo}`, `payout_paid:${payout.payoutNo}`]);
    expect(payouts.available.get(USD)).toBe(600);
  });

  it('gives a failed payout back to available, with the provider’s failure code, once', async () => {
    // Prepare
    const { payout, state } = await submitted();
    providerMoves(state.provider_payout_id!, 'failed', 'account_closed');
    const final = await checkPayout(deps, state);

    // Act
    await markPayoutFailed(deps, final);
    await markPayoutFailed(deps, final);

    // Assess
    expect(await payouts.get(payout.payoutNo)).toMatchObject({ status: 'failed', failureReason: 'account_closed' });
    expect(payouts.available.get(USD)).toBe(1000);
    expect(payouts.postings.map((p) => p.transactions[0]?.key)).toEqual([`payout:${payout.payoutNo}`, `payout_reversal:${payout.payoutNo}`]);
    expect(payouts.postings[1]?.added).toMatchObject({ type: 'payout_failure', amount: 400 });
  });

  it('refuses to record paid a payout already given back: the books would pay it twice', async () => {
    // Prepare
    const { payout, state } = await submitted();
    await markPayoutFailed(deps, { ...state, outcome: 'failed' });

    // Act, Assess
    await expect(recordPayoutPaid(deps, { ...state, outcome: 'paid' })).rejects.toThrow(/failed, but the provider paid/);
    expect((await payouts.get(payout.payoutNo))?.status).toBe('failed');
  });
});

describe('reconcilePayouts', () => {
  const reconcileDeps = (): ReconcileDeps =>
    ({ ...deps, payoutWorkflow: workflow, maxResumes: 2, leaseSeconds: 60, newLeaseOwner: () => 'owner' }) as Partial<ReconcileDeps> as ReconcileDeps;

  it('finishes a payout whose execution died once the provider paid it', async () => {
    // Prepare: the execution wrote the provider's id down, then died.
    const { payout } = await createPayout(deps, MERCHANT, 'k1', request);
    const state = await submitPayout(deps, { payout_no: payout.payoutNo });
    await checkPayout(deps, state);
    workflow.end(executionName(payout.payoutNo, 0), 'FAILED');
    providerMoves(state.provider_payout_id!, 'paid');
    later(RECONCILE_AFTER_SECONDS + 1);

    // Act
    const [outcome] = await reconcilePayouts(reconcileDeps(), 10);

    // Assess
    expect(outcome).toMatchObject({ payoutNo: payout.payoutNo, decision: 'settled' });
    expect((await payouts.get(payout.payoutNo))?.status).toBe('paid');
  });

  it('starts a payout whose first execution never started, and resumes one whose execution died before the provider was asked', async () => {
    // Prepare
    workflow.failStarts = true;
    const { payout: unstarted } = await createPayout(deps, MERCHANT, 'k1', request);
    workflow.failStarts = false;
    const { payout: died } = await createPayout(deps, MERCHANT, 'k2', request);
    workflow.end(executionName(died.payoutNo, 0), 'FAILED');
    later(RECONCILE_AFTER_SECONDS + 1);

    // Act
    const outcomes = await reconcilePayouts(reconcileDeps(), 10);

    // Assess
    expect(Object.fromEntries(outcomes.map((o) => [o.payoutNo, o.decision]))).toEqual({ [unstarted.payoutNo]: 'started', [died.payoutNo]: 'resumed' });
    expect(await workflow.describe(executionName(died.payoutNo, 1))).toBe('RUNNING');
    expect(await workflow.describe(executionName(unstarted.payoutNo, 0))).toBe('RUNNING');
  });

  it('looks again later at a payout still travelling, and never gives back one resumed too often that the provider has no record of', async () => {
    // Prepare
    const { payout: travelling } = await createPayout(deps, MERCHANT, 'k1', request);
    const state = await submitPayout(deps, { payout_no: travelling.payoutNo });
    await checkPayout(deps, state);
    workflow.end(executionName(travelling.payoutNo, 0), 'SUCCEEDED');
    const { payout: lost } = await createPayout(deps, MERCHANT, 'k2', { amount: 100, currency: USD });
    payouts.seed({ ...lost, resumeCount: 2 });
    workflow.end(executionName(lost.payoutNo, 0), 'FAILED');
    await workflow.start(lost.payoutNo, executionName(lost.payoutNo, 2));
    workflow.end(executionName(lost.payoutNo, 2), 'FAILED');
    later(RECONCILE_AFTER_SECONDS + 1);

    // Act
    const outcomes = await reconcilePayouts(reconcileDeps(), 10);

    // Assess
    expect(Object.fromEntries(outcomes.map((o) => [o.payoutNo, o.decision]))).toEqual({ [travelling.payoutNo]: 'still_pending', [lost.payoutNo]: 'gave_up' });
    expect(Date.parse((await payouts.get(travelling.payoutNo))!.reconcileAt!)).toBeGreaterThan(now.getTime());
    expect((await payouts.get(lost.payoutNo))?.status).toBe('pending');
    expect(payouts.available.get(USD)).toBe(500);
  });
});
