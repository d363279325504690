import { AuthorizationExpiredError, ProviderUnavailableError, WorkflowUnavailableError } from '../../../functions/domain/errors.ts';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPayment } from '../../../functions/domain/create-payment.ts';
import {
  type ReconcileDeps,
  reconcile,
  reconcilePayments,
  reconcileRefunds,
  releaseOpenAuthorizations,
} from '../../../functions/domain/reconcile.ts';
import { type Refund, RefundStatus } from '../../../functions/domain/refund.ts';
import { executionName } from '../../../functions/domain/saga-start.ts';
import { DEPLOYMENT_METADATA_KEY } from '../../../functions/domain/provider.ts';
import { authorizePayment, capturePayment, markSucceeded, recordAuthorization } from '../../../functions/domain/saga.ts';
import { SimulatedCrash } from '../../../functions/crash/crash-points.ts';
import { paymentRepositoryCalls, withCrashPoints } from '../../../functions/crash/crashing-ports.ts';
import { asInvocationOf } from '../../../functions/crash/invocation.ts';
import type { PaymentRepository } from '../../../functions/domain/ports.ts';
import type { PaymentProvider } from '../../../functions/domain/provider.ts';
import { USD } from '../../support/currencies.ts';
import { StrictPaymentRepository } from '../../support/strict/payments.ts';
import { StrictPayoutStore } from '../../support/strict/payouts.ts';
import { StrictRefundRepository } from '../../support/strict/refunds.ts';
import { StrictStripe, strictProvider } from '../../support/strict/stripe.ts';
import { StrictWorkflow } from '../../support/strict/workflow.ts';

let payments: StrictPaymentRepository;
let refunds: StrictRefundRepository;
let refundWorkflow: StrictWorkflow;
let workflow: StrictWorkflow;
let stripe: StrictStripe;
let provider: PaymentProvider;
let now: Date;
let deps: ReconcileDeps;

beforeEach(() => {
  now = new Date('2026-11-23T10:00:00Z');
  const clock = () => now;
  payments = new StrictPaymentRepository({ clock });
  refunds = new StrictRefundRepository(payments, { clock });
  refundWorkflow = new StrictWorkflow(clock);
  workflow = new StrictWorkflow(clock);
  stripe = new StrictStripe({ clock });
  provider = strictProvider(stripe);
  let leases = 0;
  deps = {
    payments,
    workflow,
    refunds,
    refundWorkflow,
    payouts: new StrictPayoutStore(),
    payoutWorkflow: new StrictWorkflow(clock),
    provider,
    clock: () => now,
    reconcileAfterSeconds: 300,
    maxResumes: 2,
    deployment: 'here',
    leaseSeconds: 60,
    newLeaseOwner: () => `owner-${++leases}`,
  };
});

async function stuckPayment(started = true) {
  workflow.failStarts = !started;
  const { payment } = await createPayment(deps, 'm_1', {
    orderNo: `o-${Math.random()}`,
    amount: 100,
    currency: USD,
    paymentMethod: 'pm_card_visa',
  });
  workflow.failStarts = false;
  now = new Date(now.getTime() + 301_000);
  return payment;
}

