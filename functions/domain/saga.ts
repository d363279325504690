import {
  CardDeclinedError,
  ConcurrentModificationError,
  NotFoundError,
  PaymentBusyError,
  PaymentClosedError,
  type TerminalErrorName,
  declineCodeForTerminalError,
} from './errors.ts';
import { CART_METADATA_KEY } from './carts/model.ts';
import {
  CancellationReason,
  CaptureMethod,
  type Payment,
  type PaymentPatch,
  PaymentStatus,
  amountToCapture,
  applyPatch,
  isLeased,
  isTerminal,
} from './payment.ts';
import { type Clock, type PaymentRepository, StaleWriteError } from './ports.ts';
import {
  CAPTURE_DEADLINE_MARGIN_SECONDS,
  CAPTURE_METHOD_METADATA_KEY,
  CARD_AUTHORIZATION_WINDOW_SECONDS,
  type Charge,
  DEPLOYMENT_METADATA_KEY,
  type PaymentProvider,
  mayHaveForgottenKey,
} from './provider.ts';

/**
 * The four steps of the two-phase charge and its compensation. Each one reads the payment,
 * decides from its stored status what is left to do, and makes at most one conditional
 * write: a step that runs twice, or after another actor moved the payment on, changes
 * nothing the second time.
 */
export interface StepDeps {
  readonly payments: PaymentRepository;
  readonly clock: Clock;
  /** Seconds an unfinished payment waits before the reconciler looks at it. */
  readonly reconcileAfterSeconds: number;
}

/** The steps that call the provider (the catalog's `providerSteps`); only they get its secret. */
export interface SagaDeps extends StepDeps {
  readonly provider: PaymentProvider;
  /** Written on every charge, so the reconciler can tell this deployment's charges from others'. */
  readonly deployment: string;
}

/** The state passed between the saga's Task states. */
export interface SagaState {
  readonly payment_no: string;
  readonly charge_id?: string;
  readonly amount_captured?: number;
  /** When the authorization lapses (seconds since the epoch), when the provider says. */
  readonly capture_before?: number;
  /** Set by a Catch: the terminal error that sent the execution to compensation. */
  readonly error?: { readonly Error: string; readonly Cause?: string };
  /**
   * Set by Authorize: the pending payment it authorized, as far as RecordAuthorization's write
   * needs it. RecordAuthorization presumes the payment unchanged since and lets its write's
   * condition check that instead of reading it again; a payment that moved on meanwhile refuses
   * the write and is decided on as stored.
   */
  readonly authorized_from?: { readonly version: number; readonly capture_method?: typeof CaptureMethod.Manual };
  /** Set by Capture: the version of the authorized payment it captured, for MarkSucceeded as above. */
  readonly captured_version?: number;
  /** Set by the last step when the payment pays a cart: the saga then settles the cart. */
  readonly cart_id?: string;
  /**
   * Set by RecordAuthorization for a manual payment: the execution ends there while the payment
   * awaits the merchant's word, or goes to compensation once the merchant canceled it. Absent:
   * it captures.
   */
  readonly then?: 'await_capture' | 'cancel';
}

export const authorizeKey = (paymentNo: string) => `${paymentNo}:authorize`;
export const captureKey = (paymentNo: string) => `${paymentNo}:capture`;
/** One key per charge: a payment may hold two authorizations when it was closed mid-flight. */
export const voidKey = (paymentNo: string, chargeId: string) => `${paymentNo}:void:${chargeId}`;

/**
 * Step 1: creates the uncaptured charge. The idempotency key is derived from the
 * payment_no, so a repeat after a crash gets the same PaymentIntent back, never a second one.
 */
