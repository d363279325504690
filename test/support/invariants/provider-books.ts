/**
 * The ledger invariants held against the fake provider's books for one payment at a time: what
 * the integration suite, the crash matrix and the fuzzer check after each payment they make.
 */
import { ledger } from '../../../local/fake-provider/client.ts';
import { type PaymentView, chargeInvariants, refundInvariants, stateOfView, violations } from './ledger.ts';

/**
 * The charge promises (test/support/invariants/ledger.ts, the ones every simulated history is
 * held to), checked against the bank for one payment as the API shows it: a succeeded payment
 * has exactly one capture of its amount; another none and no authorization left open; every
 * call on its PaymentIntents carried the key derived from its payment_no. What breaks them,
 * one line each; undefined when they hold.
 */
export async function expectChargedExactlyAsRecorded(providerUrl: string, payment: PaymentView): Promise<string | undefined> {
  return reported(violations(chargeInvariants, stateOfView(payment, await ledger(providerUrl)), 'settled'));
}

/**
 * The refund promises, likewise, for a payment with its refunds: each succeeded refund is one
 * succeeded provider refund of its amount under its refund_no, made by a call keyed by that
 * refund_no; a failed one has none that still takes money; none is left pending; and captured
 * minus refunded is the same at the provider and in the payment.
 */
export async function expectRefundedExactlyAsRecorded(providerUrl: string, payment: PaymentView): Promise<string | undefined> {
  return reported(violations(refundInvariants, stateOfView(payment, await ledger(providerUrl)), 'settled'));
}

function reported(found: readonly string[]): string | undefined {
  return found.length === 0 ? undefined : found.join('\n');
}
