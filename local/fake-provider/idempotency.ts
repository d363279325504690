import { idempotencyKeyInUse, idempotencyMismatch, invalidRequest, type StripeApiError } from './api-error.ts';
import type { IdempotencyRecord } from './ledger.ts';

/** Stripe forgets a key 24 hours after its first use. */
const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
const MAX_KEY_LENGTH = 255;

export interface IdempotentRequest {
  readonly apiKey: string;
  readonly key: string;
  readonly method: string;
  readonly path: string;
  /** The canonical rendering of the request's params. */
  readonly params: string;
}

export interface KeptResponse {
  readonly status: number;
  readonly body: string;
  readonly requestId: string;
}

export type IdempotencyDecision =
  | { readonly kind: 'execute'; finish(response: KeptResponse): void; release(): void }
  | { readonly kind: 'replay'; readonly response: KeptResponse }
  | { readonly kind: 'reject'; readonly error: StripeApiError };

/**
 * Stripe's idempotency, keyed by (API key, Idempotency-Key): the first response that is not
 * a 5xx is kept and replayed for the same request; the same key with another endpoint or
 * other params is an `idempotency_error`; a key whose first request is still running is
 * `idempotency_key_in_use` (409), which the caller may retry.
 */
export class IdempotencyKeys {
  private readonly inFlight = new Set<string>();

  constructor(
    /** The persisted records; mutated in place so they are saved with the ledger. */
    private readonly records: IdempotencyRecord[],
    private readonly now: () => number = Date.now,
  ) {}

  begin(request: IdempotentRequest): IdempotencyDecision {
    if (request.key.length > MAX_KEY_LENGTH) {
      return {
        kind: 'reject',
        error: invalidRequest(`Idempotency-Key must be at most ${MAX_KEY_LENGTH} characters long.`),
      };
    }
    this.forgetExpired();
    const slot = `${request.apiKey}\u0000${request.key}`;
    if (this.inFlight.has(slot)) return { kind: 'reject', error: idempotencyKeyInUse(request.key) };

    const kept = this.records.find((r) => r.apiKey === request.apiKey && r.key === request.key);
    if (kept !== undefined) {
      const same =
        kept.method === request.method && kept.path === request.path && kept.params === request.params;
      return same
        ? { kind: 'replay', response: kept }
        : { kind: 'reject', error: idempotencyMismatch(request.key) };
    }

    this.inFlight.add(slot);
    return {
      kind: 'execute',
      finish: (response) => {
        this.inFlight.delete(slot);
        // A 5xx is not an answer: Stripe lets the retry run the request again.
        if (response.status >= 500) return;
        this.records.push({ ...request, ...response, at: this.now() });
      },
      release: () => {
        this.inFlight.delete(slot);
      },
    };
  }

  private forgetExpired(): void {
    const cutoff = this.now() - KEY_LIFETIME_MS;
    const firstLive = this.records.findIndex((r) => r.at > cutoff);
    this.records.splice(0, firstLive === -1 ? this.records.length : firstLive);
  }
}
