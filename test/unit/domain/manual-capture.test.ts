import { beforeEach, describe, expect, it } from 'vitest';
import { createPayment } from '../../../functions/domain/create-payment.ts';
import { NotFoundError, PaymentNotCapturableError, ValidationError } from '../../../functions/domain/errors.ts';
import { type CaptureRequest, decideCapture } from '../../../functions/domain/manual-capture.ts';
import type { PaymentRequest } from '../../../functions/domain/payment.ts';
import { type ReconcileDeps, reconcilePayments, releaseOpenAuthorizations } from '../../../functions/domain/reconcile.ts';
import {
  type SagaState,
  authorizePayment,
  capturePayment,
  markFailed,
  markSucceeded,
  recordAuthorization,
  voidAuthorization,
} from '../../../functions/domain/saga.ts';
import { executionName } from '../../../functions/domain/saga-start.ts';
import { USD } from '../../support/currencies.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { StrictPaymentRepository } from '../../support/strict/payments.ts';
import { StrictPayoutStore } from '../../support/strict/payouts.ts';
import { StrictRefundRepository } from '../../support/strict/refunds.ts';
import { StrictStripe, strictProvider } from '../../support/strict/stripe.ts';
import { StrictWorkflow } from '../../support/strict/workflow.ts';

const MERCHANT = 'm_1';
const DAY_MS = 24 * 3600 * 1000;

let time: ManualClock;
let payments: StrictPaymentRepository;
let workflow: StrictWorkflow;
let stripe: StrictStripe;
let deps: ReconcileDeps;

beforeEach(() => {
  time = new ManualClock(Date.parse('2026-11-23T10:00:00Z'));
  payments = new StrictPaymentRepository({ clock: time.clock });
  workflow = new StrictWorkflow(time.clock);
  stripe = new StrictStripe({ clock: time.clock });
  deps = {
    payments,
    workflow,
    refunds: new StrictRefundRepository(payments, { clock: time.clock }),
    refundWorkflow: new StrictWorkflow(time.clock),
    payouts: new StrictPayoutStore(),
    payoutWorkflow: new StrictWorkflow(time.clock),
    provider: strictProvider(stripe),
    clock: time.clock,
    reconcileAfterSeconds: 300,
    maxResumes: 2,
    deployment: 'here',
    leaseSeconds: 60,
    newLeaseOwner: () => 'owner',
  };
});

const sagaDeps = () => ({ ...deps, deployment: deps.deployment });

async function created(extra: Partial<PaymentRequest> = { captureMethod: 'manual' }): Promise<string> {
  const request: PaymentRequest = { orderNo: `o-${Math.random()}`, amount: 1000, currency: USD, paymentMethod: 'pm_card_visa', ...extra };
  return (await createPayment(deps, MERCHANT, request)).payment.paymentNo;
}

/** The first execution, as the state machine runs it: to where RecordAuthorization says it goes. */
async function authorized(extra?: Partial<PaymentRequest>): Promise<{ paymentNo: string; state: SagaState }> {
  const paymentNo = await created(extra);
  const state = await recordAuthorization(deps, await authorizePayment(sagaDeps(), { payment_no: paymentNo }));
  workflow.end(executionName(paymentNo, 0), 'SUCCEEDED');
  return { paymentNo, state };
}

/** The execution the merchant's word started, run as the state machine runs it. */
async function runDecided(paymentNo: string): Promise<SagaState> {
  const state = await recordAuthorization(deps, await authorizePayment(sagaDeps(), { payment_no: paymentNo }));
  if (state.then === 'cancel') return markFailed(deps, await voidAuthorization(sagaDeps(), state));
  return markSucceeded(deps, await capturePayment(sagaDeps(), state));
}

const decide = (paymentNo: string, request: CaptureRequest) => decideCapture(deps, MERCHANT, paymentNo, request);

