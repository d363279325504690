import { createHash, randomBytes } from 'node:crypto';
import type { LedgerSettings } from './ledger/fees.ts';

/**
 * Merchants authenticate with an API key sent as `Authorization: Bearer <key>`. Only the
 * key's SHA-256 is stored: a leaked table does not leak keys. (A slow hash buys nothing
 * here: the keys are 256 random bits, not passwords.)
 */
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

export interface MerchantKeyStore {
  findMerchantByKeyHash(keyHash: string): Promise<Merchant | undefined>;
  settingsOf(merchantId: string): Promise<MerchantSettings>;
  /** Its ledger settings, defaults filled in (`DEFAULT_LEDGER_SETTINGS`), for a merchant not stored too. */
  ledgerSettingsOf(merchantId: string): Promise<LedgerSettings>;
  /** Stores the merchant (or updates its name) and one more key for it. */
  addMerchantKey(merchant: Merchant, keyHash: string): Promise<void>;
}

const API_KEY_PREFIX = 'co_test_';

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/** The key in an `Authorization` header, or undefined when the header is not a bearer key. */
export function bearerKey(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S{8,512})\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** The merchant a bearer header authenticates, or undefined for a missing or unknown key. */
export async function authenticateMerchant(
  store: MerchantKeyStore,
  authorization: string | undefined,
): Promise<Merchant | undefined> {
  const key = bearerKey(authorization);
  return key === undefined ? undefined : store.findMerchantByKeyHash(hashApiKey(key));
}
