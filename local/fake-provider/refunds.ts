import { invalidParameter, invalidRequest, resourceMissing } from './api-error.ts';
import type { Params } from './form.ts';
import { amountRefunded, type RefundEnd, type RefundRecord } from './ledger.ts';
import { findPaymentIntent, findPaymentIntentByCharge, type ApiContext } from './payment-intents.ts';
import { metadata, optionalEnum, optionalInteger, optionalString, rejectUnknown } from './params.ts';
import { newId, paginate, renderRefund } from './stripe-objects.ts';
import { Lookup, Selection } from './tracked-state.ts';

/**
 * POST /v1/refunds, by `payment_intent` or `charge`. Refunds succeed at once, as card refunds
 * in test mode do, unless a `pendingRefunds` switch holds them `pending` (see
 * {@link settleRefund}). A pending refund counts against the charge until it fails.
 */
export function createRefund(ctx: ApiContext, params: Params): unknown {
  rejectUnknown(params, ['payment_intent', 'charge', 'amount', 'metadata', 'reason', 'expand']);
  const paymentIntentId = optionalString(params, 'payment_intent');
  const chargeId = optionalString(params, 'charge');
  if ((paymentIntentId === undefined) === (chargeId === undefined)) {
    throw invalidParameter('Provide exactly one of payment_intent or charge.', { param: 'payment_intent' });
  }
  const pi =
    paymentIntentId !== undefined
      ? findPaymentIntent(ctx, paymentIntentId)
      : findPaymentIntentByCharge(ctx, chargeId ?? '');
  if (pi === undefined) {
    throw paymentIntentId !== undefined
      ? resourceMissing('payment_intent', paymentIntentId, 'payment_intent')
      : resourceMissing('charge', chargeId ?? '', 'charge');
  }
  const charge = pi.charge;
  const captured = pi.captures.reduce((sum, capture) => sum + capture.amount, 0);
  if (pi.status !== 'succeeded' || charge === null || captured === 0) {
    throw invalidRequest(
      `This PaymentIntent (${pi.id}) does not have a successful charge to refund (status ${pi.status}).`,
      { code: 'charge_not_refundable', param: paymentIntentId === undefined ? 'charge' : 'payment_intent' },
    );
  }
  const refunded = amountRefunded(ctx.ledger.refunds, charge.id);
  const remaining = captured - refunded;
  if (remaining === 0) {
    throw invalidRequest(`Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded' });
  }
  const amount = optionalInteger(params, 'amount', { min: 1 }) ?? remaining;
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`,
      { code: 'amount_too_large', param: 'amount' },
    );
  }
  const held = ctx.takePendingRefund(pi.id);
  const settle = held?.settle;
  const refund: RefundRecord = {
    id: newId('re'),
    created: ctx.now(),
    paymentIntent: pi.id,
    charge: charge.id,
    amount,
    currency: pi.currency,
    status: held === undefined ? 'succeeded' : 'pending',
    reason: optionalEnum(params, 'reason', ['duplicate', 'fraudulent', 'requested_by_customer'] as const) ?? null,
    metadata: metadata(params),
    failureReason: null,
    settlement:
      settle === undefined
        ? null
        : { at: ctx.now() + settle.afterSeconds, status: settle.status, failureReason: settle.failureReason ?? null },
  };
  ctx.ledger.refunds.push(refund);
  return renderRefund(refund);
}

/**
 * Test control: ends the pending refund `id` as `status`. A failed one carries a
 * `failure_reason` (`unknown` unless told), as Stripe's do; a canceled one only if told; a
 * succeeded one never.
 */
export function settleRefund(ctx: ApiContext, id: string, status: RefundEnd, failureReason?: string): unknown {
  const refund = find(ctx, id);
  if (refund.status !== 'pending') throw invalidRequest(`Refund ${id} is ${refund.status}, not pending.`);
  end(refund, status, failureReason ?? null);
  return renderRefund(refund);
}

/** Pending refunds that settle by themselves: all a request has to look at for due ones. */
const settling = new Selection<RefundRecord>((refund) => refund.status === 'pending' && refund.settlement != null);

/** Settles the pending refunds whose time came. */
export function settleDueRefunds(ctx: ApiContext): void {
  const now = ctx.now();
  for (const refund of settling.of(ctx.ledger.refunds)) {
    const settlement = refund.settlement;
    if (settlement == null || settlement.at > now) continue;
    end(refund, settlement.status, settlement.failureReason);
  }
}

function end(refund: RefundRecord, status: RefundEnd, failureReason: string | null): void {
  refund.status = status;
  refund.failureReason = status === 'succeeded' ? null : status === 'failed' ? (failureReason ?? 'unknown') : failureReason;
  refund.settlement = null;
}

/** GET /v1/refunds/:id */
export function retrieveRefund(ctx: ApiContext, id: string, params: Params): unknown {
  rejectUnknown(params, ['expand']);
  return renderRefund(find(ctx, id));
}

const byId = new Lookup<RefundRecord>((refund) => refund.id);

function find(ctx: ApiContext, id: string): RefundRecord {
  const refund = byId.find(ctx.ledger.refunds, id);
  if (refund === undefined) throw resourceMissing('refund', id);
  return refund;
}

/** GET /v1/refunds, optionally only those of one `payment_intent` or `charge`. */
export function listRefunds(ctx: ApiContext, params: Params): unknown {
  rejectUnknown(params, ['payment_intent', 'charge', 'limit', 'starting_after', 'ending_before', 'expand']);
  const paymentIntent = optionalString(params, 'payment_intent');
  const charge = optionalString(params, 'charge');
  const newestFirst = [...ctx.ledger.refunds]
    .reverse()
    .filter((refund) => (paymentIntent === undefined || refund.paymentIntent === paymentIntent)
      && (charge === undefined || refund.charge === charge));
  return paginate(newestFirst, params, '/v1/refunds', renderRefund);
}