describe('a manual payment', () => {
  it('stops at authorized, marked for the provider as manual, due only a day before its authorization lapses', async () => {
    // Act
    const { paymentNo, state } = await authorized();

    // Assess
    const payment = await payments.get(paymentNo);
    expect(state.then).toBe('await_capture');
    expect(payment).toMatchObject({ status: 'authorized', captureMethod: 'manual' });
    expect(Date.parse(payment?.reconcileAt ?? '')).toBe(Date.parse(payment?.captureBefore ?? '') - DAY_MS);
    expect(stripe.intent(payment?.chargeId ?? '')?.metadata).toMatchObject({ chargeonce_capture: 'manual' });
  });

  it('goes on to capture when automatic, as before', async () => {
    const { state } = await authorized({});

    expect(state.then).toBeUndefined();
  });

  it('is captured for the amount the merchant asks, the rest released, through a new execution', async () => {
    // Prepare
    const { paymentNo } = await authorized();

    // Act
    const { payment, started } = await decide(paymentNo, { action: 'capture', amount: 600 });
    await runDecided(paymentNo);

    // Assess
    expect(started).toBe(true);
    expect(payment).toMatchObject({ status: 'authorized', resumeCount: 1, captureDecision: { action: 'capture', amount: 600 } });
    expect(await workflow.describe(executionName(paymentNo, 1))).toBe('RUNNING');
    const captured = await payments.get(paymentNo);
    expect(captured).toMatchObject({ status: 'succeeded', amountCaptured: 600 });
    expect(stripe.intent(captured?.chargeId ?? '')?.captures).toMatchObject([{ amount: 600 }]);
  });

  it('is captured in full when the merchant gives no amount', async () => {
    const { paymentNo } = await authorized();

    await decide(paymentNo, { action: 'capture' });
    await runDecided(paymentNo);

    expect(await payments.get(paymentNo)).toMatchObject({ status: 'succeeded', amountCaptured: 1000 });
  });

  it('is canceled, its authorization voided, when the merchant cancels it', async () => {
    // Prepare
    const { paymentNo } = await authorized();

    // Act
    await decide(paymentNo, { action: 'cancel' });
    await runDecided(paymentNo);

    // Assess
    const canceled = await payments.get(paymentNo);
    expect(canceled).toMatchObject({ status: 'canceled', cancellationReason: 'requested' });
    expect(canceled?.declineCode).toBeUndefined();
    expect(stripe.intent(canceled?.chargeId ?? '')?.status).toBe('canceled');
  });

  it('answers the same word again as it did the first time, without writing, and starts the execution a crash may have lost', async () => {
    // Prepare
    const { paymentNo } = await authorized();
    workflow.failStarts = true;
    const first = await decide(paymentNo, { action: 'capture', amount: 600 });
    workflow.failStarts = false;

    // Act
    const again = await decide(paymentNo, { action: 'capture', amount: 600 });

    // Assess
    expect(first.started).toBe(false);
    expect(again).toEqual({ payment: first.payment, started: true });
    expect(await workflow.describe(executionName(paymentNo, 1))).toBe('RUNNING');
  });

  it.each([
    ['another amount', { action: 'capture', amount: 500 }],
    ['a cancel', { action: 'cancel' }],
  ] as const)('refuses %s once the merchant asked for a capture, changing nothing', async (_, other) => {
    const { paymentNo } = await authorized();
    const { payment } = await decide(paymentNo, { action: 'capture', amount: 600 });

    await expect(decide(paymentNo, other)).rejects.toBeInstanceOf(PaymentNotCapturableError);
    expect(await payments.get(paymentNo)).toEqual(payment);
  });

  it('refuses a capture of more than was authorized, naming amount_to_capture', async () => {
    const { paymentNo } = await authorized();

    await expect(decide(paymentNo, { action: 'capture', amount: 1001 })).rejects.toMatchObject({
      constructor: ValidationError,
      field: 'amount_to_capture',
    });
  });

  it('refuses a capture while pending, of an automatic payment, and of another merchant’s', async () => {
    const pending = await created();
    const { paymentNo: automatic } = await authorized({});
    const { paymentNo: manual } = await authorized();

    await expect(decide(pending, { action: 'capture' })).rejects.toThrow(/is pending; it can be captured once it is authorized/);
    await expect(decide(automatic, { action: 'cancel' })).rejects.toThrow(/captured automatically/);
    await expect(decideCapture(deps, 'm_other', manual, { action: 'capture' })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('the reconciler, for a manual payment', () => {
  it('leaves one awaiting its capture alone, looking again a day before its authorization lapses', async () => {
    // Prepare: the payment became due early (its first execution lost the race to write its deadline).
    const { paymentNo } = await authorized();
    const payment = (await payments.get(paymentNo))!;
    await payments.replace(payment, { ...payment, version: payment.version + 1, reconcileAt: time.clock().toISOString() });

    // Act
    const outcomes = await reconcilePayments(deps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ paymentNo, decision: 'awaiting_capture' }]);
    const after = await payments.get(paymentNo);
    expect(Date.parse(after?.reconcileAt ?? '')).toBe(Date.parse(after?.captureBefore ?? '') - DAY_MS);
    expect(stripe.callsTo('capture')).toEqual([]);
    expect(stripe.callsTo('void')).toEqual([]);
  });

  it('voids one nobody captured a day before its authorization lapses, and cancels it (capture_deadline_passed)', async () => {
    // Prepare
    const { paymentNo } = await authorized();
    time.advance(6 * DAY_MS + 1);

    // Act
    const outcomes = await reconcilePayments(deps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ paymentNo, decision: 'voided' }]);
    const canceled = await payments.get(paymentNo);
    expect(canceled).toMatchObject({ status: 'canceled', cancellationReason: 'capture_deadline_passed' });
    expect(stripe.intent(canceled?.chargeId ?? '')?.status).toBe('canceled');
    expect(stripe.callsTo('capture')).toEqual([]);
  });

  it('captures the amount the merchant asked for when that execution died near the deadline', async () => {
    // Prepare
    const { paymentNo } = await authorized();
    await decide(paymentNo, { action: 'capture', amount: 700 });
    workflow.end(executionName(paymentNo, 1), 'FAILED');
    time.advance(6 * DAY_MS + 1);

    // Act
    const outcomes = await reconcilePayments(deps, 10);

    // Assess
    expect(outcomes).toMatchObject([{ paymentNo, decision: 'captured' }]);
    expect(await payments.get(paymentNo)).toMatchObject({ status: 'succeeded', amountCaptured: 700 });
  });

  it('sweeps the open authorizations of manual payments only once they near their deadline', async () => {
    // Prepare: the sweep reaches a charge whose payment's record was lost in an outage.
    const { paymentNo } = await authorized();
    const payment = (await payments.get(paymentNo))!;
    time.advance(3600 * 1000);
    const early = await releaseOpenAuthorizations(deps, 10);
    time.advance(6 * DAY_MS);
    await payments.replace(payment, { ...payment, version: payment.version + 1, reconcileAt: new Date(time.clock().getTime() + DAY_MS).toISOString() });

    // Act
    const late = await releaseOpenAuthorizations(deps, 10);

    // Assess
    expect(early).toEqual([]);
    expect(late).toMatchObject([{ paymentNo, decision: 'voided' }]);
    expect(await payments.get(paymentNo)).toMatchObject({ status: 'canceled', cancellationReason: 'capture_deadline_passed' });
  });
});
