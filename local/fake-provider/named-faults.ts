import type { FaultRequest } from './faults.ts';

/**
 * Provider faults by name, each striking the next matching request once: what the crash
 * matrix pairs with its crash points, and what the ops page offers beside a payment.
 */
export const providerFaults = {
  '503 on authorize': { fail: { count: 1, status: 503, match: 'POST /v1/payment_intents' } },
  '409 key in use on authorize': { fail: { count: 1, status: 409, match: 'POST /v1/payment_intents' } },
  'response lost after authorize committed': { dropResponseAfterCommit: { count: 1, match: 'POST /v1/payment_intents' } },
  '429 on capture': { fail: { count: 1, status: 429, match: 'POST /v1/payment_intents/*/capture' } },
  'timeout on capture': { hang: { count: 1, match: 'POST /v1/payment_intents/*/capture' } },
  'response lost after capture committed': { dropResponseAfterCommit: { count: 1, match: 'POST /v1/payment_intents/*/capture' } },
  '503 on refund': { fail: { count: 1, status: 503, match: 'POST /v1/refunds' } },
  '429 on refund': { fail: { count: 1, status: 429, match: 'POST /v1/refunds' } },
  '409 key in use on refund': { fail: { count: 1, status: 409, match: 'POST /v1/refunds' } },
  'timeout on refund': { hang: { count: 1, match: 'POST /v1/refunds' } },
  'response lost after refund committed': { dropResponseAfterCommit: { count: 1, match: 'POST /v1/refunds' } },
} as const satisfies Record<string, FaultRequest>;
export type ProviderFault = keyof typeof providerFaults;

/** The faults that strike a card payment's authorization. */
export const authorizeFaults: readonly ProviderFault[] = ['503 on authorize', '409 key in use on authorize', 'response lost after authorize committed'];
/** The faults that strike a card payment's capture. */
export const captureFaults: readonly ProviderFault[] = ['429 on capture', 'timeout on capture', 'response lost after capture committed'];
