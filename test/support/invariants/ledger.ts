import { type CallRecord, type Ledger, type PaymentIntentRecord, type RefundRecord, takesFromCharge } from '../../../local/fake-provider/ledger.ts';

/**
 * What the money promises are checked against: what the database holds of payments and refunds,
 * and what the provider holds (the fake provider's ledger, which the simulation's Stripe keeps
 * too). Plain data, in the fields both can read: a simulated world gives its records, a running
 * stack its API's views (`GET /v1/payments/{no}` with its refunds) and `GET /_fake/ledger`.
 */
export interface LedgerState {
  readonly payments: readonly RecordedPayment[];
  readonly refunds: readonly RecordedRefund[];
  readonly provider: Ledger;
}

export interface RecordedPayment {
  readonly paymentNo: string;
  readonly status: string;
  readonly amount: number;
  readonly amountCaptured: number;
  readonly amountRefunded: number;
  /** The reconciler left it to a person (`needs_attention`). */
  readonly needsAttention?: unknown;
  /** `manual`: it may wait at authorized for the merchant's capture or cancel. */
  readonly captureMethod?: string;
  /** A manual payment the merchant has not captured or canceled yet (the API's `awaiting_capture`). */
  readonly awaitingCapture?: boolean;
  /** What the merchant asked to capture of a manual payment, as the API shows it; absent, the whole amount. */
  readonly amountToCapture?: number;
  /** The merchant's word on a manual payment, as the store holds it (the simulation's records). */
  readonly captureDecision?: { readonly action: string; readonly amount?: number };
}

/** What a payment should capture: what its merchant asked for, or all of it. */
function askedToCapture(p: RecordedPayment): number {
  return p.amountToCapture ?? (p.captureDecision?.action === 'capture' ? p.captureDecision.amount : undefined) ?? p.amount;
}

/** A manual payment the merchant has not captured or canceled yet: its authorization stays open by design. */
function awaitsCapture(p: RecordedPayment): boolean {
  return p.captureMethod === 'manual' && p.status === 'authorized' && p.awaitingCapture !== false && p.captureDecision === undefined;
}

export interface RecordedRefund {
  readonly refundNo: string;
  readonly paymentNo: string;
  readonly amount: number;
  readonly status: string;
  /** The provider's refund, where the record says (the database does; the API does not). */
  readonly providerRefundId?: string;
}

/**
 * A promise about the system. `always` ones hold at every instant, whatever is in flight;
 * `settled` ones once nothing is running and the reconciler has nothing left to do.
 */
export interface Invariant<S> {
  readonly name: string;
  readonly when: 'always' | 'settled';
  /** What breaks it, one line each; empty when it holds. */
  check(state: S): string[];
}

/** The invariants of `state` that apply `when`, as `name: detail` lines. */
export function violations<S>(invariants: readonly Invariant<S>[], state: S, when: Invariant<S>['when']): string[] {
  return invariants
    .filter((invariant) => when === 'settled' || invariant.when === 'always')
    .flatMap((invariant) => invariant.check(state).map((detail) => `${invariant.name}: ${detail}`));
}

/**
 * The provider's ledger as far as it concerns `paymentNos`: their PaymentIntents, the refunds
 * of those and the calls on them. What a check of some payments among many reads.
 */
export function ledgerOf(provider: Ledger, paymentNos: readonly string[]): Ledger {
  const intents = provider.paymentIntents.filter((pi) => paymentNos.includes(paymentNoOf(pi)));
  const ids = new Set(intents.map((pi) => pi.id));
  return {
    paymentIntents: intents,
    refunds: provider.refunds.filter((refund) => ids.has(refund.paymentIntent)),
    // A payout belongs to no payment.
    payouts: [],
    calls: provider.calls.filter((call) => call.paymentIntent !== null && ids.has(call.paymentIntent)),
  };
}

