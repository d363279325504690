import { StripeApiError, invalidParameter, invalidRequest, resourceMissing, type StripeErrorBody } from './api-error.ts';
import type { PendingRefundRule } from './faults.ts';
import { checkChargeable } from './charge-limits.ts';
import type { Params } from './form.ts';
import type { Ledger, PaymentIntentRecord, PaymentIntentStatus } from './ledger.ts';
import {
  expansions,
  metadata,
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalString,
  rejectUnknown,
  requiredInteger,
  requiredString,
} from './params.ts';
import { parseSearchQuery } from './search-query.ts';
import { newId, paginate, renderPaymentIntent, renderPaymentMethod } from './stripe-objects.ts';
import { findTestPaymentMethod, type TestPaymentMethod } from './test-cards.ts';
import { Lookup, Selection } from './tracked-state.ts';

export interface ApiContext {
  readonly ledger: Ledger;
  /** Seconds since the epoch. */
  now(): number;
  /** How long a new uncaptured authorization lasts. */
  authorizationWindowSeconds(): number;
  /** Whether a new refund of `paymentIntent` starts pending, and how it then settles. */
  takePendingRefund(paymentIntent: string): PendingRefundRule | undefined;
}

/** Stripe holds an uncaptured card authorization for 7 days, then cancels the PaymentIntent. */
export const AUTHORIZATION_WINDOW_SECONDS = 7 * 24 * 60 * 60;

const CANCELABLE: readonly PaymentIntentStatus[] = [
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
];

/** POST /v1/payment_intents */
export function createPaymentIntent(ctx: ApiContext, params: Params): unknown {
  rejectUnknown(params, [
    'amount', 'currency', 'payment_method', 'confirm', 'capture_method', 'metadata', 'description',
    'receipt_email', 'payment_method_types', 'allowed_payment_method_types', 'automatic_payment_methods',
    'return_url', 'off_session', 'expand', 'statement_descriptor', 'statement_descriptor_suffix',
  ]);
  const amount = requiredInteger(params, 'amount');
  const currency = requiredString(params, 'currency').toLowerCase();
  checkChargeable(amount, currency);
  const captureMethod = optionalEnum(params, 'capture_method', ['automatic', 'automatic_async', 'manual'] as const) ?? 'automatic_async';
  const confirm = optionalBoolean(params, 'confirm') ?? false;
  const paymentMethodId = optionalString(params, 'payment_method');
  const expand = expansions(params, ['latest_charge']);
  const meta = metadata(params);

  const testMethod = paymentMethodId === undefined ? undefined : findTestPaymentMethod(paymentMethodId);
  if (paymentMethodId !== undefined && testMethod === undefined) {
    throw resourceMissing('PaymentMethod', paymentMethodId, 'payment_method');
  }
  if (confirm) {
    if (testMethod === undefined) {
      throw invalidParameter(
        "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
        { code: 'payment_intent_unexpected_state', param: 'payment_method' },
      );
    }
    requireServerSideConfirmable(params);
  }

  const pi: PaymentIntentRecord = {
    id: newId('pi'),
    created: ctx.now(),
    amount,
    currency,
    status: testMethod === undefined ? 'requires_payment_method' : 'requires_confirmation',
    captureMethod,
    paymentMethod: paymentMethodId ?? null,
    metadata: meta,
    description: optionalString(params, 'description') ?? null,
    receiptEmail: optionalString(params, 'receipt_email') ?? null,
    charge: null,
    lastPaymentError: null,
    captures: [],
    cancellation: null,
  };
  ctx.ledger.paymentIntents.push(pi);
  if (confirm && testMethod !== undefined) confirmWith(ctx, pi, testMethod);
  return renderPaymentIntent(ctx.ledger, pi, { expandCharge: expand.has('latest_charge') });
}

/**
 * Stripe refuses a server-side confirmation that might need a redirect it has nowhere to
 * send: the PaymentIntent must be limited to cards, forbid redirects, or carry a return_url.
 */