export async function authorizePayment(deps: SagaDeps, state: SagaState): Promise<SagaState> {
  return withFreshPayment(deps, state.payment_no, async (payment) => {
    if (payment.status === PaymentStatus.Authorized || payment.status === PaymentStatus.Succeeded) {
      return { ...state, charge_id: payment.chargeId };
    }
    if (isTerminal(payment.status)) throw closed(payment);
    // A crash after recording a decline but before this step failed: the answer is known.
    if (payment.declineCode !== undefined) {
      throw new CardDeclinedError(payment.declineCode, 'the card was declined', payment.chargeId);
    }
    // The provider answers a repeated key from its record only while it keeps the key (Stripe:
    // 24 hours). Past that, a crash after the provider authorized but before the charge id was
    // stored is resolved by the payment_no in the charge's metadata, not by a second charge.
    if (mayHaveForgottenKey(deps.clock(), payment.createdAt)) {
      const [found] = (await deps.provider.findChargesByPaymentNo(payment.paymentNo)).filter(
        (charge) => charge.status === 'requires_capture' || charge.status === 'succeeded',
      );
      if (found) return authorized(state, found, payment);
    }
    try {
      const charge = await deps.provider.authorizeCharge({
        paymentNo: payment.paymentNo,
        amount: payment.amount,
        currency: payment.currency,
        paymentMethod: payment.paymentMethod,
        idempotencyKey: authorizeKey(payment.paymentNo),
        metadata: {
          ...payment.metadata,
          payment_no: payment.paymentNo,
          order_no: payment.orderNo,
          merchant_id: payment.merchantId,
          [DEPLOYMENT_METADATA_KEY]: deps.deployment,
          ...(payment.captureMethod === CaptureMethod.Manual && { [CAPTURE_METHOD_METADATA_KEY]: CaptureMethod.Manual }),
        },
        ...(payment.description !== undefined && { description: payment.description }),
        ...(payment.customerEmail !== undefined && { customerEmail: payment.customerEmail }),
      });
      return authorized(state, charge, payment);
    } catch (error) {
      if (!(error instanceof CardDeclinedError)) throw error;
      // Recorded before the throw so compensation knows what to void and why, even if
      // the Catch's error payload is lost.
      await deps.payments.replace(
        payment,
        touch(deps, payment, {
          declineCode: error.declineCode,
          ...(error.chargeId !== undefined && { chargeId: error.chargeId }),
        }),
      );
      throw error;
    }
  });
}

function authorized(state: SagaState, charge: Charge, pending: Payment): SagaState {
  return {
    ...state,
    charge_id: charge.id,
    ...(charge.captureBefore !== undefined && { capture_before: charge.captureBefore }),
    authorized_from: { version: pending.version, ...(pending.captureMethod !== undefined && { capture_method: pending.captureMethod }) },
  };
}

/**
 * Step 2: stores the charge id; `pending -> authorized`. A manual payment then waits for the
 * merchant: due for the reconciler only a day before its authorization lapses.
 */
export async function recordAuthorization(deps: StepDeps, state: SagaState): Promise<SagaState> {
  const chargeId = state.charge_id;
  if (chargeId === undefined) throw new Error('RecordAuthorization needs the charge_id from Authorize');
  const authorizing = (manual: boolean): PaymentChanges => {
    const lapsesAt = (state.capture_before ?? deps.clock().getTime() / 1000 + CARD_AUTHORIZATION_WINDOW_SECONDS) * 1000;
    return {
      status: PaymentStatus.Authorized,
      chargeId,
      ...(state.capture_before !== undefined && { captureBefore: new Date(state.capture_before * 1000).toISOString() }),
      ...(manual && { reconcileAt: new Date(lapsesAt - CAPTURE_DEADLINE_MARGIN_SECONDS * 1000).toISOString() }),
    };
  };
  const from = state.authorized_from;
  const presumed = from && {
    payment: { paymentNo: state.payment_no, status: PaymentStatus.Pending, version: from.version },
    changes: authorizing(from.capture_method === CaptureMethod.Manual),
  };
  return withPresumedPayment(deps, state.payment_no, presumed, (written) => routed(state, written), async (payment) => {
    if (payment.status === PaymentStatus.Pending) {
      const written = await deps.payments.replace(payment, touch(deps, payment, authorizing(payment.captureMethod === CaptureMethod.Manual)));
      return routed(state, written);
    }
    if (payment.status === PaymentStatus.Authorized || payment.status === PaymentStatus.Succeeded) {
      return routed(state, payment);
    }
    // Closed by someone else while we authorized: compensation voids `state.charge_id`.
    throw closed(payment);
  });
}

/** Where the execution goes once the payment is authorized: on to capture, unless it is manual and the merchant has not said so. */
function routed(state: SagaState, payment: Payment): SagaState {
  const { then: _decidedAgain, ...rest } = state;
  if (payment.captureMethod !== CaptureMethod.Manual || payment.status !== PaymentStatus.Authorized) return rest;
  if (payment.captureDecision === undefined) return { ...rest, then: 'await_capture' };
  return payment.captureDecision.action === 'cancel' ? { ...rest, then: 'cancel' } : rest;
}

/**
 * Step 3: captures. A crash between this and step 4 repeats this call with the same
 * idempotency key, which the provider answers from its record: never a second capture.
 */