describe('reconcilePayments', () => {
  it('ignores payments that are not yet due', async () => {
    await createPayment(deps, 'm_1', { orderNo: 'fresh', amount: 1, currency: USD, paymentMethod: 'pm_card_visa' });

    expect(await reconcilePayments(deps, 10)).toEqual([]);
  });

  it('leaves a running execution alone and moves the deadline', async () => {
    const payment = await stuckPayment();

    const [outcome] = await reconcilePayments(deps, 10);

    expect(outcome?.decision).toBe('still_running');
    expect((await payments.get(payment.paymentNo))?.reconcileAt).toBe(new Date(now.getTime() + 300_000).toISOString());
    expect(workflow.executions.size).toBe(1);
  });

  it('starts the first execution of a payment whose start was lost', async () => {
    const payment = await stuckPayment(false);

    const [outcome] = await reconcilePayments(deps, 10);

    expect(outcome?.decision).toBe('started');
    expect(await workflow.describe(payment.paymentNo)).toBe('RUNNING');
  });

  it('resumes a payment whose execution ended without finishing it under a new name', async () => {
    const payment = await stuckPayment();
    workflow.end(payment.paymentNo, 'FAILED');

    const [outcome] = await reconcilePayments(deps, 10);

    expect(outcome?.decision).toBe('resumed');
    expect(await workflow.describe(`${payment.paymentNo}-r1`)).toBe('RUNNING');
    expect((await payments.get(payment.paymentNo))?.resumeCount).toBe(1);
  });

  it('skips a payment another actor moved while it was looked at', async () => {
    const payment = await stuckPayment();
    workflow.end(payment.paymentNo, 'FAILED');
    const describe = workflow.describe.bind(workflow);
    workflow.describe = async (name) => {
      payments.tamper(payment.paymentNo, {});
      return describe(name);
    };

    const [outcome] = await reconcilePayments(deps, 10);

    expect(outcome?.decision).toBe('skipped');
    expect(workflow.executions.has(`${payment.paymentNo}-r1`)).toBe(false);
  });

  it('goes on with the batch when one payment cannot be looked at', async () => {
    const first = await stuckPayment();
    const second = await stuckPayment(false);
    const describe = workflow.describe.bind(workflow);
    workflow.describe = async (name) => {
      if (name === first.paymentNo) throw new WorkflowUnavailableError('Step Functions is unavailable');
      return describe(name);
    };

    const outcomes = await reconcilePayments(deps, 10);

    expect(outcomes.find((o) => o.paymentNo === first.paymentNo)?.decision).toBe('errored');
    expect(outcomes.find((o) => o.paymentNo === second.paymentNo)?.decision).toBe('started');
  });
});

const sagaDeps = () => ({ ...deps, deployment: 'here' });

/** A payment whose saga authorized (and, with `record`, stored the charge id) and then died. */
async function diedAfterAuthorizing(record: boolean) {
  const payment = await stuckPayment();
  workflow.end(payment.paymentNo, 'FAILED');
  const state = await authorizePayment(sagaDeps(), { payment_no: payment.paymentNo });
  if (record) await recordAuthorization(sagaDeps(), state);
  return { paymentNo: payment.paymentNo, chargeId: state.charge_id! };
}

/** An authorization at the provider that no payment here knows. */
async function strayAuthorization(deployment = 'here') {
  return provider.authorizeCharge({
    paymentNo: 'pay_nobody',
    amount: 500,
    currency: USD,
    paymentMethod: 'pm_card_visa',
    idempotencyKey: `stray-${Math.random()}`,
    metadata: { payment_no: 'pay_nobody', [DEPLOYMENT_METADATA_KEY]: deployment },
  });
}

const later = (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
};

