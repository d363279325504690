import { randomBytes } from 'node:crypto';
import { invalidRequest } from './api-error.ts';
import { amountRefunded, type ChargeRecord, type Ledger, type PaymentIntentRecord, type RefundRecord } from './ledger.ts';
import { optionalInteger, optionalString } from './params.ts';
import type { Params } from './form.ts';

/**
 * Ledger records rendered as the JSON objects Stripe returns, in Stripe's shapes
 * (test/unit/local/fake-provider/shapes.test.ts holds them to Stripe's own examples): a
 * nullable field the fake has no notion of is null; a field Stripe sends only in some states
 * (a refund's `failure_reason`) is absent otherwise, as Stripe leaves it.
 */
export function newId(prefix: 'pi' | 'ch' | 're' | 'po' | 'txn' | 'req'): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

export function renderPaymentIntent(
  ledger: Ledger,
  pi: PaymentIntentRecord,
  { expandCharge }: { expandCharge: boolean },
): Record<string, unknown> {
  const received = pi.captures.reduce((sum, capture) => sum + capture.amount, 0);
  return {
    id: pi.id,
    object: 'payment_intent',
    amount: pi.amount,
    amount_capturable: pi.status === 'requires_capture' ? pi.amount : 0,
    amount_received: received,
    allowed_payment_method_types: ['card'],
    canceled_at: pi.cancellation?.at ?? null,
    cancellation_reason: pi.cancellation?.reason ?? null,
    capture_method: pi.captureMethod,
    client_secret: `${pi.id}_secret_fake`,
    confirmation_method: 'automatic',
    created: pi.created,
    currency: pi.currency,
    customer: null,
    description: pi.description,
    last_payment_error: pi.lastPaymentError,
    latest_charge:
      pi.charge === null ? null : expandCharge ? renderCharge(ledger, pi, pi.charge) : pi.charge.id,
    livemode: false,
    metadata: pi.metadata,
    next_action:
      pi.status === 'requires_action'
        ? { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: 'https://hooks.stripe.com/fake/3ds' } }
        : null,
    payment_method: pi.paymentMethod,
    payment_method_types: ['card'],
    receipt_email: pi.receiptEmail,
    status: pi.status,
  };
}

export function renderCharge(ledger: Ledger, pi: PaymentIntentRecord, charge: ChargeRecord): Record<string, unknown> {
  const captured = pi.captures.reduce((sum, capture) => sum + capture.amount, 0);
  const refunded = amountRefunded(ledger.refunds, charge.id);
  return {
    id: charge.id,
    object: 'charge',
    amount: pi.amount,
    amount_captured: captured,
    amount_refunded: refunded,
    captured: captured > 0,
    created: charge.created,
    currency: pi.currency,
    description: pi.description,
    failure_code: charge.failureCode,
    failure_message: charge.failureMessage,
    livemode: false,
    metadata: pi.metadata,
    outcome: {
      type: charge.status === 'succeeded' ? 'authorized' : 'issuer_declined',
      network_status: charge.status === 'succeeded' ? 'approved_by_network' : 'declined_by_network',
    },
    paid: charge.status === 'succeeded',
    payment_intent: pi.id,
    payment_method: pi.paymentMethod,
    payment_method_details: {
      type: 'card',
      card: {
        brand: charge.card.brand,
        last4: charge.card.last4,
        funding: charge.card.funding,
        exp_month: 12,
        exp_year: new Date(charge.created * 1000).getUTCFullYear() + 3,
        ...(charge.captureBefore === null ? {} : { capture_before: charge.captureBefore }),
      },
    },
    receipt_email: pi.receiptEmail,
    refunded: captured > 0 && refunded >= captured,
    status: charge.status,
  };
}

export function renderRefund(refund: RefundRecord): Record<string, unknown> {
  return {
    id: refund.id,
    object: 'refund',
    amount: refund.amount,
    charge: refund.charge,
    created: refund.created,
    currency: refund.currency,
    // Stripe sends failure_reason only once a refund failed.
    ...(refund.failureReason == null ? {} : { failure_reason: refund.failureReason }),
    metadata: refund.metadata,
    payment_intent: refund.paymentIntent,
    reason: refund.reason,
    status: refund.status,
  };
}

export function renderPaymentMethod(pi: PaymentIntentRecord, charge: ChargeRecord): Record<string, unknown> {
  return {
    id: pi.paymentMethod,
    object: 'payment_method',
    type: 'card',
    card: { brand: charge.card.brand, last4: charge.card.last4, funding: charge.card.funding },
    livemode: false,
  };
}

/**
 * Stripe's cursor pagination over a newest-first list: `limit` (1..100, default 10),
 * `starting_after` / `ending_before` naming an object of the list.
 */
export function paginate<T extends { id: string }>(
  newestFirst: T[],
  params: Params,
  url: string,
  render: (item: T) => unknown,
): Record<string, unknown> {
  const limit = optionalInteger(params, 'limit', { min: 1, max: 100 }) ?? 10;
  const startingAfter = optionalString(params, 'starting_after');
  const endingBefore = optionalString(params, 'ending_before');
  let page: T[];
  let hasMore: boolean;
  if (endingBefore !== undefined) {
    const end = indexOf(newestFirst, endingBefore, 'ending_before');
    page = newestFirst.slice(Math.max(0, end - limit), end);
    hasMore = end - limit > 0;
  } else {
    const start = startingAfter === undefined ? 0 : indexOf(newestFirst, startingAfter, 'starting_after') + 1;
    page = newestFirst.slice(start, start + limit);
    hasMore = start + limit < newestFirst.length;
  }
  return { object: 'list', data: page.map(render), has_more: hasMore, url };
}

function indexOf<T extends { id: string }>(items: T[], id: string, param: string): number {
  const index = items.findIndex((item) => item.id === id);
  if (index === -1) throw invalidRequest(`No such object: '${id}'`, { code: 'resource_missing', param });
  return index;
}
