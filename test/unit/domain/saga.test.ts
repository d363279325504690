import { beforeEach, describe, expect, it } from 'vitest';
import { createPayment } from '../../../functions/domain/create-payment.ts';
import {
  CardDeclinedError,
  PaymentBusyError,
  PaymentClosedError,
  ProviderUnavailableError,
} from '../../../functions/domain/errors.ts';
import {
  type SagaDeps,
  type SagaState,
  authorizePayment,
  capturePayment,
  markFailed,
  markSucceeded,
  recordAuthorization,
  voidAuthorization,
} from '../../../functions/domain/saga.ts';
import type { PaymentProvider } from '../../../functions/domain/provider.ts';
import { USD } from '../../support/currencies.ts';
import { StrictPaymentRepository } from '../../support/strict/payments.ts';
import { StrictStripe, strictProvider } from '../../support/strict/stripe.ts';
import { StrictWorkflow } from '../../support/strict/workflow.ts';

let payments: StrictPaymentRepository;
let stripe: StrictStripe;
let provider: PaymentProvider;
let deps: SagaDeps;

beforeEach(() => {
  const clock = () => new Date('2026-11-23T10:00:00Z');
  payments = new StrictPaymentRepository({ clock });
  stripe = new StrictStripe({ clock });
  provider = strictProvider(stripe);
  deps = { payments, provider, clock, reconcileAfterSeconds: 300, deployment: 'test-deployment' };
});

async function newPayment(paymentMethod = 'pm_card_visa'): Promise<SagaState> {
  const { payment } = await createPayment(
    { payments, workflow: new StrictWorkflow(deps.clock), clock: deps.clock, reconcileAfterSeconds: 300 },
    'm_1',
    { orderNo: `order-${Math.random()}`, amount: 1250, currency: USD, paymentMethod },
  );
  return { payment_no: payment.paymentNo };
}

async function runForward(state: SagaState): Promise<SagaState> {
  let next = await authorizePayment(deps, state);
  next = await recordAuthorization(deps, next);
  next = await capturePayment(deps, next);
  return markSucceeded(deps, next);
}

describe('the two-phase charge', () => {
  it('authorizes, records, captures and marks the payment succeeded with one capture', async () => {
    // Prepare
    const state = await newPayment();

    // Act
    const end = await runForward(state);

    // Assess
    const payment = await payments.get(state.payment_no);
    expect(payment).toMatchObject({ status: 'succeeded', amountCaptured: 1250, chargeId: end.charge_id });
    expect(payment?.reconcileAt).toBeUndefined();
    expect(stripe.intent(end.charge_id!)?.captures.length).toBe(1);
  });

  it('sends idempotency keys derived from the payment_no', async () => {
    const state = await newPayment();

    await runForward(state);

    expect(stripe.ledger.calls.map((c) => c.idempotencyKey)).toEqual([
      `${state.payment_no}:authorize`,
      `${state.payment_no}:capture`,
    ]);
  });

  it('changes nothing when every step runs a second time', async () => {
    // Prepare
    const state = await newPayment();
    const end = await runForward(state);
    const before = await payments.get(state.payment_no);

    // Act
    const again = await runForward(state);

    // Assess
    expect(await payments.get(state.payment_no)).toEqual(before);
    expect(again.charge_id).toBe(end.charge_id);
    expect(stripe.intent(end.charge_id!)?.captures.length).toBe(1);
  });

  it('repeats a capture whose result was lost without capturing twice', async () => {
    // Prepare: the process died after Capture, before MarkSucceeded.
    const state = await newPayment();
    const recorded = await recordAuthorization(deps, await authorizePayment(deps, state));
    await capturePayment(deps, recorded);

    // Act: the execution retries from Capture.
    const captured = await capturePayment(deps, recorded);
    await markSucceeded(deps, captured);

    // Assess
    expect(stripe.intent(captured.charge_id!)?.captures.length).toBe(1);
    expect((await payments.get(state.payment_no))?.status).toBe('succeeded');
  });

  it('lets a transient provider fault through for the state machine to retry', async () => {
    const state = await newPayment();
    stripe.arm('unavailable');

    await expect(authorizePayment(deps, state)).rejects.toBeInstanceOf(ProviderUnavailableError);

    expect((await payments.get(state.payment_no))?.status).toBe('pending');
  });
});