function requireServerSideConfirmable(params: Params): void {
  const automatic = params['automatic_payment_methods'];
  const noRedirects = typeof automatic === 'object' && !Array.isArray(automatic) && automatic['allow_redirects'] === 'never';
  const limitedTypes = params['payment_method_types'] !== undefined || params['allowed_payment_method_types'] !== undefined;
  if (noRedirects || limitedTypes || params['return_url'] !== undefined) return;
  throw invalidParameter(
    'This PaymentIntent is configured to accept payment methods enabled in your Dashboard, which may require a return_url. Provide a return_url, or set automatic_payment_methods[allow_redirects]=never.',
    { param: 'return_url' },
  );
}

function confirmWith(ctx: ApiContext, pi: PaymentIntentRecord, method: TestPaymentMethod): void {
  const now = ctx.now();
  const outcome = method.outcome;
  if (outcome.kind === 'requires_action') {
    pi.status = 'requires_action';
    return;
  }
  const manual = pi.captureMethod === 'manual';
  if (outcome.kind === 'authorized') {
    pi.charge = {
      id: newId('ch'),
      created: now,
      status: 'succeeded',
      card: method.card,
      captureBefore: manual ? now + ctx.authorizationWindowSeconds() : null,
      failureCode: null,
      failureMessage: null,
    };
    if (manual) {
      pi.status = 'requires_capture';
    } else {
      pi.status = 'succeeded';
      pi.captures.push({ amount: pi.amount, at: now });
    }
    return;
  }
  const charge = {
    id: newId('ch'),
    created: now,
    status: 'failed' as const,
    card: method.card,
    captureBefore: null,
    failureCode: outcome.code,
    failureMessage: outcome.message,
  };
  const error: StripeErrorBody = {
    type: 'card_error',
    code: outcome.code,
    ...(outcome.declineCode === undefined ? {} : { decline_code: outcome.declineCode }),
    message: outcome.message,
    charge: charge.id,
    doc_url: `https://stripe.com/docs/error-codes/${outcome.code.replaceAll('_', '-')}`,
  };
  pi.charge = charge;
  pi.lastPaymentError = { ...error, payment_method: renderPaymentMethod(pi, charge) };
  // Stripe detaches a declined PaymentMethod so the customer can supply another.
  pi.paymentMethod = null;
  pi.status = 'requires_payment_method';
  throw new StripeApiError(402, {
    ...pi.lastPaymentError,
    payment_intent: renderPaymentIntent(ctx.ledger, pi, { expandCharge: false }),
  });
}

/** GET /v1/payment_intents/:id */
export function retrievePaymentIntent(ctx: ApiContext, id: string, params: Params): unknown {
  rejectUnknown(params, ['expand', 'client_secret']);
  const expand = expansions(params, ['latest_charge']);
  return renderPaymentIntent(ctx.ledger, find(ctx, id), { expandCharge: expand.has('latest_charge') });
}