describe('releaseOpenAuthorizations', () => {
  it('voids an authorization whose payment does not exist', async () => {
    const stray = await strayAuthorization();
    later(301);

    const outcomes = await releaseOpenAuthorizations(deps, 10);

    expect(outcomes).toMatchObject([{ paymentNo: 'pay_nobody', chargeId: stray.id, decision: 'voided' }]);
    expect(stripe.intent(stray.id)?.status).toBe('canceled');
  });

  it("never touches another deployment's charges, nor one younger than the reconcile delay", async () => {
    const theirs = await strayAuthorization('elsewhere');
    later(301);
    const young = await strayAuthorization();

    expect(await releaseOpenAuthorizations(deps, 10)).toEqual([]);
    expect(stripe.intent(theirs.id)?.status).toBe('requires_capture');
    expect(stripe.intent(young.id)?.status).toBe('requires_capture');
  });

  it('voids the authorization a failed payment left open', async () => {
    const { paymentNo, chargeId } = await diedAfterAuthorizing(true);
    payments.tamper(paymentNo, { status: 'failed' });
    later(301);

    const outcomes = await releaseOpenAuthorizations(deps, 10);

    expect(outcomes).toMatchObject([{ paymentNo, chargeId, decision: 'voided' }]);
    expect(stripe.intent(chargeId)?.status).toBe('canceled');
    expect(stripe.callsTo('void')).toMatchObject([{ idempotencyKey: `${paymentNo}:void:${chargeId}` }]);
  });

  it("voids a second authorization of an open payment and leaves the payment's own alone", async () => {
    const { paymentNo, chargeId } = await diedAfterAuthorizing(true);
    stripe.forgetKeys();
    const second = await authorizePayment(sagaDeps(), { payment_no: paymentNo }).catch(() => undefined);
    const extra = await provider.authorizeCharge({
      paymentNo,
      amount: 100,
      currency: USD,
      paymentMethod: 'pm_card_visa',
      idempotencyKey: 'another',
      metadata: { payment_no: paymentNo, [DEPLOYMENT_METADATA_KEY]: 'here' },
    });
    later(301);

    const outcomes = await releaseOpenAuthorizations(deps, 10);

    expect(second?.charge_id).toBe(chargeId);
    expect(outcomes).toMatchObject([{ chargeId: extra.id, decision: 'voided' }]);
    expect(stripe.intent(chargeId)?.status).toBe('requires_capture');
  });

  it('reports a payment recorded as succeeded whose charge the provider still holds uncaptured', async () => {
    const { paymentNo } = await diedAfterAuthorizing(true);
    payments.tamper(paymentNo, { status: 'succeeded' });
    later(301);

    const outcomes = await releaseOpenAuthorizations(deps, 10);

    expect(outcomes).toMatchObject([{ paymentNo, decision: 'gave_up' }]);
  });

  it('captures the unrecorded authorization of a pending payment before it lapses', async () => {
    // Prepare: the charge id never reached the database; six and a half days pass.
    const { paymentNo, chargeId } = await diedAfterAuthorizing(false);
    later(6.5 * 24 * 3600);

    // Act
    const outcomes = await releaseOpenAuthorizations(deps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ paymentNo, chargeId, decision: 'captured' }]);
    expect(await payments.get(paymentNo)).toMatchObject({ status: 'succeeded', chargeId, amountCaptured: 100 });
    expect(stripe.intent(chargeId)?.captures.length).toBe(1);
  });
});

describe('an authorization near its capture deadline', () => {
  it('is captured by the reconciler, under a lease, with the saga\'s own capture key', async () => {
    // Prepare
    const { paymentNo, chargeId } = await diedAfterAuthorizing(true);
    for (let resume = 0; resume < deps.maxResumes; resume++) {
      later(301);
      await reconcilePayments(deps, 10);
      for (const [name, execution] of workflow.executions) if (execution.status === 'RUNNING') workflow.end(name, 'FAILED');
    }
    later(6.5 * 24 * 3600);
    const leasesSeen: unknown[] = [];
    const capture = provider.captureCharge.bind(provider);
    provider.captureCharge = async (input) => {
      leasesSeen.push((await payments.get(paymentNo))?.lease);
      return capture(input);
    };

    // Act
    const outcomes = await reconcile(deps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ paymentNo, decision: 'captured' }]);
    expect(leasesSeen).toEqual([{ owner: 'owner-1', expiresAt: new Date(now.getTime() + 60_000).toISOString() }]);
    const payment = await payments.get(paymentNo);
    expect(payment).toMatchObject({ status: 'succeeded', amountCaptured: 100 });
    expect(payment?.lease).toBeUndefined();
    expect(stripe.callsTo('capture').map((c) => c.idempotencyKey)).toEqual([`${paymentNo}:capture`]);
  });

  it('is voided, and its payment failed, when the provider will not capture it', async () => {
    const { paymentNo, chargeId } = await diedAfterAuthorizing(true);
    later(6.5 * 24 * 3600);
    stripe.lapse(chargeId);
    const capture = provider.captureCharge.bind(provider);
    provider.captureCharge = async (input) => {
      await capture(input).catch(() => undefined);
      throw new AuthorizationExpiredError('lapsed');
    };

    const outcomes = await reconcilePayments(deps, 10);

    expect(outcomes).toMatchObject([{ paymentNo, decision: 'voided' }]);
    expect(await payments.get(paymentNo)).toMatchObject({ status: 'failed', declineCode: 'capture_deadline_passed' });
  });

  it('frees the payment for the next run when the provider is unavailable', async () => {
    const { paymentNo } = await diedAfterAuthorizing(true);
    later(6.5 * 24 * 3600);
    stripe.arm('unavailable');

    const [first] = await reconcilePayments(deps, 10);
    later(301);
    const [second] = await reconcilePayments(deps, 10);

    expect(first).toMatchObject({ paymentNo, decision: 'errored' });
    expect(second).toMatchObject({ paymentNo, decision: 'captured' });
  });

  it('dies when its process dies freeing the payment after a refused capture, leaving the lease to lapse', async () => {
    // Prepare: the capture fails; the write that frees the lease (the run's second) is where the process dies.
    const { paymentNo } = await diedAfterAuthorizing(true);
    later(6.5 * 24 * 3600);
    stripe.arm('unavailable');
    process.env.CRASH_AT = 'reconciler:before-write@2#lease-release';
    const crashing = { ...deps, payments: withCrashPoints<PaymentRepository>(payments, paymentRepositoryCalls) };

    // Act
    const run = asInvocationOf('reconciler', () => reconcilePayments(crashing, 10));
    const died = await run.then(() => undefined, (error: unknown) => error);
    delete process.env.CRASH_AT;

    // Assess: a death, not a provider outage recorded for the next run.
    expect(died).toBeInstanceOf(SimulatedCrash);
    expect((await payments.get(paymentNo))?.lease?.owner).toBe('owner-1');
  });

  it('is left alone while another reconciler holds its lease', async () => {
    const { paymentNo } = await diedAfterAuthorizing(true);
    later(6.5 * 24 * 3600);
    payments.tamper(paymentNo, { lease: { owner: 'someone', expiresAt: new Date(now.getTime() + 1000).toISOString() } });

    const outcomes = await reconcile(deps, 10);

    expect(outcomes.map((o) => o.decision)).toEqual(['skipped', 'skipped']);
    expect(stripe.callsTo('capture')).toEqual([]);
  });
});

