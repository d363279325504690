import { describe, expect, it } from 'vitest';
import {
  MAX_ROLL_GRACE_SECONDS,
  isKeyUsable,
  issueApiKey,
  keyStatus,
  revokeApiKey,
  rollApiKeys,
} from '../../../functions/domain/api-keys.ts';
import { NotFoundError, ValidationError } from '../../../functions/domain/errors.ts';
import { authenticateMerchant } from '../../../functions/domain/merchant.ts';
import { StrictMerchantKeyStore } from '../../support/strict/merchant-key-store.ts';

const NOW = new Date('2026-12-02T10:00:00.000Z');
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const bearer = (apiKey: string) => `Bearer ${apiKey}`;

async function merchantWithKey(merchantId = 'merchant_keys') {
  const store = new StrictMerchantKeyStore();
  const issued = await issueApiKey(store, { merchantId, name: 'Keys' });
  return { store, ...issued };
}

describe('an API key', () => {
  it('authenticates until revoked, and until its expiry, not at it', () => {
    expect(isKeyUsable({}, NOW)).toBe(true);
    expect(isKeyUsable({ revokedAt: NOW.toISOString() }, NOW)).toBe(false);
    expect(isKeyUsable({ expiresAt: later(1).toISOString() }, NOW)).toBe(true);
    expect(isKeyUsable({ expiresAt: NOW.toISOString() }, NOW)).toBe(false);
    expect([{}, { expiresAt: later(1).toISOString() }, { expiresAt: NOW.toISOString() }, { revokedAt: NOW.toISOString() }].map((key) => keyStatus(key, NOW))).toEqual([
      'active',
      'expiring',
      'expired',
      'revoked',
    ]);
  });

  it('is stored only as its hash, with an id and its last four characters', async () => {
    const { store, apiKey, keyId } = await merchantWithKey();

    const [stored] = await store.keysOf('merchant_keys');

    expect(keyId).toMatch(/^key_[0-9a-f]{16}$/);
    expect(stored).toMatchObject({ keyId, hint: apiKey.slice(-4) });
    expect(JSON.stringify(stored)).not.toContain(apiKey);
  });
});

describe('revoking a key', () => {
  it('stops it authenticating at once, by its id or by the key itself, and leaves the merchant’s other keys working', async () => {
    const { store, apiKey, keyId } = await merchantWithKey();
    const other = await issueApiKey(store, { merchantId: 'merchant_keys', name: 'Keys' });
    const third = await issueApiKey(store, { merchantId: 'merchant_keys', name: 'Keys' });

    await revokeApiKey(store, 'merchant_keys', keyId, NOW);
    await revokeApiKey(store, 'merchant_keys', third.apiKey, NOW);

    expect(await authenticateMerchant(store, bearer(apiKey), NOW)).toBeUndefined();
    expect(await authenticateMerchant(store, bearer(third.apiKey), NOW)).toBeUndefined();
    expect(await authenticateMerchant(store, bearer(other.apiKey), NOW)).toEqual({ merchantId: 'merchant_keys', name: 'Keys' });
  });

  it('again changes nothing: the first revocation’s time stands', async () => {
    const { store, keyId } = await merchantWithKey();
    await revokeApiKey(store, 'merchant_keys', keyId, NOW);

    await revokeApiKey(store, 'merchant_keys', keyId, later(60));

    expect((await store.keysOf('merchant_keys'))[0]?.revokedAt).toBe(NOW.toISOString());
  });

  it('of another merchant’s key, or of none, is not found, and revokes nothing', async () => {
    const { store, apiKey, keyId } = await merchantWithKey();

    await expect(revokeApiKey(store, 'merchant_other', keyId, NOW)).rejects.toBeInstanceOf(NotFoundError);
    await expect(revokeApiKey(store, 'merchant_other', apiKey, NOW)).rejects.toBeInstanceOf(NotFoundError);
    await expect(revokeApiKey(store, 'merchant_keys', 'key_0000000000000000', NOW)).rejects.toBeInstanceOf(NotFoundError);

    expect(await authenticateMerchant(store, bearer(apiKey), NOW)).toBeDefined();
  });
});

describe('rolling a merchant’s keys', () => {
  it('makes a new key and lets every key still usable work on for the grace period only', async () => {
    const { store, apiKey } = await merchantWithKey();
    const revoked = await issueApiKey(store, { merchantId: 'merchant_keys', name: 'Keys' });
    await revokeApiKey(store, 'merchant_keys', revoked.keyId, NOW);

    const rolled = await rollApiKeys(store, 'merchant_keys', 3600, NOW);

    expect(rolled.expiring.map((key) => key.hint)).toEqual([apiKey.slice(-4)]);
    expect(rolled.expiresAt).toBe(later(3600).toISOString());
    expect(await authenticateMerchant(store, bearer(apiKey), later(3599))).toBeDefined();
    expect(await authenticateMerchant(store, bearer(apiKey), later(3600))).toBeUndefined();
    expect(await authenticateMerchant(store, bearer(rolled.apiKey), later(365 * 24 * 3600))).toEqual({ merchantId: 'merchant_keys', name: 'Keys' });
    expect((await store.keysOf('merchant_keys')).find((key) => key.keyId === revoked.keyId)?.expiresAt).toBeUndefined();
  });

  it('with no grace stops the old keys now; rolled again, never gives an old key more time', async () => {
    const { store, apiKey } = await merchantWithKey();
    await rollApiKeys(store, 'merchant_keys', 60, NOW);

    const again = await rollApiKeys(store, 'merchant_keys', 0, NOW);

    expect(await authenticateMerchant(store, bearer(apiKey), NOW)).toBeUndefined();
    expect(await authenticateMerchant(store, bearer(again.apiKey), NOW)).toBeDefined();
    const third = await rollApiKeys(store, 'merchant_keys', MAX_ROLL_GRACE_SECONDS, NOW);
    expect(await authenticateMerchant(store, bearer(again.apiKey), later(MAX_ROLL_GRACE_SECONDS - 1))).toBeDefined();
    expect(await authenticateMerchant(store, bearer(apiKey), later(1))).toBeUndefined();
    expect(third.expiring.map((key) => key.keyId)).toEqual([again.keyId]);
  });

  it('refuses a grace period that is not whole seconds from 0 to 7 days, before making any key', async () => {
    const { store } = await merchantWithKey();

    for (const grace of [-1, 1.5, MAX_ROLL_GRACE_SECONDS + 1, Number.NaN]) {
      await expect(rollApiKeys(store, 'merchant_keys', grace, NOW)).rejects.toBeInstanceOf(ValidationError);
    }

    expect(await store.keysOf('merchant_keys')).toHaveLength(1);
  });

  it('of a merchant never stored is not found', async () => {
    const { store } = await merchantWithKey();

    await expect(rollApiKeys(store, 'merchant_nobody', 0, NOW)).rejects.toBeInstanceOf(NotFoundError);
  });
});
