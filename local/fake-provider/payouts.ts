import { invalidRequest, resourceMissing } from './api-error.ts';
import type { Params } from './form.ts';
import type { PayoutEnd, PayoutRecord } from './ledger.ts';
import type { ApiContext } from './payment-intents.ts';
import { expansions, metadata, optionalString, rejectUnknown, requiredInteger, requiredString } from './params.ts';
import { newId, paginate } from './stripe-objects.ts';
import { Lookup, Selection } from './tracked-state.ts';

/**
 * How a payout travels as (fake) time passes, in whole seconds after it was made: sent to the
 * bank (`in_transit`), then `paid` on its arrival date. Stripe takes days; a test, seconds.
 */
export const PAYOUT_IN_TRANSIT_AFTER_SECONDS = 1;
export const PAYOUT_ARRIVES_AFTER_SECONDS = 2;

/**
 * Descriptions that script a payout, as test card numbers script a charge: one that fails on
 * arrival (`account_closed`, as Stripe's test bank account 000111111116 does), one the bank
 * cancels before sending, and one held `pending` until the test settles it.
 */
export const PAYOUT_SCRIPTS = {
  fails: 'fake:payout_fails',
  canceled: 'fake:payout_canceled',
  held: 'fake:payout_held',
} as const;

/** The failure code of a scripted failure, when the test names none. */
const DEFAULT_FAILURE_CODE = 'account_closed';

/**
 * POST /v1/payouts: a payout of the platform's balance to its bank account, `pending` at first.
 * The idempotency key (the caller's payout_no) makes a repeat the same payout, as for every POST.
 */
export function createPayout(ctx: ApiContext, params: Params): unknown {
  rejectUnknown(params, ['amount', 'currency', 'description', 'metadata', 'expand']);
  const amount = requiredInteger(params, 'amount', { min: 1 });
  const currency = requiredString(params, 'currency').toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalidRequest(`Invalid currency: ${currency}.`, { param: 'currency' });
  const description = optionalString(params, 'description') ?? null;
  const created = ctx.now();
  const payout: PayoutRecord = {
    id: newId('po'),
    created,
    amount,
    currency,
    description,
    metadata: metadata(params),
    status: 'pending',
    arrivalDate: created + PAYOUT_ARRIVES_AFTER_SECONDS,
    balanceTransaction: newId('txn'),
    failureCode: null,
    failureBalanceTransaction: null,
    travels: description !== PAYOUT_SCRIPTS.held,
  };
  ctx.ledger.payouts.push(payout);
  return renderPayout(payout, expansions(params, ['balance_transaction']));
}

/** GET /v1/payouts/:id */
export function retrievePayout(ctx: ApiContext, id: string, params: Params): unknown {
  rejectUnknown(params, ['expand']);
  return renderPayout(find(ctx, id), expansions(params, ['balance_transaction']));
}

/** GET /v1/payouts, newest first; `created[gte]` (seconds) leaves out older ones. */
export function listPayouts(ctx: ApiContext, params: Params): unknown {
  rejectUnknown(params, ['limit', 'starting_after', 'ending_before', 'created', 'expand']);
  const created = params['created'];
  const since = typeof created === 'object' && !Array.isArray(created) && typeof created['gte'] === 'string' ? Number(created['gte']) : 0;
  if (created !== undefined && !(Number.isSafeInteger(since) && since > 0)) {
    throw invalidRequest('Invalid created: only created[gte] with a timestamp is supported.', { param: 'created' });
  }
  const newestFirst = ctx.ledger.payouts.filter((payout) => payout.created >= since).reverse();
  return paginate(newestFirst, params, '/v1/payouts', (payout) => renderPayout(payout, new Set()));
}

/**
 * Test control: ends the payout `id` now, as the bank would: `paid`, `failed` (with Stripe's
 * `failure_code`, `account_closed` unless told) or `canceled`. Only a payout not final yet.
 */