/** Ends each execution of the payment as failed and lets the reconciler resume it, as often as it may. */
async function resumedTooOften(paymentNo: string) {
  for (let resume = 0; resume <= deps.maxResumes; resume++) {
    workflow.end(executionName(paymentNo, resume), 'FAILED');
    later(301);
    if (resume < deps.maxResumes) expect((await reconcilePayments(deps, 10))[0]?.decision).toBe('resumed');
  }
}

/** Another authorization at the provider naming the payment: a duplicate, or one made by another deployment. */
async function anotherAuthorization(paymentNo: string, { amount = 100, deployment = 'here' } = {}) {
  return provider.authorizeCharge({
    paymentNo,
    amount,
    currency: USD,
    paymentMethod: 'pm_card_visa',
    idempotencyKey: `another-${Math.random()}`,
    metadata: { payment_no: paymentNo, [DEPLOYMENT_METADATA_KEY]: deployment },
  });
}

const capture = (chargeId: string) => provider.captureCharge({ chargeId, idempotencyKey: `capture-${chargeId}` });

/** Whether the charge id reached the payment before its executions started failing. */
const recordedOrNot = [
  ['on record', true],
  ['the payment never recorded', false],
] as const;

describe('a payment resumed too often', () => {
  it.each(recordedOrNot)('voids its authorization (%s) and fails it with processing_error, holding its lease while it calls the provider', async (_, recorded) => {
    // Prepare
    const { paymentNo, chargeId } = await diedAfterAuthorizing(recorded);
    await resumedTooOften(paymentNo);
    const leasesSeen: unknown[] = [];
    const voidCharge = provider.voidCharge.bind(provider);
    provider.voidCharge = async (input) => {
      leasesSeen.push((await payments.get(paymentNo))?.lease?.owner);
      return voidCharge(input);
    };

    // Act
    const outcomes = await reconcilePayments(deps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ paymentNo, decision: 'settled' }]);
    expect(stripe.intent(chargeId)?.status).toBe('canceled');
    expect(leasesSeen).toEqual(['owner-1']);
    const payment = await payments.get(paymentNo);
    expect(payment).toMatchObject({ status: 'failed', declineCode: 'processing_error', amountCaptured: 0 });
    expect(payment?.lease).toBeUndefined();
    expect(payment?.reconcileAt).toBeUndefined();
  });

  it('fails it with the decline code the provider gave, when it had one', async () => {
    const payment = await stuckPayment();
    payments.tamper(payment.paymentNo, { declineCode: 'insufficient_funds' });
    await resumedTooOften(payment.paymentNo);

    await reconcilePayments(deps, 10);

    expect(await payments.get(payment.paymentNo)).toMatchObject({ status: 'failed', declineCode: 'insufficient_funds' });
  });

  it.each(recordedOrNot)('finishes it as succeeded, with what was captured, when the provider captured its charge (%s)', async (_, recorded) => {
    // Prepare: the capture happened; the write that would have recorded it never did.
    const { paymentNo, chargeId } = await diedAfterAuthorizing(recorded);
    await capture(chargeId);
    await resumedTooOften(paymentNo);

    // Act
    const outcomes = await reconcilePayments(deps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ paymentNo, decision: 'settled' }]);
    expect(await payments.get(paymentNo)).toMatchObject({ status: 'succeeded', chargeId, amountCaptured: 100 });
    expect(stripe.intent(chargeId)?.captures.length).toBe(1);
    expect(stripe.callsTo('void')).toEqual([]);
  });

  it('voids a second authorization of a payment it finishes as succeeded', async () => {
    const { paymentNo, chargeId } = await diedAfterAuthorizing(true);
    await capture(chargeId);
    const extra = await anotherAuthorization(paymentNo);
    await resumedTooOften(paymentNo);

    await reconcilePayments(deps, 10);

    expect(await payments.get(paymentNo)).toMatchObject({ status: 'succeeded', amountCaptured: 100 });
    expect(stripe.intent(extra.id)?.status).toBe('canceled');
  });

  it.each([
    ['two captures', { amount: 100, captureOwn: true }],
    ['a capture of another amount', { amount: 250, captureOwn: false }],
  ])('leaves it open to a person, marked captures_disagree and due in an hour, when the provider holds %s', async (_, other) => {
    // Prepare
    const { paymentNo, chargeId } = await diedAfterAuthorizing(false);
    if (other.captureOwn) await capture(chargeId);
    await capture((await anotherAuthorization(paymentNo, { amount: other.amount })).id);
    await resumedTooOften(paymentNo);

    // Act
    const outcomes = await reconcilePayments(deps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ paymentNo, decision: 'gave_up' }]);
    const payment = await payments.get(paymentNo);
    expect(payment).toMatchObject({
      status: 'pending',
      needsAttention: { reason: 'captures_disagree', since: now.toISOString() },
      reconcileAt: new Date(now.getTime() + 3600_000).toISOString(),
    });
    expect(payment?.lease).toBeUndefined();
    expect(stripe.callsTo('void')).toEqual([]);
  });

  it('leaves it open, marked provider_unreachable since it first failed to ask, and settles it once the provider answers', async () => {
    // Prepare
    const { paymentNo, chargeId } = await diedAfterAuthorizing(true);
    await resumedTooOften(paymentNo);
    const findCharges = provider.findChargesByPaymentNo.bind(provider);
    provider.findChargesByPaymentNo = async () => {
      throw new ProviderUnavailableError('the provider is down');
    };
    const firstAsked = now.toISOString();

    // Act: two hourly looks while the provider is down, a third once it is back.
    const [first] = await reconcilePayments(deps, 10);
    later(3600);
    const [second] = await reconcilePayments(deps, 10);
    const stillOpen = await payments.get(paymentNo);
    provider.findChargesByPaymentNo = findCharges;
    later(3600);
    const [third] = await reconcilePayments(deps, 10);

    // Assess
    expect([first?.decision, second?.decision, third?.decision]).toEqual(['gave_up', 'gave_up', 'settled']);
    expect(stillOpen).toMatchObject({ status: 'authorized', needsAttention: { reason: 'provider_unreachable', since: firstAsked } });
    const settled = await payments.get(paymentNo);
    expect(settled).toMatchObject({ status: 'failed', declineCode: 'processing_error' });
    expect(settled?.needsAttention).toBeUndefined();
    expect(stripe.intent(chargeId)?.status).toBe('canceled');
  });

  it("never voids another deployment's charge that names the same payment", async () => {
    const { paymentNo } = await diedAfterAuthorizing(true);
    const theirs = await anotherAuthorization(paymentNo, { deployment: 'elsewhere' });
    await resumedTooOften(paymentNo);

    await reconcilePayments(deps, 10);

    expect(await payments.get(paymentNo)).toMatchObject({ status: 'failed' });
    expect(stripe.intent(theirs.id)?.status).toBe('requires_capture');
  });
});