export async function capturePayment(deps: SagaDeps, state: SagaState): Promise<SagaState> {
  return withFreshPayment(deps, state.payment_no, async (payment) => {
    if (payment.status === PaymentStatus.Succeeded) {
      return { ...state, charge_id: payment.chargeId, amount_captured: payment.amountCaptured };
    }
    if (isTerminal(payment.status)) throw closed(payment);
    if (payment.status !== PaymentStatus.Authorized || payment.chargeId === undefined) {
      throw new Error(`Capture ran before payment ${payment.paymentNo} was authorized`);
    }
    if (payment.captureMethod === CaptureMethod.Manual && payment.captureDecision?.action !== 'capture') {
      throw new Error(`Capture ran before the merchant captured manual payment ${payment.paymentNo}`);
    }
    const charge = await deps.provider.captureCharge({
      chargeId: payment.chargeId,
      idempotencyKey: captureKey(payment.paymentNo),
      ...(payment.captureMethod === CaptureMethod.Manual && { amount: amountToCapture(payment) }),
    });
    return { ...state, charge_id: charge.id, amount_captured: charge.amountCaptured, captured_version: payment.version };
  });
}

/** Step 4: `authorized -> succeeded`, recording what the provider captured. */
export async function markSucceeded(deps: StepDeps, state: SagaState): Promise<SagaState> {
  const amountCaptured = state.amount_captured;
  if (amountCaptured === undefined) throw new Error('MarkSucceeded needs amount_captured from Capture');
  const succeeded = { status: PaymentStatus.Succeeded, amountCaptured };
  const presumed = state.captured_version === undefined ? undefined : {
    payment: { paymentNo: state.payment_no, status: PaymentStatus.Authorized, version: state.captured_version },
    changes: succeeded,
  };
  return withPresumedPayment(deps, state.payment_no, presumed, (written) => withCart(state, written), async (payment) => {
    if (payment.status === PaymentStatus.Succeeded) return withCart(state, payment);
    if (payment.status !== PaymentStatus.Authorized) throw closed(payment);
    await deps.payments.replace(payment, touch(deps, payment, succeeded));
    return withCart(state, payment);
  });
}

/**
 * Compensation, first half: releases every authorization this payment may hold, the one on
 * record and the one in the execution's state (they differ when the payment was closed
 * before the charge id was stored). Voiding a voided charge is a no-op at the provider.
 */
export async function voidAuthorization(deps: SagaDeps, state: SagaState): Promise<SagaState> {
  const payment = unleased(deps, await load(deps, state.payment_no));
  const chargeIds = new Set([payment.chargeId, state.charge_id].filter((id) => id !== undefined));
  for (const chargeId of chargeIds) {
    // A captured charge cannot be voided: the provider refuses (ProviderRejected), the
    // execution fails and the payment is left to the reconciler and a person.
    await deps.provider.voidCharge({ chargeId, idempotencyKey: voidKey(payment.paymentNo, chargeId) });
  }
  return state;
}

/**
 * Compensation, second half: `pending | authorized -> failed` with the decline code, or
 * `authorized -> canceled` for a manual payment the merchant canceled. A payment another actor
 * already closed keeps its status.
 */
export async function markFailed(deps: StepDeps, state: SagaState): Promise<SagaState> {
  return withFreshPayment(deps, state.payment_no, async (payment) => {
    if (isTerminal(payment.status)) return withCart(state, payment);
    await deps.payments.replace(payment, touch(deps, payment, closingOf(payment, state.error?.Error)));
    return withCart(state, payment);
  });
}

/** How a payment whose authorization was voided closes: canceled if the merchant asked, else failed with why. */
function closingOf(payment: Payment, errorName: string | undefined): Pick<Payment, 'status' | 'declineCode' | 'cancellationReason'> {
  if (payment.captureDecision?.action === 'cancel' && errorName === undefined) {
    return { status: PaymentStatus.Canceled, cancellationReason: CancellationReason.Requested };
  }
  return { status: PaymentStatus.Failed, declineCode: payment.declineCode ?? declineCodeForErrorName(errorName) };
}

/** The state with the cart the payment pays, if it pays one: the saga's last step settles it. */
function withCart(state: SagaState, payment: Payment): SagaState {
  const cartId = payment.metadata?.[CART_METADATA_KEY];
  return cartId === undefined ? state : { ...state, cart_id: cartId };
}

function declineCodeForErrorName(name: string | undefined): string {
  return name !== undefined && name in declineCodeForTerminalError
    ? declineCodeForTerminalError[name as TerminalErrorName]
    : 'unknown';
}

/**
 * The next version of a payment: bumps the version and the timestamps, and moves the
 * reconciler's deadline while the payment is unfinished (a terminal payment leaves the
 * reconciler's index). A lease lasts until its holder's next write: only a write that
 * passes `lease` keeps (or takes) one. A call for attention lasts until the payment is next
 * written too: whoever moved it has looked at it.
 */