export function settlePayout(ctx: ApiContext, id: string, status: PayoutEnd, failureCode?: string): unknown {
  const payout = find(ctx, id);
  if (payout.status === 'paid' || payout.status === 'failed' || payout.status === 'canceled') {
    throw invalidRequest(`Payout ${id} is ${payout.status} already.`);
  }
  end(ctx, payout, status, failureCode);
  return renderPayout(payout, new Set());
}

/** Payouts that travel by themselves and are not final: all a request has to look at for due ones. */
const travelling = new Selection<PayoutRecord>((payout) => payout.travels && (payout.status === 'pending' || payout.status === 'in_transit'));

/** Moves payouts on whose time came: sent, then paid (or ended as their script says). */
export function advanceDuePayouts(ctx: ApiContext): void {
  const now = ctx.now();
  for (const payout of travelling.of(ctx.ledger.payouts)) {
    if (payout.description === PAYOUT_SCRIPTS.canceled) {
      if (now >= payout.created + PAYOUT_IN_TRANSIT_AFTER_SECONDS) end(ctx, payout, 'canceled');
    } else if (now >= payout.arrivalDate) {
      end(ctx, payout, payout.description === PAYOUT_SCRIPTS.fails ? 'failed' : 'paid');
    } else if (now >= payout.created + PAYOUT_IN_TRANSIT_AFTER_SECONDS) {
      payout.status = 'in_transit';
    }
  }
}

function end(ctx: ApiContext, payout: PayoutRecord, status: PayoutEnd, failureCode?: string): void {
  payout.status = status;
  payout.travels = false;
  if (status === 'paid') return;
  // A failed or canceled payout's amount comes back to the balance: a balance transaction of its own.
  payout.failureBalanceTransaction = newId('txn');
  payout.endedAt = ctx.now();
  payout.failureCode = status === 'failed' ? (failureCode ?? DEFAULT_FAILURE_CODE) : (failureCode ?? null);
  if (status === 'canceled') payout.arrivalDate = ctx.now();
}

const byId = new Lookup<PayoutRecord>((payout) => payout.id);

function find(ctx: ApiContext, id: string): PayoutRecord {
  const payout = byId.find(ctx.ledger.payouts, id);
  if (payout === undefined) throw resourceMissing('payout', id);
  return payout;
}

/** Stripe's payout; its `balance_transaction` expanded on request. */
export function renderPayout(payout: PayoutRecord, expand: ReadonlySet<string>): Record<string, unknown> {
  return {
    id: payout.id,
    object: 'payout',
    amount: payout.amount,
    application_fee: null,
    application_fee_amount: null,
    arrival_date: payout.arrivalDate,
    automatic: false,
    balance_transaction: expand.has('balance_transaction') ? renderPayoutBalanceTransaction(payout) : payout.balanceTransaction,
    created: payout.created,
    currency: payout.currency,
    description: payout.description,
    destination: 'ba_fake_platform',
    failure_balance_transaction: payout.failureBalanceTransaction,
    failure_code: payout.failureCode,
    failure_message: payout.failureCode === null ? null : `The payout ${payout.status === 'canceled' ? 'was canceled' : 'failed'}: ${payout.failureCode}.`,
    livemode: false,
    metadata: payout.metadata,
    method: 'standard',
    original_payout: null,
    reconciliation_status: payout.status === 'paid' ? 'completed' : 'not_applicable',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: null,
    status: payout.status,
    type: 'bank_account',
  };
}

/** Stripe's balance transaction of a payout: the amount leaving the balance. */
export function renderPayoutBalanceTransaction(payout: PayoutRecord): Record<string, unknown> {
  return {
    id: payout.balanceTransaction,
    object: 'balance_transaction',
    amount: -payout.amount,
    available_on: payout.created,
    created: payout.created,
    currency: payout.currency,
    description: payout.description,
    exchange_rate: null,
    fee: 0,
    fee_details: [],
    net: -payout.amount,
    reporting_category: 'payout',
    source: payout.id,
    status: 'available',
    type: 'payout',
    balance_type: 'payments',
  };
}
