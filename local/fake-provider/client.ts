/** A client of the fake provider's control endpoints, for tests and the demo: its ledger and its faults. */
import { type CallRecord, type Ledger, type PaymentIntentRecord, type RefundEnd, type RefundRecord, takesFromCharge } from './ledger.ts';
import type { FaultRequest, FaultState } from './faults.ts';

/** Reads the fake provider's ledger: every PaymentIntent with each capture, cancellation and refund. */
export async function ledger(providerUrl: string): Promise<Ledger> {
  const response = await fetch(`${providerUrl}/_fake/ledger`);
  if (!response.ok) throw new Error(`ledger answered ${response.status}`);
  return (await response.json()) as Ledger;
}

export async function intentsOf(providerUrl: string, paymentNo: string): Promise<PaymentIntentRecord[]> {
  return intentsIn(await ledger(providerUrl), paymentNo);
}

function intentsIn(book: Ledger, paymentNo: string): PaymentIntentRecord[] {
  return book.paymentIntents.filter((pi) => pi.metadata.payment_no === paymentNo);
}

export async function armFaults(providerUrl: string, faults: FaultRequest): Promise<void> {
  const response = await fetch(`${providerUrl}/_fake/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (!response.ok) throw new Error(`arming faults answered ${response.status}: ${await response.text()}`);
}

/** The faults as the fake holds them now: each counted rule with the uses it has left (a rule used up is gone). */
export async function armedFaults(providerUrl: string): Promise<FaultState> {
  const response = await fetch(`${providerUrl}/_fake/faults`);
  if (!response.ok) throw new Error(`faults answered ${response.status}`);
  return (await response.json()) as FaultState;
}

export async function clearFaults(providerUrl: string): Promise<void> {
  await fetch(`${providerUrl}/_fake/faults`, { method: 'DELETE' });
}

/** The provider's refund made for our `refund_no` (its metadata names it), if there is one. */
export async function providerRefundOf(providerUrl: string, refundNo: string): Promise<RefundRecord | undefined> {
  return (await ledger(providerUrl)).refunds.find((refund) => refund.metadata.refund_no === refundNo);
}

/** Ends a pending refund at the fake as the bank would: succeeded, or failed/canceled with Stripe's `failure_reason`. */
export async function settleRefund(providerUrl: string, refundId: string, status: RefundEnd, failureReason?: string): Promise<void> {
  const response = await fetch(`${providerUrl}/_fake/refunds/${encodeURIComponent(refundId)}/settle`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ status, ...(failureReason !== undefined && { failure_reason: failureReason }) }),
  });
  if (!response.ok) throw new Error(`settling refund ${refundId} answered ${response.status}: ${await response.text()}`);
}

/**
 * The promise, checked against the bank: a succeeded payment has exactly one capture of its
 * amount; a failed or canceled one has none and no authorization left open; and every call
 * on its PaymentIntents carried the key the product derives from the payment_no.
 */
export async function expectChargedExactlyAsRecorded(
  providerUrl: string,
  payment: { payment_no: string; status: string; amount: number; amount_captured: number },
): Promise<string | undefined> {
  const book = await ledger(providerUrl);
  const intents = intentsIn(book, payment.payment_no);
  const captures = intents.flatMap((pi) => pi.captures);
  const open = intents.filter((pi) => pi.status === 'requires_capture');
  if (payment.status === 'succeeded') {
    if (captures.length !== 1) return `${captures.length} captures for a succeeded payment`;
    if (captures[0]!.amount !== payment.amount_captured) return `captured ${captures[0]!.amount}, recorded ${payment.amount_captured}`;
  } else if (captures.length !== 0) {
    return `${captures.length} captures for a ${payment.status} payment`;
  }
  if (open.length > 0) return `${open.length} authorizations left open`;
  return misKeyedCall(book, payment.payment_no, new Set(intents.map((pi) => pi.id)));
}

/**
 * The key a call on one of a payment's PaymentIntents must carry. Spelled out here, not
 * imported from the saga, so that a key changed or dropped there shows up as a difference
 * here. Refunds carry their refund_no: {@link expectRefundedExactlyAsRecorded} checks those.
 */
function keyExpectedOn(paymentNo: string, call: CallRecord): string | undefined {
  const path = call.request.slice(call.request.indexOf(' ') + 1);
  if (path === '/v1/payment_intents') return `${paymentNo}:authorize`;
  if (path.endsWith('/capture')) return `${paymentNo}:capture`;
  if (path.endsWith('/cancel')) return `${paymentNo}:void:${call.paymentIntent}`;
  return undefined;
}

function misKeyedCall(book: Ledger, paymentNo: string, intents: Set<string>): string | undefined {
  for (const call of book.calls) {
    if (call.paymentIntent === null || !intents.has(call.paymentIntent)) continue;
    const expected = keyExpectedOn(paymentNo, call);
    if (expected !== undefined && call.idempotencyKey !== expected) {
      return `${call.request} carried the idempotency key ${JSON.stringify(call.idempotencyKey)}, not ${expected}`;
    }
  }
  return undefined;
}

/**
 * The refund promise, checked against the bank: each succeeded refund of the payment is one
 * succeeded provider refund of its amount under its refund_no, made by a call keyed by that
 * refund_no; a failed one has none that still takes money (none, or one that failed or was
 * canceled); and the provider's refunded total is the payment's.
 */
export async function expectRefundedExactlyAsRecorded(
  providerUrl: string,
  payment: {
    payment_no: string;
    amount_refunded: number;
    refunds: { refund_no: string; amount: number; status: string }[];
  },
): Promise<string | undefined> {
  const book = await ledger(providerUrl);
  const intents = new Set(intentsIn(book, payment.payment_no).map((pi) => pi.id));
  const refunds = book.refunds.filter((r) => intents.has(r.paymentIntent));
  for (const refund of payment.refunds) {
    if (refund.status === 'pending') return `refund ${refund.refund_no} is still pending`;
    const atProvider = refunds.filter((r) => r.metadata.refund_no === refund.refund_no);
    if (atProvider.length > 1) return `${atProvider.length} provider refunds for refund ${refund.refund_no}`;
    const [made] = atProvider;
    if (refund.status === 'succeeded' && made?.status !== 'succeeded') {
      return `refund ${refund.refund_no} succeeded; its provider refund is ${made?.status ?? 'missing'}`;
    }
    if (refund.status === 'failed' && made !== undefined && takesFromCharge(made)) {
      return `refund ${refund.refund_no} failed; its provider refund is ${made.status}`;
    }
    if (made && made.amount !== refund.amount) return `refund ${refund.refund_no}: provider ${made.amount}, recorded ${refund.amount}`;
    const call = made && book.calls.find((candidate) => candidate.objectId === made.id);
    if (made && call?.idempotencyKey !== refund.refund_no) {
      return `refund ${refund.refund_no} was made by a call keyed ${JSON.stringify(call?.idempotencyKey)}`;
    }
  }
  const total = refunds.filter(takesFromCharge).reduce((sum, r) => sum + r.amount, 0);
  if (total !== payment.amount_refunded) return `provider refunded ${total}, recorded ${payment.amount_refunded}`;
  return undefined;
}
