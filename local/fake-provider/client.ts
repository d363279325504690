/**
 * A client of the fake provider's control endpoints, for tests and the demo: its ledger and its
 * faults, and the money promises checked against its ledger.
 */
import type { Ledger, PaymentIntentRecord, PayoutEnd, PayoutRecord, RefundEnd, RefundRecord } from './ledger.ts';
import type { FaultRequest, FaultState } from './faults.ts';

/** Reads the fake provider's ledger: every PaymentIntent with each capture, cancellation and refund. */
export async function ledger(providerUrl: string): Promise<Ledger> {
  const response = await fetch(`${providerUrl}/_fake/ledger`);
  if (!response.ok) throw new Error(`ledger answered ${response.status}`);
  return (await response.json()) as Ledger;
}

export async function intentsOf(providerUrl: string, paymentNo: string): Promise<PaymentIntentRecord[]> {
  return (await ledger(providerUrl)).paymentIntents.filter((pi) => pi.metadata.payment_no === paymentNo);
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

/** The provider's payout made for our `payout_no` (its metadata names it), if there is one. */
export async function providerPayoutOf(providerUrl: string, payoutNo: string): Promise<PayoutRecord | undefined> {
  return (await ledger(providerUrl)).payouts.find((payout) => payout.metadata['payout_no'] === payoutNo);
}

/** Ends a payout at the fake as the bank would: paid, or failed/canceled with Stripe's `failure_code`. */
export async function settlePayout(providerUrl: string, payoutId: string, status: PayoutEnd, failureCode?: string): Promise<void> {
  const response = await fetch(`${providerUrl}/_fake/payouts/${encodeURIComponent(payoutId)}/settle`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ status, ...(failureCode !== undefined && { failure_code: failureCode }) }),
  });
  if (!response.ok) throw new Error(`settling payout ${payoutId} answered ${response.status}: ${await response.text()}`);
}