describe('a declined card', () => {
  it('records the decline code and charge id before failing the step', async () => {
    const state = await newPayment('pm_card_chargeDeclinedInsufficientFunds');

    const failure = authorizePayment(deps, state);

    await expect(failure).rejects.toBeInstanceOf(CardDeclinedError);
    await expect(failure).rejects.toMatchObject({ name: 'CardDeclined', declineCode: 'insufficient_funds' });
    expect(await payments.get(state.payment_no)).toMatchObject({
      status: 'pending',
      declineCode: 'insufficient_funds',
      chargeId: expect.stringMatching(/^pi_/),
    });
  });

  it('ends failed with the decline code and the declined intent canceled', async () => {
    // Prepare
    const state = await newPayment('pm_card_chargeDeclined');
    await authorizePayment(deps, state).catch(() => undefined);
    const caught = { ...state, error: { Error: 'CardDeclined' } };

    // Act
    await markFailed(deps, await voidAuthorization(deps, caught));

    // Assess
    const payment = await payments.get(state.payment_no);
    expect(payment).toMatchObject({ status: 'failed', declineCode: 'generic_decline' });
    expect(stripe.intent(payment!.chargeId!)?.status).toBe('canceled');
  });
});

describe('a payment closed by another actor', () => {
  it('refuses to record an authorization on a canceled payment and voids it in compensation', async () => {
    // Prepare
    const state = await newPayment();
    const authorized = await authorizePayment(deps, state);
    payments.tamper(state.payment_no, { status: 'canceled' });

    // Act
    const recording = recordAuthorization(deps, authorized);
    await expect(recording).rejects.toBeInstanceOf(PaymentClosedError);
    await markFailed(deps, await voidAuthorization(deps, { ...authorized, error: { Error: 'PaymentClosed' } }));

    // Assess
    expect(stripe.intent(authorized.charge_id!)?.status).toBe('canceled');
    expect((await payments.get(state.payment_no))?.status).toBe('canceled');
  });

  it('decides again on the fresh record when its conditional write loses a race', async () => {
    // Prepare: a second actor records the same authorization first.
    const state = await newPayment();
    const authorized = await authorizePayment(deps, state);
    const original = payments.update.bind(payments);
    let raced = false;
    payments.update = async (presumed, patch) => {
      if (!raced) {
        raced = true;
        await original(presumed, patch);
      }
      return original(presumed, patch);
    };

    // Act
    const result = await recordAuthorization(deps, authorized);

    // Assess
    expect(result.charge_id).toBe(authorized.charge_id);
    expect(await payments.get(state.payment_no)).toMatchObject({ status: 'authorized', version: 2 });
  });
});

/** Every read of the repository from now on, counted. */
function countReads(): () => number {
  let reads = 0;
  const get = payments.get.bind(payments);
  payments.get = async (paymentNo) => {
    reads += 1;
    return get(paymentNo);
  };
  return () => reads;
}

describe('RecordAuthorization after Authorize', () => {
  it('writes authorized over the version Authorize read, without reading the payment again', async () => {
    const authorized = await authorizePayment(deps, await newPayment());
    const reads = countReads();

    const recorded = await recordAuthorization(deps, authorized);

    expect(authorized.authorized_from).toEqual({ version: 1 });
    expect(reads()).toBe(0);
    expect(recorded.then).toBeUndefined();
    expect(await payments.get(authorized.payment_no)).toMatchObject({ status: 'authorized', version: 2, chargeId: authorized.charge_id });
  });

  it('makes a manual payment due a day before its authorization lapses and ends the execution there, without a read', async () => {
    const { payment } = await createPayment(
      { payments, workflow: new StrictWorkflow(deps.clock), clock: deps.clock, reconcileAfterSeconds: 300 },
      'm_1',
      { orderNo: 'order-manual', amount: 1250, currency: USD, paymentMethod: 'pm_card_visa', captureMethod: 'manual' },
    );
    const authorized = await authorizePayment(deps, { payment_no: payment.paymentNo });
    const reads = countReads();

    const recorded = await recordAuthorization(deps, authorized);

    expect(authorized.authorized_from).toEqual({ version: 1, capture_method: 'manual' });
    expect(reads()).toBe(0);
    expect(recorded.then).toBe('await_capture');
    expect(await payments.get(payment.paymentNo)).toMatchObject({
      status: 'authorized',
      captureBefore: '2026-11-30T10:00:00.000Z',
      reconcileAt: '2026-11-29T10:00:00.000Z',
    });
  });

  it('decides on the payment as the refused write returned it, when it moved on since Authorize', async () => {
    const authorized = await authorizePayment(deps, await newPayment());
    payments.tamper(authorized.payment_no, { status: 'canceled' });
    const reads = countReads();

    await expect(recordAuthorization(deps, authorized)).rejects.toBeInstanceOf(PaymentClosedError);
    expect(reads()).toBe(0);
    expect(await payments.get(authorized.payment_no)).toMatchObject({ status: 'canceled', version: 2 });
  });
});

