import { ErrorCode, NotFoundError } from './errors.ts';
import { payoutPaidPosting, payoutReversalPosting } from './ledger/postings.ts';
import { type Payout, type PayoutStore, PayoutStatus, isFinalPayout } from './payout.ts';
import type { Clock } from './ports.ts';
import { DEPLOYMENT_METADATA_KEY, type PaymentProvider, type ProviderPayout, mayHaveForgottenKey } from './provider.ts';

/**
 * The payout saga: SubmitPayout (the provider pays out, keyed by the payout_no, so a repeat
 * after a crash or a lost answer is answered from the provider's record); while the provider's
 * payout travels, CheckPayout looks again every {@link PAYOUT_CHECK_INTERVAL_SECONDS}, at most
 * {@link PAYOUT_CHECKS} times. `paid` goes to RecordPayoutPaid (`in_payout -> paid_out`);
 * `failed` or `canceled`, or the request refused, to MarkPayoutFailed, which gives the amount
 * back to `available`. A payout still travelling after the last look is left to the
 * reconciler (bank transfers take days), which asks the provider again later.
 */
export interface PayoutStepDeps {
  readonly payouts: PayoutStore;
  readonly clock: Clock;
  readonly reconcileAfterSeconds: number;
}

export interface PayoutSagaDeps extends PayoutStepDeps {
  readonly provider: PaymentProvider;
  readonly deployment: string;
}

/** How long the saga waits before each look at a payout the provider has not finished. */
export const PAYOUT_CHECK_INTERVAL_SECONDS = 30;

/** Looks before the execution leaves a travelling payout to the reconciler: three minutes. */
export const PAYOUT_CHECKS = 6;

const CLOCK_SKEW_MARGIN_MS = 3600 * 1000;

export interface PayoutSagaState {
  readonly payout_no: string;
  readonly provider_payout_id?: string;
  /** The provider payout's status as last seen: the state machine routes on it. */
  readonly outcome?: PayoutStatus;
  /** The provider's failure code of a failed payout. */
  readonly failure_code?: string;
  /** When the provider expects (or saw) the payout arrive, seconds since the epoch. */
  readonly arrival_date?: number;
  /** Looks left before the execution leaves a travelling payout to the reconciler. */
  readonly checks_left?: number;
  /** Set by a Catch: the terminal error that sent the execution to MarkPayoutFailed. */
  readonly error?: { readonly Error: string; readonly Cause?: string };
}

export async function submitPayout(deps: PayoutSagaDeps, state: PayoutSagaState): Promise<PayoutSagaState> {
  const payout = await load(deps, state.payout_no);
  // Another execution (or the reconciler) finished it: the final steps do nothing again.
  if (isFinalPayout(payout.status)) return { ...state, outcome: payout.status };
  const made = await payoutAtProvider(deps, payout);
  if (made !== undefined) return { ...state, ...seen(made), checks_left: PAYOUT_CHECKS };
  const paid = await deps.provider.createPayout({
    amount: payout.amount,
    currency: payout.currency,
    ...(payout.description !== undefined && { description: payout.description }),
    idempotencyKey: payout.payoutNo,
    metadata: { payout_no: payout.payoutNo, merchant_id: payout.merchantId, [DEPLOYMENT_METADATA_KEY]: deps.deployment },
  });
  return { ...state, ...seen(paid), checks_left: PAYOUT_CHECKS };
}

/**
 * The provider's payout already made for this payout, when asking again could make a second
 * one: the id an earlier execution wrote down, or, past the provider's memory of the key, the
 * payout whose metadata names the payout_no. Within the key's memory a repeat is answered
 * from the provider's record, so nothing is looked up.
 */
export async function payoutAtProvider(deps: Pick<PayoutSagaDeps, 'provider' | 'clock'>, payout: Payout): Promise<ProviderPayout | undefined> {
  if (payout.providerPayoutId !== undefined) return deps.provider.retrievePayout(payout.providerPayoutId);
  if (!mayHaveForgottenKey(deps.clock(), payout.createdAt)) return undefined;
  // A payout is made after its record: an hour before it covers any skew between the two clocks.
  const createdSince = new Date(Date.parse(payout.createdAt) - CLOCK_SKEW_MARGIN_MS);
  const [newest] = await deps.provider.findPayouts({ payoutNo: payout.payoutNo, createdSince });
  return newest;
}

/**
 * Looks at the provider's payout again. While it travels our payout carries its id, status and
 * arrival date, so the reconciler can finish it once this execution has ended.
 */
export async function checkPayout(deps: PayoutSagaDeps, state: PayoutSagaState): Promise<PayoutSagaState> {
  const id = state.provider_payout_id;
  if (id === undefined) throw new Error(`payout ${state.payout_no}: no provider payout to look at`);
  const made = await deps.provider.retrievePayout(id);
  const looked = { ...state, ...seen(made) };
  if (isFinalPayout(looked.outcome ?? PayoutStatus.Pending)) return looked;
  await follow(deps, await load(deps, state.payout_no), made);
  return { ...looked, checks_left: Math.max(0, (state.checks_left ?? 1) - 1) };
}