/** POST /v1/payment_intents/:id/capture */
export function capturePaymentIntent(ctx: ApiContext, id: string, params: Params): unknown {
  rejectUnknown(params, ['amount_to_capture', 'expand', 'metadata', 'final_capture']);
  const expand = expansions(params, ['latest_charge']);
  const pi = find(ctx, id);
  if (pi.status !== 'requires_capture') {
    throw unexpectedState(
      ctx,
      pi,
      `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
    );
  }
  const amount = optionalInteger(params, 'amount_to_capture', { min: 1, max: pi.amount }) ?? pi.amount;
  pi.captures.push({ amount, at: ctx.now() });
  pi.status = 'succeeded';
  pi.metadata = { ...pi.metadata, ...metadata(params) };
  return renderPaymentIntent(ctx.ledger, pi, { expandCharge: expand.has('latest_charge') });
}

/** POST /v1/payment_intents/:id/cancel */
export function cancelPaymentIntent(ctx: ApiContext, id: string, params: Params): unknown {
  rejectUnknown(params, ['cancellation_reason', 'expand']);
  const expand = expansions(params, ['latest_charge']);
  const reason = optionalEnum(params, 'cancellation_reason', ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const);
  const pi = find(ctx, id);
  if (!CANCELABLE.includes(pi.status)) {
    throw unexpectedState(
      ctx,
      pi,
      `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`,
    );
  }
  pi.status = 'canceled';
  pi.cancellation = { at: ctx.now(), reason: reason ?? null };
  return renderPaymentIntent(ctx.ledger, pi, { expandCharge: expand.has('latest_charge') });
}

/** GET /v1/payment_intents */
export function listPaymentIntents(ctx: ApiContext, params: Params): unknown {
  rejectUnknown(params, ['limit', 'starting_after', 'ending_before', 'expand']);
  const expandCharge = expansions(params, ['data.latest_charge']).has('data.latest_charge');
  const newestFirst = [...ctx.ledger.paymentIntents].reverse();
  return paginate(newestFirst, params, '/v1/payment_intents', (pi) => renderPaymentIntent(ctx.ledger, pi, { expandCharge }));
}

/** GET /v1/payment_intents/search; `page` is the offset the previous page handed out. */
export function searchPaymentIntents(ctx: ApiContext, params: Params): unknown {
  rejectUnknown(params, ['query', 'limit', 'page', 'expand']);
  const expandCharge = expansions(params, ['data.latest_charge']).has('data.latest_charge');
  const matches = parseSearchQuery(requiredString(params, 'query'));
  const limit = optionalInteger(params, 'limit', { min: 1, max: 100 }) ?? 10;
  const page = optionalString(params, 'page');
  const offset = page === undefined ? 0 : Number.parseInt(page.replace(/^page_/, ''), 10);
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalidRequest(`Invalid page: ${page}`, { param: 'page' });
  const found = [...ctx.ledger.paymentIntents].reverse().filter(matches);
  const data = found.slice(offset, offset + limit);
  const hasMore = offset + limit < found.length;
  return {
    object: 'search_result',
    data: data.map((pi) => renderPaymentIntent(ctx.ledger, pi, { expandCharge })),
    has_more: hasMore,
    next_page: hasMore ? `page_${offset + limit}` : null,
    url: '/v1/payment_intents/search',
  };
}

/** Authorizations that lapse at a deadline: all a request has to look at for lapsed ones. */
const openAuthorizations = new Selection<PaymentIntentRecord>(
  (pi) => pi.status === 'requires_capture' && pi.charge?.captureBefore != null,
);

/**
 * Cancels every authorization whose capture window has closed, as Stripe does on its own
 * schedule. Run before each request, so no request sees a lapsed authorization as capturable.
 */
export function expireLapsedAuthorizations(ctx: ApiContext): void {
  const now = ctx.now();
  for (const pi of openAuthorizations.of(ctx.ledger.paymentIntents)) {
    const deadline = pi.charge?.captureBefore;
    if (deadline == null || deadline > now) continue;
    pi.status = 'canceled';
    pi.cancellation = { at: deadline, reason: 'automatic' };
  }
}

/** Test control: lets the authorization of `id` lapse now instead of in 7 days. */
export function expireAuthorization(ctx: ApiContext, id: string): unknown {
  const pi = find(ctx, id);
  if (pi.status !== 'requires_capture' || pi.charge === null) {
    throw invalidRequest(`PaymentIntent ${id} has no open authorization (status ${pi.status}).`);
  }
  pi.charge.captureBefore = ctx.now();
  expireLapsedAuthorizations(ctx);
  return renderPaymentIntent(ctx.ledger, pi, { expandCharge: true });
}

const byId = new Lookup<PaymentIntentRecord>((pi) => pi.id);
const byCharge = new Lookup<PaymentIntentRecord>((pi) => pi.charge?.id);

export function findPaymentIntent(ctx: ApiContext, id: string): PaymentIntentRecord | undefined {
  return byId.find(ctx.ledger.paymentIntents, id);
}

/** The PaymentIntent whose latest charge is `chargeId`. */
export function findPaymentIntentByCharge(ctx: ApiContext, chargeId: string): PaymentIntentRecord | undefined {
  return byCharge.find(ctx.ledger.paymentIntents, chargeId);
}

function find(ctx: ApiContext, id: string): PaymentIntentRecord {
  const pi = findPaymentIntent(ctx, id);
  if (pi === undefined) throw resourceMissing('payment_intent', id, 'intent');
  return pi;
}

function unexpectedState(ctx: ApiContext, pi: PaymentIntentRecord, message: string): StripeApiError {
  return invalidRequest(message, {
    code: 'payment_intent_unexpected_state',
    payment_intent: renderPaymentIntent(ctx.ledger, pi, { expandCharge: false }),
  });
}
