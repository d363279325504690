import { afterEach, expect } from 'vitest';
import { clearFaults, ledger } from '../../local/fake-provider/client.ts';
import { chargeInvariants, refundInvariants, stateOfView, violations } from './invariants/ledger.ts';
import { type ApiResponse, target, waitForTerminal } from './target.ts';

/**
 * Checks, after each test of the calling file, every payment the test made: it reaches a
 * terminal status, and where the target has the fake provider, the provider's ledger shows
 * it charged (and refunded) exactly as recorded. Returns the function that records a
 * response's payment.
 */
export function checkPaymentsAfterEach(): <T extends ApiResponse>(response: T, key?: string) => T {
  /** payment_no -> the key of the merchant that owns it; one entry however often it was answered. */
  const touched = new Map<string, string>();

  afterEach(async () => {
    const { providerUrl } = target();
    const payments = [...touched];
    touched.clear();
    if (providerUrl) await clearFaults(providerUrl);
    for (const [paymentNo, key] of payments) await expectSettledAsRecorded(paymentNo, key);
  });

  return (response, key = target().apiKey) => {
    const paymentNo = (response.body as { payment_no?: unknown } | undefined)?.payment_no;
    if (typeof paymentNo === 'string') touched.set(paymentNo, key);
    return response;
  };
}

/**
 * The payment reaches a terminal status (or awaits its merchant's capture) and, where the target has the fake provider, holds to
 * the money promises every simulated history is held to (test/support/invariants/ledger.ts):
 * the charge's, and of the refund's those that hold while a refund is still on its way.
 */
export async function expectSettledAsRecorded(paymentNo: string, key = target().apiKey) {
  // A manual payment nobody captured is at rest on our side: its authorization waits for the merchant.
  const payment = await waitForTerminal(paymentNo, { key, awaitingCapture: true });
  const { providerUrl } = target();
  if (providerUrl) {
    const state = stateOfView(payment, await ledger(providerUrl));
    expect([...violations(chargeInvariants, state, 'settled'), ...violations(refundInvariants, state, 'always')], paymentNo).toEqual([]);
  }
  return payment;
}
