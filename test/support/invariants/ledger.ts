import { type Payment, PaymentStatus, isTerminal } from '../../../functions/domain/payment.ts';
import { type Refund, RefundStatus } from '../../../functions/domain/refund.ts';
import { type Ledger, type PaymentIntentRecord, type RefundRecord, takesFromCharge } from '../../../local/fake-provider/ledger.ts';

/**
 * What the money promises are checked against: our records and the provider's ledger (the fake
 * provider's shape, which the simulation's Stripe also keeps). Plain data, so a simulated world
 * and a running stack (a table scan and `GET /_fake/ledger`) can both be checked.
 */
export interface LedgerState {
  readonly payments: readonly Payment[];
  readonly refunds: readonly Refund[];
  readonly provider: Ledger;
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

/** The payment and refund promises: never charged twice, never charged without a record, never refunded past what was paid. */
export const ledgerInvariants: readonly Invariant<LedgerState>[] = [
  {
    name: 'refunds stay within what was captured',
    when: 'always',
    check: ({ payments, provider }) => [
      ...payments
        .filter((p) => p.amountRefunded < 0 || p.amountRefunded > p.amountCaptured || ![0, p.amount].includes(p.amountCaptured))
        .map((p) => `${p.paymentNo} has ${p.amountRefunded} refunded of ${p.amountCaptured} captured (amount ${p.amount})`),
      ...provider.paymentIntents
        .filter((pi) => refundedOf(provider, pi) > capturedOf(pi))
        .map((pi) => `${pi.id} refunded ${refundedOf(provider, pi)} of ${capturedOf(pi)} captured at the provider`),
    ],
  },
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
        .filter((p) => p.status === PaymentStatus.Succeeded)
        .flatMap((p) => {
          const pi = provider.paymentIntents.find((candidate) => candidate.id === p.chargeId);
          if (pi === undefined) return [`${p.paymentNo} succeeded with charge ${p.chargeId}, unknown to the provider`];
          return capturedOf(pi) === p.amountCaptured && p.amountCaptured === p.amount
            ? []
            : [`${p.paymentNo} succeeded with ${p.amountCaptured} of ${p.amount}; the provider captured ${capturedOf(pi)}`];
        }),
  },
  {
    name: "a payment's refunded total is its refunds not failed",
    when: 'always',
    check: ({ payments, refunds }) =>
      payments.flatMap((p) => {
        const reserved = sum(refunds.filter((r) => r.paymentNo === p.paymentNo && r.status !== RefundStatus.Failed));
        return reserved === p.amountRefunded ? [] : [`${p.paymentNo} has ${p.amountRefunded} refunded; its refunds not failed add up to ${reserved}`];
      }),
  },
  {
    name: 'a succeeded refund was refunded by the provider',
    when: 'always',
    check: ({ refunds, provider }) =>
      refunds
        .filter((r) => r.status === RefundStatus.Succeeded)
        .flatMap((r) => {
          const atProvider = provider.refunds.filter((pr) => pr.metadata['refund_no'] === r.refundNo);
          const [only] = atProvider;
          return only !== undefined && atProvider.length === 1 && only.id === r.providerRefundId && only.amount === r.amount && only.status === 'succeeded'
            ? []
            : [`${r.refundNo} succeeded (${r.amount}, ${r.providerRefundId}); the provider has ${describeRefunds(atProvider)}`];
        }),
  },
  {
    name: 'every payment and refund is finished, or waits visibly',
    when: 'settled',
    check: ({ payments, refunds, provider }) => [
      // Left open only when the reconciler could not decide it, and then marked for a person.
      ...payments
        .filter((p) => !isTerminal(p.status) && p.needsAttention === undefined)
        .map((p) => `${p.paymentNo} is ${p.status} after ${p.resumeCount} resumes, not marked for attention`),
      // Pending only while the provider holds its refund pending.
      ...refunds
        .filter((r) => r.status === RefundStatus.Pending && !provider.refunds.some((pr) => pr.id === r.providerRefundId && pr.status === 'pending'))
        .map((r) => `${r.refundNo} is pending after ${r.resumeCount} resumes; the provider has ${describeRefunds(refundsNamed(provider, r.refundNo))}`),
    ],
  },
  {
    name: 'one capture per succeeded payment, none for any other',
    when: 'settled',
    check: ({ payments, provider }) =>
      payments.flatMap((p) => {
        const captures = provider.paymentIntents.filter((pi) => paymentNoOf(pi) === p.paymentNo).flatMap((pi) => pi.captures);
        const expected = p.status === PaymentStatus.Succeeded ? [p.amountCaptured] : [];
        return JSON.stringify(captures.map((c) => c.amount)) === JSON.stringify(expected)
          ? []
          : [`${p.paymentNo} is ${p.status}; the provider captured ${JSON.stringify(captures.map((c) => c.amount))}`];
      }),
  },
  {
    name: 'no authorization is left open',
    when: 'settled',
    check: ({ provider }) =>
      provider.paymentIntents
        .filter((pi) => pi.status === 'requires_capture')
        .map((pi) => `${pi.id} of ${paymentNoOf(pi)} is still authorized`),
  },
  {
    name: 'every provider refund that took money is a refund of ours that did not fail, and a failed one has none',
    when: 'settled',
    check: ({ refunds, provider }) => [
      ...provider.refunds
        .filter(takesFromCharge)
        .filter((pr) => !refunds.some((r) => r.refundNo === pr.metadata['refund_no'] && r.status !== RefundStatus.Failed))
        .map((pr) => `provider refund ${pr.id} (${pr.amount}, ${pr.status}) has no refund of ours that did not fail (${pr.metadata['refund_no']})`),
      ...refunds
        .filter((r) => r.status === RefundStatus.Failed && refundsNamed(provider, r.refundNo).some(takesFromCharge))
        .map((r) => `${r.refundNo} failed, yet the provider refunded it (${describeRefunds(refundsNamed(provider, r.refundNo))})`),
    ],
  },
  {
    name: 'captured minus refunded is the same at the provider and in our records, to the cent',
    when: 'settled',
    check: ({ payments, refunds, provider }) =>
      payments.flatMap((p) => {
        const intents = provider.paymentIntents.filter((pi) => paymentNoOf(pi) === p.paymentNo);
        const atProvider = sum(intents.flatMap((pi) => pi.captures)) - sum(intents.flatMap((pi) => refundsOf(provider, pi)));
        // A refund still pending may or may not have reached the provider: count it as the provider says.
        const waiting = refunds.filter(
          (r) => r.paymentNo === p.paymentNo && r.status === RefundStatus.Pending && refundsNamed(provider, r.refundNo).some(takesFromCharge),
        );
        const settledRefunds = refunds.filter((r) => r.paymentNo === p.paymentNo && r.status === RefundStatus.Succeeded);
        const ours = p.amountCaptured - sum(settledRefunds) - sum(waiting);
        return atProvider === ours ? [] : [`${p.paymentNo}: the provider holds ${atProvider}, our records ${ours}`];
      }),
  },
];

function paymentNoOf(pi: PaymentIntentRecord): string {
  return pi.metadata['payment_no'] ?? '(no payment_no)';
}

function capturedOf(pi: PaymentIntentRecord): number {
  return sum(pi.captures);
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