/** A payment charges once: never twice, never without a record, never left authorized, each call under its key. */
export const chargeInvariants: readonly Invariant<LedgerState>[] = [
  {
    name: 'a payment is captured at most once',
    when: 'always',
    check: ({ provider }) =>
      [...groupBy(provider.paymentIntents, paymentNoOf)]
        .filter(([, intents]) => intents.flatMap((pi) => pi.captures).length > 1)
        .map(([paymentNo, intents]) => `${paymentNo} captured ${intents.flatMap((pi) => pi.captures).length} times`),
  },
  {
    name: 'a succeeded payment was captured as recorded',
    when: 'always',
    check: ({ payments, provider }) =>
      payments
        .filter((p) => p.status === 'succeeded')
        .flatMap((p) => {
          const captured = sum(intentsOf(provider, p.paymentNo).flatMap((pi) => pi.captures));
          const asked = askedToCapture(p);
          return captured === p.amountCaptured && p.amountCaptured === asked
            ? []
            : [`${p.paymentNo} succeeded with ${p.amountCaptured} of ${asked} asked for; the provider captured ${captured}`];
        }),
  },
  {
    name: 'one capture per succeeded payment, none for any other',
    when: 'settled',
    check: ({ payments, provider }) =>
      payments.flatMap((p) => {
        const captures = intentsOf(provider, p.paymentNo).flatMap((pi) => pi.captures);
        const expected = p.status === 'succeeded' ? [p.amountCaptured] : [];
        return JSON.stringify(captures.map((c) => c.amount)) === JSON.stringify(expected)
          ? []
          : [`${p.paymentNo} is ${p.status}; the provider captured ${JSON.stringify(captures.map((c) => c.amount))}`];
      }),
  },
  {
    name: 'no authorization is left open',
    when: 'settled',
    check: ({ payments, provider }) =>
      provider.paymentIntents
        .filter((pi) => pi.status === 'requires_capture')
        .filter((pi) => !payments.some((p) => p.paymentNo === paymentNoOf(pi) && awaitsCapture(p)))
        .map((pi) => `${pi.id} of ${paymentNoOf(pi)} is still authorized`),
  },
  {
    name: "every call on a payment's charges carried the key derived from its payment_no",
    when: 'always',
    check: ({ provider }) =>
      provider.calls.flatMap((call) => {
        const pi = provider.paymentIntents.find((candidate) => candidate.id === call.paymentIntent);
        const expected = pi === undefined ? undefined : keyExpectedOn(paymentNoOf(pi), call);
        return expected === undefined || call.idempotencyKey === expected
          ? []
          : [`${call.request} carried the idempotency key ${JSON.stringify(call.idempotencyKey)}, not ${expected}`];
      }),
  },
  {
    name: 'every payment is finished, or waits visibly',
    when: 'settled',
    check: ({ payments }) =>
      // Left open only when the reconciler could not decide it, and then marked for a person.
      payments
        .filter((p) => !['succeeded', 'failed', 'canceled'].includes(p.status) && p.needsAttention === undefined && !awaitsCapture(p))
        .map((p) => `${p.paymentNo} is ${p.status}, not marked for attention`),
  },
];

