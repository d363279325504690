import { createHash } from 'node:crypto';
import { ConcurrentModificationError, IdempotencyKeyMismatchError, InsufficientFundsError } from './errors.ts';
import { balanceTransactionId } from './ledger/balance-transaction.ts';
import { type Posting, payoutPosting } from './ledger/postings.ts';
import { type Currency, formatMoney } from './money.ts';
import type { ChargeWorkflow, Clock } from './ports.ts';
import { tryStartSaga } from './saga-start.ts';

/**
 * A payout's life, as Stripe's: `pending` (written with its amount moved from `available` to
 * `in_payout`, and while the provider holds it pending) -> `in_transit` (the provider sent it)
 * -> `paid`; or `failed` / `canceled`, which gives the amount back to `available`.
 */
export const PayoutStatus = {
  Pending: 'pending',
  InTransit: 'in_transit',
  Paid: 'paid',
  Failed: 'failed',
  Canceled: 'canceled',
} as const;
export type PayoutStatus = (typeof PayoutStatus)[keyof typeof PayoutStatus];

/** Whether a payout is over: its money either reached the merchant's bank or came back. */
export function isFinalPayout(status: PayoutStatus): boolean {
  return status === PayoutStatus.Paid || status === PayoutStatus.Failed || status === PayoutStatus.Canceled;
}

export interface PayoutRequest {
  readonly amount: number;
  readonly currency: Currency;
  readonly description?: string;
}

export interface Payout extends PayoutRequest {
  readonly payoutNo: string;
  readonly merchantId: string;
  readonly status: PayoutStatus;
  /** Incremented by every change; each change is written on the condition that it is still the one read. */
  readonly version: number;
  /** The balance transaction its making added (`payout:<payout_no>`). */
  readonly balanceTransactionId: string;
  /** The provider's payout, once it made one. */
  readonly providerPayoutId?: string;
  /** When the provider expects the money in the bank (ISO time), once it said. */
  readonly arrivalDate?: string;
  /** The provider's failure code of a failed payout. */
  readonly failureReason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When the reconciler should look at this payout if it is not final yet. */
  readonly reconcileAt?: string;
  readonly resumeCount: number;
}

/** The payout_no is derived from the request's key, so one key can only ever make one payout. */
export function payoutNoFor(merchantId: string, key: string): string {
  const digest = createHash('sha256').update(`${merchantId}\u0000payout\u0000${key}`).digest('hex');
  return `po_${digest.slice(0, 24)}`;
}

const PAYOUT_NO = /^po_[0-9a-f]{24}$/;

export function isPayoutNo(value: string): boolean {
  return PAYOUT_NO.test(value);
}

/**
 * Where payouts live, beside the merchant's ledger: every write of a payout is conditional on
 * the version read, and the ones that move money carry their posting in the same transaction.
 */
export interface PayoutStore {
  get(payoutNo: string): Promise<Payout | undefined>;
  /**
   * In one transaction: the payout (unless its payout_no exists) and its posting, on the
   * condition that the merchant's `available` covers the amount.
   */
  create(payout: Payout, posting: Posting): Promise<PayoutCreation>;
  /**
   * Replaces `current` with `next` if the stored payout is still `current`, with `posting`
   * (the payout paid or given back) in the same transaction when given; otherwise
   * {@link ConcurrentModificationError}, for the caller to decide again on a fresh read.
   */
  replace(current: Payout, next: Payout, posting?: Posting): Promise<Payout>;
  /** A merchant's payouts, newest first, after `startingAfter` (one of its own). */
  list(merchantId: string, page: { limit: number; startingAfter?: Payout }): Promise<{ data: Payout[]; hasMore: boolean }>;
  /** Payouts not final whose `reconcileAt` has passed, oldest first, at most `limit`. */
  listDue(now: Date, limit: number): Promise<Payout[]>;
}

export type PayoutCreation =
  | { readonly outcome: 'created' }
  /** A payout with this payout_no exists: this request repeats it. */
  | { readonly outcome: 'exists'; readonly payout: Payout }
  /** `available` is short of the amount (or the merchant never held this currency). */
  | { readonly outcome: 'insufficient_funds' };

export interface CreatePayoutDeps {
  readonly payouts: PayoutStore;
  readonly workflow: ChargeWorkflow;
  readonly clock: Clock;
  readonly reconcileAfterSeconds: number;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface CreatePayoutResult {
  readonly payout: Payout;
  /** False when this key's payout already existed: a replay. */
  readonly created: boolean;
}

/**
 * Transactions on one merchant's balance that meet one another in flight are cancelled by
 * DynamoDB, not queued: a burst of payouts tries again after a short, growing, jittered pause.
 */
const CONFLICT_ATTEMPTS = 8;
const CONFLICT_PAUSE_MS = 20;

/**
 * Makes a payout of the merchant's available funds: the payout, its amount moved from
 * `available` to `in_payout` and its balance transaction, in one conditional transaction, so
 * concurrent payouts can never together take more than `available` holds; then starts the
 * payout saga (if Step Functions cannot be reached, the reconciler starts it: the payout is due).
 */
export async function createPayout(deps: CreatePayoutDeps, merchantId: string, key: string, request: PayoutRequest): Promise<CreatePayoutResult> {
  const now = deps.clock().toISOString();
  const payoutNo = payoutNoFor(merchantId, key);
  const payout: Payout = {
    ...request,
    payoutNo,
    merchantId,
    status: PayoutStatus.Pending,
    version: 1,
    balanceTransactionId: balanceTransactionId(now, `payout:${payoutNo}`),
    createdAt: now,
    updatedAt: now,
    reconcileAt: new Date(Date.parse(now) + deps.reconcileAfterSeconds * 1000).toISOString(),
    resumeCount: 0,
  };
  const posting = payoutPosting(payout);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const creation = await deps.payouts.create(payout, posting);
      if (creation.outcome === 'exists') return { payout: sameRequestOrRefuse(creation.payout, request), created: false };
      if (creation.outcome === 'insufficient_funds') {
        throw new InsufficientFundsError(`the available balance does not cover a payout of ${formatMoney(request)}`);
      }
      await tryStartSaga(deps.workflow, payoutNo);
      return { payout, created: true };
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || attempt >= CONFLICT_ATTEMPTS) throw error;
      await deps.sleep(CONFLICT_PAUSE_MS * attempt * (0.5 + Math.random()));
    }
  }
}

const comparedPayoutFields = [
  ['amount', 'amount'],
  ['currency', 'currency'],
  ['description', 'description'],
] as const;

function sameRequestOrRefuse(payout: Payout, request: PayoutRequest): Payout {
  const differing = comparedPayoutFields.find(([field]) => payout[field] !== request[field]);
  if (differing !== undefined) {
    throw new IdempotencyKeyMismatchError(differing[1], `this payout's key was used with another ${differing[1]}`);
  }
  return payout;
}
