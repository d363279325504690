import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError, ValidationError } from './errors.ts';
import type { Merchant } from './merchant.ts';

/**
 * A merchant's API keys: made, rolled and revoked. Only a key's SHA-256 is stored (a leaked
 * table does not leak keys; a slow hash buys nothing, the keys being 256 random bits), with
 * an id and the key's last four characters so that an operator can tell keys apart without
 * ever seeing one again.
 */
export interface StoredApiKey {
  readonly keyHash: string;
  /** Absent for a key stored before keys had ids: it can still be revoked by the key itself. */
  readonly keyId?: string;
  /** The key's last four characters. */
  readonly hint?: string;
  readonly merchant: Merchant;
  readonly createdAt: string;
  /** From then on the key no longer authenticates (a rolled key's grace period ends). */
  readonly expiresAt?: string;
  readonly revokedAt?: string;
}

/** What is stored of a key made now. */
export type NewApiKey = Pick<StoredApiKey, 'keyHash' | 'keyId' | 'hint'> & { readonly keyId: string; readonly hint: string };

export interface ApiKeyStore {
  /** The merchant as stored (its id and name), if it is. */
  merchantOf(merchantId: string): Promise<Merchant | undefined>;
  findKeyByHash(keyHash: string): Promise<StoredApiKey | undefined>;
  /** Every key of the merchant that has an id, newest first. */
  keysOf(merchantId: string): Promise<StoredApiKey[]>;
  /** Stores the merchant (or updates its name and the settings given) and one more key for it. */
  addMerchantKey(merchant: Merchant, key: NewApiKey): Promise<void>;
  /** Marks the key revoked at `at`; a key revoked already keeps its first time. */
  revokeKey(keyHash: string, at: string): Promise<void>;
  /** Makes the key expire at `at`, unless it expires sooner already. */
  expireKey(keyHash: string, at: string): Promise<void>;
}

const API_KEY_PREFIX = 'co_test_';

/** A rolled key works on for at most this long, as Stripe's rolled keys do. */
export const MAX_ROLL_GRACE_SECONDS = 7 * 24 * 3600;

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/** A new key, shown once, and what of it is stored. */
export function newApiKey(): { readonly apiKey: string; readonly stored: NewApiKey } {
  const apiKey = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { apiKey, stored: { keyHash: hashApiKey(apiKey), keyId: `key_${randomBytes(8).toString('hex')}`, hint: apiKey.slice(-4) } };
}

/** Stores one more key for the merchant (and the merchant, or its new name and settings); the key is returned this once. */
export async function issueApiKey(store: Pick<ApiKeyStore, 'addMerchantKey'>, merchant: Merchant): Promise<{ readonly apiKey: string; readonly keyId: string }> {
  const { apiKey, stored } = newApiKey();
  await store.addMerchantKey(merchant, stored);
  return { apiKey, keyId: stored.keyId };
}

/** A key authenticates until it is revoked or its expiry comes. */
export function isKeyUsable(key: Pick<StoredApiKey, 'expiresAt' | 'revokedAt'>, now: Date): boolean {
  return key.revokedAt === undefined && (key.expiresAt === undefined || now.getTime() < Date.parse(key.expiresAt));
}

export type ApiKeyStatus = 'active' | 'expiring' | 'expired' | 'revoked';

export function keyStatus(key: Pick<StoredApiKey, 'expiresAt' | 'revokedAt'>, now: Date): ApiKeyStatus {
  if (key.revokedAt !== undefined) return 'revoked';
  if (key.expiresAt === undefined) return 'active';
  return isKeyUsable(key, now) ? 'expiring' : 'expired';
}

/** A key as an operator names it: its id, or the key itself (the only handle on a key stored without an id). */
export function keyReference(reference: string): { readonly keyId: string } | { readonly keyHash: string } {
  return /^key_[0-9a-f]{16}$/.test(reference) ? { keyId: reference } : { keyHash: hashApiKey(reference) };
}

/**
 * Revokes one of the merchant's keys at once. Revoking a revoked key again changes nothing;
 * a key of another merchant, or none, is not found (nothing says whether it exists).
 */
export async function revokeApiKey(store: ApiKeyStore, merchantId: string, reference: string, now: Date): Promise<StoredApiKey> {
  const key = await findMerchantKey(store, merchantId, reference);
  if (key.revokedAt === undefined) await store.revokeKey(key.keyHash, now.toISOString());
  return key;
}

/**
 * Rolls the merchant's keys: makes a new one, then lets every key still usable work on for
 * `graceSeconds` (0: stop now). The new key is stored first, so that a crash in between
 * leaves the merchant with one key too many, never with none.
 */
export async function rollApiKeys(
  store: ApiKeyStore,
  merchantId: string,
  graceSeconds: number,
  now: Date,
): Promise<{ readonly apiKey: string; readonly keyId: string; readonly expiring: readonly StoredApiKey[]; readonly expiresAt: string }> {
  if (!(Number.isSafeInteger(graceSeconds) && graceSeconds >= 0 && graceSeconds <= MAX_ROLL_GRACE_SECONDS)) {
    throw new ValidationError('grace', `must be a whole number of seconds from 0 to ${MAX_ROLL_GRACE_SECONDS} (7 days)`);
  }
  const merchant = await store.merchantOf(merchantId);
  if (merchant === undefined) throw new NotFoundError(`no merchant ${merchantId}`);
  const before = (await store.keysOf(merchantId)).filter((key) => isKeyUsable(key, now));
  // Its id and name only (merchantOf's): the settings stay as they are.
  const issued = await issueApiKey(store, merchant);
  const expiresAt = new Date(now.getTime() + graceSeconds * 1000).toISOString();
  for (const key of before) await store.expireKey(key.keyHash, expiresAt);
  return { ...issued, expiring: before, expiresAt };
}

async function findMerchantKey(store: ApiKeyStore, merchantId: string, reference: string): Promise<StoredApiKey> {
  const ref = keyReference(reference);
  const key = 'keyId' in ref ? (await store.keysOf(merchantId)).find((k) => k.keyId === ref.keyId) : await store.findKeyByHash(ref.keyHash);
  if (key === undefined || key.merchant.merchantId !== merchantId) throw new NotFoundError(`merchant ${merchantId} has no such API key`);
  return key;
}