/** `-> paid` with `in_payout -> paid_out` in the same transaction. */
export async function recordPayoutPaid(deps: PayoutStepDeps, state: PayoutSagaState): Promise<PayoutSagaState> {
  const payout = await load(deps, state.payout_no);
  if (payout.status === PayoutStatus.Paid) return state;
  if (isFinalPayout(payout.status)) {
    // Given back already, yet the provider paid it: the money left twice over in our books. Never
    // written over silently; the execution fails for a person to look at.
    throw new Error(`payout ${payout.payoutNo} is ${payout.status}, but the provider paid ${state.provider_payout_id}`);
  }
  const paid = next(deps, payout, { status: PayoutStatus.Paid, ...providerFields(payout, state) });
  await deps.payouts.replace(payout, paid, payoutPaidPosting(payout, paid.updatedAt));
  return state;
}

/**
 * `-> failed` or `-> canceled`, the amount given back to `available` in the same transaction,
 * with the provider's failure code (or, when the provider refused the request, ours).
 */
export async function markPayoutFailed(deps: PayoutStepDeps, state: PayoutSagaState): Promise<PayoutSagaState> {
  const payout = await load(deps, state.payout_no);
  if (isFinalPayout(payout.status)) return state;
  const refused = state.error?.Error === 'ProviderRejected';
  const status = state.outcome === PayoutStatus.Canceled ? PayoutStatus.Canceled : PayoutStatus.Failed;
  const failureReason = state.failure_code ?? (refused ? ErrorCode.ProviderRejected : undefined);
  const failed = next(deps, payout, { status, ...(failureReason !== undefined && { failureReason }), ...providerFields(payout, state) });
  await deps.payouts.replace(payout, failed, payoutReversalPosting(payout, failed.updatedAt, status));
  return state;
}

/**
 * Brings our payout to what the provider's payout `made` says: paid, given back, or travelling
 * (its id, status and arrival date written). What the reconciler does with a payout it found.
 */
export async function followPayoutMade(deps: PayoutStepDeps, payout: Payout, made: ProviderPayout): Promise<PayoutStatus> {
  const state: PayoutSagaState = { payout_no: payout.payoutNo, ...seen(made) };
  if (made.status === 'paid') await recordPayoutPaid(deps, state);
  else if (made.status === 'failed' || made.status === 'canceled') await markPayoutFailed(deps, state);
  else await follow(deps, payout, made);
  return made.status;
}

/** A payout not final takes the provider's id, status and arrival date, when they changed. */
async function follow(deps: PayoutStepDeps, payout: Payout, made: ProviderPayout): Promise<void> {
  if (isFinalPayout(payout.status)) return;
  const arrivalDate = isoOf(made.arrivalDate);
  const status = made.status === 'in_transit' ? PayoutStatus.InTransit : PayoutStatus.Pending;
  if (payout.providerPayoutId === made.id && payout.status === status && payout.arrivalDate === arrivalDate) return;
  await deps.payouts.replace(payout, next(deps, payout, { providerPayoutId: made.id, status, arrivalDate }));
}

function seen(made: ProviderPayout): Pick<PayoutSagaState, 'provider_payout_id' | 'outcome' | 'failure_code' | 'arrival_date'> {
  return {
    provider_payout_id: made.id,
    outcome: made.status,
    arrival_date: made.arrivalDate,
    ...(made.failureCode !== undefined && { failure_code: made.failureCode }),
  };
}

/** The provider's id and arrival date as `state` carries them, or as the payout already holds them. */
function providerFields(payout: Payout, state: PayoutSagaState): Partial<Pick<Payout, 'providerPayoutId' | 'arrivalDate'>> {
  const providerPayoutId = state.provider_payout_id ?? payout.providerPayoutId;
  const arrivalDate = state.arrival_date === undefined ? payout.arrivalDate : isoOf(state.arrival_date);
  return { ...(providerPayoutId !== undefined && { providerPayoutId }), ...(arrivalDate !== undefined && { arrivalDate }) };
}

const isoOf = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

/** The payout's next version; a final payout leaves the reconciler's index, one not final is due again later. */
export function next(
  deps: Pick<PayoutStepDeps, 'clock' | 'reconcileAfterSeconds'>,
  payout: Payout,
  changes: Partial<Pick<Payout, 'status' | 'providerPayoutId' | 'arrivalDate' | 'failureReason' | 'resumeCount'>>,
): Payout {
  const now = deps.clock();
  const { reconcileAt: _moved, ...kept } = payout;
  const updated: Payout = { ...kept, ...changes, version: payout.version + 1, updatedAt: now.toISOString() };
  if (isFinalPayout(updated.status)) return updated;
  return { ...updated, reconcileAt: new Date(now.getTime() + deps.reconcileAfterSeconds * 1000).toISOString() };
}

async function load(deps: Pick<PayoutStepDeps, 'payouts'>, payoutNo: string): Promise<Payout> {
  const payout = await deps.payouts.get(payoutNo);
  if (!payout) throw new NotFoundError(`payout ${payoutNo} does not exist`);
  return payout;
}
