/**
 * What the API shows, apart from the zod objects of payout-schema.ts that describe it for the contract:
 * a route that only answers (a GET, the event publisher) then bundles no zod.
 */
import type { Payout } from '../../../domain/payout.ts';
import type { PayoutObject } from './payout-schema.ts';
import { unixSeconds } from '../unix-seconds.ts';

/** A payout as the API shows it: Stripe's payout (its id our payout_no), times in Unix seconds as Stripe's. */
export function payoutView(payout: Payout): PayoutObject {
  return {
    id: payout.payoutNo,
    object: 'payout' as const,
    payout_no: payout.payoutNo,
    amount: payout.amount,
    currency: payout.currency,
    status: payout.status,
    arrival_date: payout.arrivalDate === undefined ? null : unixSeconds(payout.arrivalDate),
    description: payout.description ?? null,
    created: unixSeconds(payout.createdAt),
    balance_transaction: payout.balanceTransactionId,
    failure_code: payout.failureReason ?? null,
  };
}