describe('MarkSucceeded after Capture', () => {
  /** The payment captured, and every read of the repository counted from then on. */
  async function captured(): Promise<{ state: SagaState; reads: () => number }> {
    const state = await newPayment();
    const next = await capturePayment(deps, await recordAuthorization(deps, await authorizePayment(deps, state)));
    return { state: next, reads: countReads() };
  }

  it('writes succeeded over the version Capture read, without reading the payment again', async () => {
    const { state, reads } = await captured();

    const end = await markSucceeded(deps, state);

    expect(state.captured_version).toBe(2);
    expect(reads()).toBe(0);
    expect(end).toEqual(state);
    const payment = await payments.get(state.payment_no);
    expect(payment).toMatchObject({ status: 'succeeded', version: 3, amountCaptured: 1250 });
    expect(payment?.reconcileAt).toBeUndefined();
  });

  it('decides on the payment as the refused write returned it, when it moved on since Capture', async () => {
    const { state, reads } = await captured();
    payments.tamper(state.payment_no, { lease: { owner: 'reconciler-1', expiresAt: '2026-11-23T10:02:00Z' } });

    await expect(markSucceeded(deps, state)).rejects.toBeInstanceOf(PaymentBusyError);
    expect(reads()).toBe(0);
    expect(await payments.get(state.payment_no)).toMatchObject({ status: 'authorized', version: 3 });
  });

  it('changes nothing when it runs again after its write', async () => {
    const { state } = await captured();
    await markSucceeded(deps, state);
    const after = await payments.get(state.payment_no);

    await markSucceeded(deps, state);

    expect(await payments.get(state.payment_no)).toEqual(after);
  });

  it('reads and decides as every step does when the state names no version (an execution started before it did)', async () => {
    const { state, reads } = await captured();
    const { captured_version: _, ...older } = state;

    await markSucceeded(deps, older);

    expect(reads()).toBe(1);
    expect(await payments.get(state.payment_no)).toMatchObject({ status: 'succeeded', version: 3 });
  });
});

describe('an authorization whose idempotency key the provider may have forgotten', () => {
  it('finds the charge by payment_no instead of authorizing a second time', async () => {
    // Prepare: authorized, but the charge id was never stored; a day passes.
    const state = await newPayment();
    const first = await authorizePayment(deps, state);
    const later: SagaDeps = { ...deps, clock: () => new Date('2026-11-24T11:00:00Z') };
    stripe.forgetKeys();

    // Act
    const resumed = await authorizePayment(later, state);

    // Assess
    expect(resumed.charge_id).toBe(first.charge_id);
    expect(stripe.callsTo('authorize')).toHaveLength(1);
  });

  it('authorizes when the search finds nothing, as for any pending payment', async () => {
    const state = await newPayment();
    const later: SagaDeps = { ...deps, clock: () => new Date('2026-11-24T11:00:00Z') };

    const resumed = await authorizePayment(later, state);

    expect(stripe.intent(resumed.charge_id!)?.status).toBe('requires_capture');
  });
});

describe('what a charge carries for the reconciler', () => {
  it('tags the charge with the deployment and stores when its authorization lapses', async () => {
    // Prepare
    const state = await newPayment();

    // Act
    const recorded = await recordAuthorization(deps, await authorizePayment(deps, state));

    // Assess
    expect(stripe.intent(recorded.charge_id!)?.metadata['chargeonce_deployment']).toBe('test-deployment');
    expect((await payments.get(state.payment_no))?.captureBefore).toBe('2026-11-30T10:00:00.000Z');
  });
});

describe('a payment the reconciler holds the lease of', () => {
  it('makes every step wait without calling the provider or writing', async () => {
    // Prepare
    const state = await newPayment();
    const authorized = await recordAuthorization(deps, await authorizePayment(deps, state));
    payments.tamper(state.payment_no, { lease: { owner: 'reconciler-1', expiresAt: '2026-11-23T10:02:00Z' } });
    const before = await payments.get(state.payment_no);
    const requestsBefore = stripe.requests.length;

    // Act
    const capture = capturePayment(deps, authorized);
    const voiding = voidAuthorization(deps, authorized);

    // Assess
    await expect(capture).rejects.toBeInstanceOf(PaymentBusyError);
    await expect(voiding).rejects.toMatchObject({ name: 'PaymentBusy', code: 'payment_busy' });
    expect(stripe.requests).toHaveLength(requestsBefore);
    expect(await payments.get(state.payment_no)).toEqual(before);
  });

  it('goes on once the lease has lapsed, and drops it with its next write', async () => {
    const state = await newPayment();
    const authorized = await recordAuthorization(deps, await authorizePayment(deps, state));
    payments.tamper(state.payment_no, { lease: { owner: 'reconciler-1', expiresAt: '2026-11-23T09:59:59Z' } });

    await markSucceeded(deps, await capturePayment(deps, authorized));

    const payment = await payments.get(state.payment_no);
    expect(payment?.status).toBe('succeeded');
    expect(payment?.lease).toBeUndefined();
  });
});
