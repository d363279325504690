import { type ApiKeyStore, hashApiKey, isKeyUsable } from './api-keys.ts';
import type { LedgerSettings } from './ledger/fees.ts';

/** Merchants authenticate with an API key (`api-keys.ts`) sent as `Authorization: Bearer <key>`. */
export interface Merchant {
  readonly merchantId: string;
  readonly name: string;
  /** Minor units one loyalty point is worth at checkout; 1 unless the merchant set another. */
  readonly pointValue?: number;
  /** How long this merchant's carts hold seats; the deployment's default unless set. */
  readonly cartHoldSeconds?: number;
  /** Its fees, payout delay, time zone and fee refunds; each the default unless set. */
  readonly ledger?: Partial<LedgerSettings>;
}

/** A merchant's settings, defaults filled in. */
export interface MerchantSettings {
  readonly pointValue: number;
  /** Absent: the deployment's default. */
  readonly cartHoldSeconds?: number;
}

export const DEFAULT_POINT_VALUE = 1;

export interface MerchantKeyStore extends ApiKeyStore {
  settingsOf(merchantId: string): Promise<MerchantSettings>;
  /** Its ledger settings, defaults filled in (`DEFAULT_LEDGER_SETTINGS`), for a merchant not stored too. */
  ledgerSettingsOf(merchantId: string): Promise<LedgerSettings>;
}

/** The key in an `Authorization` header, or undefined when the header is not a bearer key. */
export function bearerKey(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S{8,512})\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** The merchant a bearer header authenticates, or undefined for a missing, unknown, expired or revoked key. */
export async function authenticateMerchant(
  store: Pick<ApiKeyStore, 'findKeyByHash'>,
  authorization: string | undefined,
  now: Date,
): Promise<Merchant | undefined> {
  const key = bearerKey(authorization);
  const stored = key === undefined ? undefined : await store.findKeyByHash(hashApiKey(key));
  return stored !== undefined && isKeyUsable(stored, now) ? stored.merchant : undefined;
}