/** A refund pays back what was captured, once, never more, and ends as the provider's did. */
export const refundInvariants: readonly Invariant<LedgerState>[] = [
  {
    name: 'refunds stay within what was captured',
    when: 'always',
    check: ({ payments, provider }) => [
      ...payments
        .filter((p) => p.amountRefunded < 0 || p.amountRefunded > p.amountCaptured || ![0, askedToCapture(p)].includes(p.amountCaptured))
        .map((p) => `${p.paymentNo} has ${p.amountRefunded} refunded of ${p.amountCaptured} captured (amount ${p.amount})`),
      ...provider.paymentIntents
        .filter((pi) => refundedOf(provider, pi) > sum(pi.captures))
        .map((pi) => `${pi.id} refunded ${refundedOf(provider, pi)} of ${sum(pi.captures)} captured at the provider`),
    ],
  },
  {
    name: "a payment's refunded total is its refunds not failed",
    when: 'always',
    check: ({ payments, refunds }) =>
      payments.flatMap((p) => {
        const reserved = sum(refunds.filter((r) => r.paymentNo === p.paymentNo && r.status !== 'failed'));
        return reserved === p.amountRefunded ? [] : [`${p.paymentNo} has ${p.amountRefunded} refunded; its refunds not failed add up to ${reserved}`];
      }),
  },
  {
    name: 'a succeeded refund was refunded by the provider, once, under its refund_no',
    when: 'always',
    check: ({ refunds, provider }) =>
      refunds
        .filter((r) => r.status === 'succeeded')
        .flatMap((r) => {
          const atProvider = refundsNamed(provider, r.refundNo);
          const [only] = atProvider;
          const same =
            only !== undefined &&
            atProvider.length === 1 &&
            only.status === 'succeeded' &&
            only.amount === r.amount &&
            (r.providerRefundId === undefined || only.id === r.providerRefundId);
          return same ? [] : [`${r.refundNo} succeeded (${r.amount}, ${r.providerRefundId ?? 'id not shown'}); the provider has ${describeRefunds(atProvider)}`];
        }),
  },
  {
    name: 'a refund the provider made was made by a call keyed by its refund_no',
    when: 'always',
    check: ({ refunds, provider }) =>
      refunds.flatMap((r) =>
        refundsNamed(provider, r.refundNo).flatMap((made) => {
          const call = provider.calls.find((candidate) => candidate.objectId === made.id);
          return call?.idempotencyKey === r.refundNo ? [] : [`refund ${r.refundNo} was made by a call keyed ${JSON.stringify(call?.idempotencyKey)}`];
        }),
      ),
  },
  {
    name: 'every refund is finished, or waits on a refund the provider holds pending',
    when: 'settled',
    check: ({ refunds, provider }) =>
      refunds
        .filter((r) => r.status === 'pending' && !provider.refunds.some((pr) => pr.id === r.providerRefundId && pr.status === 'pending'))
        .map((r) => `${r.refundNo} is pending; the provider has ${describeRefunds(refundsNamed(provider, r.refundNo))}`),
  },
  {
    name: 'every provider refund that took money is a refund of ours that did not fail, and a failed one has none',
    when: 'settled',
    check: ({ refunds, provider }) => [
      ...provider.refunds
        .filter(takesFromCharge)
        .filter((pr) => !refunds.some((r) => r.refundNo === pr.metadata['refund_no'] && r.status !== 'failed'))
        .map((pr) => `provider refund ${pr.id} (${pr.amount}, ${pr.status}) has no refund of ours that did not fail (${pr.metadata['refund_no']})`),
      ...refunds
        .filter((r) => r.status === 'failed' && refundsNamed(provider, r.refundNo).some(takesFromCharge))
        .map((r) => `${r.refundNo} failed, yet the provider refunded it (${describeRefunds(refundsNamed(provider, r.refundNo))})`),
    ],
  },
  {
    name: 'captured minus refunded is the same at the provider and in our records, to the cent',
    when: 'settled',
    check: ({ payments, refunds, provider }) =>
      payments.flatMap((p) => {
        const intents = intentsOf(provider, p.paymentNo);
        const atProvider = sum(intents.flatMap((pi) => pi.captures)) - sum(intents.flatMap((pi) => refundsOf(provider, pi)));
        // A refund still pending may or may not have reached the provider: count it as the provider says.
        const waiting = refunds.filter(
          (r) => r.paymentNo === p.paymentNo && r.status === 'pending' && refundsNamed(provider, r.refundNo).some(takesFromCharge),
        );
        const settledRefunds = refunds.filter((r) => r.paymentNo === p.paymentNo && r.status === 'succeeded');
        const ours = p.amountCaptured - sum(settledRefunds) - sum(waiting);
        return atProvider === ours ? [] : [`${p.paymentNo}: the provider holds ${atProvider}, our records ${ours}`];
      }),
  },
];

