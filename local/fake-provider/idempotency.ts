import { idempotencyKeyInUse, idempotencyMismatch, invalidRequest, type StripeApiError } from './api-error.ts';
import type { IdempotencyRecord } from './ledger.ts';
import { Lookup } from './tracked-state.ts';

/** A key is the API key's own: two accounts may use the same Idempotency-Key. */
const slotOf = (request: Pick<IdempotentRequest, 'apiKey' | 'key'>): string => `${request.apiKey}\u0000${request.key}`;
const bySlot = new Lookup<IdempotencyRecord>(slotOf);

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
  | {
      readonly kind: 'execute';
      /** The endpoint ran and answered `response` (a 500 too); only its first answer counts. */
      finish(response: KeptResponse): void;
      /** The endpoint never ran (its parameters failed validation): nothing is kept, the key is free. */
      release(): void;
    }
  | { readonly kind: 'replay'; readonly response: KeptResponse }
  | { readonly kind: 'reject'; readonly error: StripeApiError };

/**
 * Stripe's idempotency, keyed by (API key, Idempotency-Key), as its docs give it: the first
 * answer of a request whose endpoint began to run is kept and replayed for the same request,
 * whatever it was (a decline, a 400 about the object's state, a 500); a request refused
 * before it ran (its parameters failed validation, or a fault in front of the API) keeps
 * nothing. The same key with another endpoint or other params is an `idempotency_error`; a
 * key whose first request is still running is `idempotency_key_in_use` (409), which the
 * caller may retry.
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
    const slot = slotOf(request);
    if (this.inFlight.has(slot)) return { kind: 'reject', error: idempotencyKeyInUse(request.key) };

    const kept = bySlot.find(this.records, slot);
    if (kept !== undefined) {
      const same =
        kept.method === request.method && kept.path === request.path && kept.params === request.params;
      return same
        ? { kind: 'replay', response: kept }
        : { kind: 'reject', error: idempotencyMismatch(request.key) };
    }

    this.inFlight.add(slot);
    let ended = false;
    const end = (kept: KeptResponse | undefined) => {
      if (ended) return;
      ended = true;
      this.inFlight.delete(slot);
      if (kept !== undefined) this.records.push({ ...request, ...kept, at: this.now() });
    };
    return { kind: 'execute', finish: (response) => end(response), release: () => end(undefined) };
  }

  private forgetExpired(): void {
    const cutoff = this.now() - KEY_LIFETIME_MS;
    const firstLive = this.records.findIndex((r) => r.at > cutoff);
    this.records.splice(0, firstLive === -1 ? this.records.length : firstLive);
  }
}