export function touch(
  deps: Pick<StepDeps, 'clock' | 'reconcileAfterSeconds'>,
  payment: Payment,
  changes: PaymentChanges,
): Payment {
  return applyPatch(payment, touchPatch(deps, payment, changes));
}

type PaymentChanges = Partial<Omit<Payment, 'paymentNo' | 'merchantId' | 'version' | 'createdAt'>>;

/** {@link touch} as the changes it makes to a payment known only by its status and version. */
export function touchPatch(
  deps: Pick<StepDeps, 'clock' | 'reconcileAfterSeconds'>,
  from: Pick<Payment, 'status' | 'version'>,
  changes: PaymentChanges,
): PaymentPatch {
  const now = deps.clock();
  const { lease, needsAttention, reconcileAt, ...rest } = changes;
  const lasting = {
    ...(lease !== undefined && { lease }),
    ...(needsAttention !== undefined && { needsAttention }),
    ...(!isTerminal(changes.status ?? from.status) && {
      reconcileAt: reconcileAt ?? new Date(now.getTime() + deps.reconcileAfterSeconds * 1000).toISOString(),
    }),
  };
  return {
    set: { ...rest, ...lasting, version: from.version + 1, updatedAt: now.toISOString() },
    remove: (['lease', 'needsAttention', 'reconcileAt'] as const).filter((field) => !(field in lasting)),
  };
}

async function load(deps: Pick<StepDeps, 'payments'>, paymentNo: string): Promise<Payment> {
  const payment = await deps.payments.get(paymentNo);
  if (!payment) throw new NotFoundError(`payment ${paymentNo} does not exist`);
  return payment;
}

const MAX_STALE_RETRIES = 3;

/**
 * Runs `decide` on the payment as stored; when its conditional write loses to another
 * actor, decides again on the record that actor left. Past a few rounds the contention is
 * reported as transient, for the state machine to retry with backoff.
 */
export async function withFreshPayment<T>(
  deps: Pick<StepDeps, 'payments' | 'clock'>,
  paymentNo: string,
  decide: (payment: Payment) => Promise<T>,
  /** The payment as a refused write just returned it: deciding on it needs no read. */
  asStored?: Payment,
): Promise<T> {
  let payment = asStored ?? (await load(deps, paymentNo));
  for (let attempt = 0; ; attempt++) {
    try {
      return await decide(unleased(deps, payment));
    } catch (error) {
      if (!(error instanceof StaleWriteError)) throw error;
      if (!error.current) throw new NotFoundError(`payment ${paymentNo} does not exist`, { cause: error });
      if (attempt >= MAX_STALE_RETRIES) {
        throw new ConcurrentModificationError(error.message, { cause: error });
      }
      payment = error.current;
    }
  }
}

/**
 * A step's write over the payment as an earlier step of the same execution read it
 * (`presumed`), without reading it again: the write's condition checks that it has not moved
 * on. The earlier step found no live lease on it, and a lease is only ever taken by a write,
 * which would have moved the version. When it did move on, or nothing is presumed, the step
 * decides on the payment as stored, as {@link withFreshPayment} does.
 */
async function withPresumedPayment<T>(
  deps: Pick<StepDeps, 'payments' | 'clock' | 'reconcileAfterSeconds'>,
  paymentNo: string,
  presumed: { readonly payment: Pick<Payment, 'paymentNo' | 'status' | 'version'>; readonly changes: PaymentChanges } | undefined,
  written: (payment: Payment) => T,
  decide: (payment: Payment) => Promise<T>,
): Promise<T> {
  if (presumed === undefined) return withFreshPayment(deps, paymentNo, decide);
  try {
    return written(await deps.payments.update(presumed.payment, touchPatch(deps, presumed.payment, presumed.changes)));
  } catch (error) {
    if (!(error instanceof StaleWriteError)) throw error;
    return withFreshPayment(deps, paymentNo, decide, error.current);
  }
}

/** A payment the reconciler is settling is left alone until it is done (or its lease lapses). */
function unleased(deps: Pick<StepDeps, 'clock'>, payment: Payment): Payment {
  if (isLeased(payment, deps.clock())) {
    throw new PaymentBusyError(`payment ${payment.paymentNo} is leased by ${payment.lease?.owner} until ${payment.lease?.expiresAt}`);
  }
  return payment;
}

function closed(payment: Payment): PaymentClosedError {
  return new PaymentClosedError(`payment ${payment.paymentNo} is ${payment.status}`);
}