/** Every money promise. */
export const ledgerInvariants: readonly Invariant<LedgerState>[] = [...chargeInvariants, ...refundInvariants];

/**
 * The key a call on one of a payment's PaymentIntents must carry. Spelled out here, not
 * imported from the saga, so that a key changed or dropped there shows up as a difference
 * here. A refund carries its refund_no (checked with the refunds).
 */
function keyExpectedOn(paymentNo: string, call: CallRecord): string | undefined {
  const path = call.request.slice(call.request.indexOf(' ') + 1);
  if (path === '/v1/payment_intents') return `${paymentNo}:authorize`;
  if (path.endsWith('/capture')) return `${paymentNo}:capture`;
  if (path.endsWith('/cancel')) return `${paymentNo}:void:${call.paymentIntent}`;
  return undefined;
}

function paymentNoOf(pi: PaymentIntentRecord): string {
  return pi.metadata['payment_no'] ?? '(no payment_no)';
}

function intentsOf(provider: Ledger, paymentNo: string): PaymentIntentRecord[] {
  return provider.paymentIntents.filter((pi) => paymentNoOf(pi) === paymentNo);
}

/** The refunds that take from the charge: pending or succeeded; a failed or canceled one gave the amount back. */
function refundsOf(provider: Ledger, pi: PaymentIntentRecord): RefundRecord[] {
  return provider.refunds.filter((refund) => refund.paymentIntent === pi.id && takesFromCharge(refund));
}

function refundsNamed(provider: Ledger, refundNo: string): RefundRecord[] {
  return provider.refunds.filter((refund) => refund.metadata['refund_no'] === refundNo);
}

function refundedOf(provider: Ledger, pi: PaymentIntentRecord): number {
  return sum(refundsOf(provider, pi));
}

function sum(items: readonly { readonly amount: number }[]): number {
  return items.reduce((total, item) => total + item.amount, 0);
}

function describeRefunds(refunds: readonly RefundRecord[]): string {
  return refunds.length === 0 ? 'none' : refunds.map((r) => `${r.id} (${r.amount}, ${r.status})`).join(', ');
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}

/** A payment as the API shows it (`GET /v1/payments/{payment_no}`, its refunds with it). */
export interface PaymentView {
  readonly payment_no: string;
  readonly status: string;
  readonly amount: number;
  readonly amount_captured: number;
  readonly amount_refunded?: number;
  readonly needs_attention?: unknown;
  readonly capture_method?: string;
  readonly awaiting_capture?: boolean;
  readonly amount_to_capture?: number;
  readonly refunds?: readonly { readonly refund_no: string; readonly amount: number; readonly status: string }[];
}

/** What a running stack's API shows of a payment and its refunds, and the provider's ledger of it, as the invariants read them. */
export function stateOfView(payment: PaymentView, provider: Ledger): LedgerState {
  return {
    payments: [
      {
        paymentNo: payment.payment_no,
        status: payment.status,
        amount: payment.amount,
        amountCaptured: payment.amount_captured,
        amountRefunded: payment.amount_refunded ?? 0,
        ...(payment.needs_attention !== undefined && { needsAttention: payment.needs_attention }),
        ...(payment.capture_method !== undefined && { captureMethod: payment.capture_method }),
        ...(payment.awaiting_capture !== undefined && { awaitingCapture: payment.awaiting_capture }),
        ...(payment.amount_to_capture !== undefined && { amountToCapture: payment.amount_to_capture }),
      },
    ],
    refunds: (payment.refunds ?? []).map((r) => ({ refundNo: r.refund_no, paymentNo: payment.payment_no, amount: r.amount, status: r.status })),
    provider: ledgerOf(provider, [payment.payment_no]),
  };
}
