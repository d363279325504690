import { createHash } from 'node:crypto';
import { invalidParameter } from './api-error.ts';
import type { Params } from './form.ts';
import { type Ledger, type PaymentIntentRecord, type PayoutRecord, type RefundRecord, takesFromCharge } from './ledger.ts';
import type { ApiContext } from './payment-intents.ts';
import { expansions, optionalInteger, optionalString, rejectUnknown } from './params.ts';
import { renderPayout, renderPayoutBalanceTransaction } from './payouts.ts';
import { paginate, renderCharge, renderRefund } from './stripe-objects.ts';

/** Test mode makes card funds available two days after the charge, as Stripe's default US schedule. */
const AVAILABLE_AFTER_SECONDS = 2 * 86_400;

type BalanceTransactionRecord = {
  readonly id: string;
  readonly created: number;
  readonly amount: number;
  readonly currency: string;
} & (
  | { readonly type: 'charge' | 'refund'; readonly source: { readonly pi: PaymentIntentRecord; readonly refund?: RefundRecord } }
  | { readonly type: 'payout' | 'payout_failure' | 'payout_cancel'; readonly payout: PayoutRecord }
);

/** The same id for the same movement on every request: the fake keeps no balance transactions of its own, it derives them. */
const idOf = (what: string) => `txn_${createHash('sha256').update(what).digest('hex').slice(0, 24)}`;

/**
 * The account's balance transactions, derived from the ledger: one per capture (type `charge`,
 * its source the charge), one per refund that takes from its charge (type `refund`, negative,
 * its source the refund), one per payout (type `payout`, negative) and one more per payout that
 * failed or was canceled (`payout_failure` or `payout_cancel`, the amount back), dated when they
 * happened. The fake takes no fee of its own.
 */
function balanceTransactions(ledger: Ledger): BalanceTransactionRecord[] {
  const byId = new Map(ledger.paymentIntents.map((pi) => [pi.id, pi]));
  const charges = ledger.paymentIntents.flatMap((pi) =>
    pi.captures.map((capture, index) => ({
      id: idOf(`${pi.id}|capture|${index}`),
      type: 'charge' as const,
      created: capture.at,
      amount: capture.amount,
      currency: pi.currency,
      source: { pi },
    })),
  );
  const refunds = ledger.refunds.filter(takesFromCharge).flatMap((refund) => {
    const pi = byId.get(refund.paymentIntent);
    return pi === undefined
      ? []
      : [{ id: idOf(`${refund.id}|refund`), type: 'refund' as const, created: refund.created, amount: -refund.amount, currency: refund.currency, source: { pi, refund } }];
  });
  const payouts = ledger.payouts.flatMap((payout): BalanceTransactionRecord[] => {
    const made = { id: payout.balanceTransaction, type: 'payout' as const, created: payout.created, amount: -payout.amount, currency: payout.currency, payout };
    if (payout.failureBalanceTransaction === null) return [made];
    const type = payout.status === 'canceled' ? ('payout_cancel' as const) : ('payout_failure' as const);
    const ended = payout.endedAt ?? payout.arrivalDate;
    return [made, { id: payout.failureBalanceTransaction, type, created: ended, amount: payout.amount, currency: payout.currency, payout }];
  });
  return [...charges, ...refunds, ...payouts];
}

const RANGE_OPERATORS = ['gt', 'gte', 'lt', 'lte'] as const;

/** `created` as Stripe takes it: a timestamp, or a range `created[gte]=...&created[lt]=...`. */
function createdFilter(params: Params): (created: number) => boolean {
  const value = params['created'];
  if (value === undefined) return () => true;
  if (typeof value === 'string') {
    const exact = optionalInteger(params, 'created');
    return (created) => created === exact;
  }
  if (Array.isArray(value)) throw invalidParameter('Invalid created: must be an integer or a hash of ranges', { param: 'created' });
  const unknown = Object.keys(value).find((key) => !(RANGE_OPERATORS as readonly string[]).includes(key));
  if (unknown !== undefined) throw invalidParameter(`Received unknown parameter: created[${unknown}]`, { code: 'parameter_unknown', param: `created[${unknown}]` });
  const bound = (name: (typeof RANGE_OPERATORS)[number]) => optionalInteger(value, name);
  const [gt, gte, lt, lte] = RANGE_OPERATORS.map(bound);
  return (created) =>
    (gt === undefined || created > gt) && (gte === undefined || created >= gte) && (lt === undefined || created < lt) && (lte === undefined || created <= lte);
}

/** GET /v1/balance_transactions: newest first, by `created` range and `type`, `expand[]=data.source`. */
export function listBalanceTransactions(ctx: ApiContext, params: Params): unknown {
  rejectUnknown(params, ['created', 'type', 'limit', 'starting_after', 'ending_before', 'expand']);
  const expandSource = expansions(params, ['data.source']).has('data.source');
  const type = optionalString(params, 'type');
  const inRange = createdFilter(params);
  const newestFirst = balanceTransactions(ctx.ledger)
    .filter((t) => inRange(t.created) && (type === undefined || t.type === type))
    .sort((a, b) => b.created - a.created || b.id.localeCompare(a.id));
  return paginate(newestFirst, params, '/v1/balance_transactions', (t) => render(ctx.ledger, t, expandSource));
}

function render(ledger: Ledger, t: BalanceTransactionRecord, expandSource: boolean): Record<string, unknown> {
  if ('payout' in t) {
    const source = expandSource ? renderPayout(t.payout, new Set()) : t.payout.id;
    return {
      ...renderPayoutBalanceTransaction(t.payout),
      id: t.id,
      amount: t.amount,
      net: t.amount,
      created: t.created,
      available_on: t.created,
      // Stripe reports a payout given back under `payout_reversal`.
      reporting_category: t.type === 'payout' ? 'payout' : 'payout_reversal',
      source,
      type: t.type,
    };
  }
  const { pi, refund } = t.source;
  const charge = pi.charge;
  const sourceId = refund?.id ?? charge?.id ?? pi.id;
  const source = !expandSource ? sourceId : refund !== undefined ? renderRefund(refund) : charge === null ? sourceId : renderCharge(ledger, pi, charge);
  return {
    id: t.id,
    object: 'balance_transaction',
    amount: t.amount,
    available_on: t.type === 'charge' ? t.created + AVAILABLE_AFTER_SECONDS : t.created,
    balance_type: 'payments',
    created: t.created,
    currency: t.currency,
    description: refund !== undefined ? 'REFUND FOR PAYMENT' : pi.description,
    exchange_rate: null,
    fee: 0,
    fee_details: [],
    net: t.amount,
    reporting_category: t.type,
    source,
    status: t.type === 'charge' ? 'pending' : 'available',
    type: t.type,
  };
}
