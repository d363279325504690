import { expect } from 'vitest';
import type { NewApiKey } from '../../functions/domain/api-keys.ts';
import { DEFAULT_POINT_VALUE, type MerchantKeyStore } from '../../functions/domain/merchant.ts';
import { DEFAULT_LEDGER_SETTINGS } from '../../functions/domain/ledger/fees.ts';
import { type Contract, describeContract, uniqueId } from './contract.ts';

/** A key as the store keeps it: any strings will do, the store never sees the key. */
const newKey = (): NewApiKey => ({ keyHash: uniqueId('keyhash'), keyId: uniqueId('key'), hint: 'abcd' });

/**
 * What every {@link MerchantKeyStore} must do, by behaviour: a key names one merchant for
 * good, and a merchant's settings survive whatever key is added later.
 */
export const merchantKeyStoreContract: Contract<MerchantKeyStore> = {
  'finds the merchant a key names, and nobody for a key it never stored': async (store) => {
    const merchant = { merchantId: uniqueId('merchant'), name: 'Swim school' };
    const key = newKey();

    await store.addMerchantKey(merchant, key);

    expect(await store.findKeyByHash(key.keyHash)).toMatchObject({ ...key, merchant });
    expect(await store.findKeyByHash(newKey().keyHash)).toBeUndefined();
  },

  'finds a merchant by each of its keys, under the name it was last given': async (store) => {
    const merchantId = uniqueId('merchant');
    const [first, second] = [newKey(), newKey()];
    await store.addMerchantKey({ merchantId, name: 'Old name' }, first);

    await store.addMerchantKey({ merchantId, name: 'New name' }, second);

    expect((await store.findKeyByHash(second.keyHash))?.merchant).toEqual({ merchantId, name: 'New name' });
    expect((await store.findKeyByHash(first.keyHash))?.merchant.merchantId).toBe(merchantId);
    expect(await store.merchantOf(merchantId)).toEqual({ merchantId, name: 'New name' });
    expect(await store.merchantOf(uniqueId('merchant'))).toBeUndefined();
  },

  'gives a merchant without settings, or unknown, one minor unit per point and no hold window of its own': async (store) => {
    const merchantId = uniqueId('merchant');
    await store.addMerchantKey({ merchantId, name: 'Plain' }, newKey());

    expect(await store.settingsOf(merchantId)).toEqual({ pointValue: DEFAULT_POINT_VALUE });
    expect(await store.settingsOf(uniqueId('merchant'))).toEqual({ pointValue: DEFAULT_POINT_VALUE });
  },

  'keeps a merchant’s settings when a key is added without them': async (store) => {
    const merchantId = uniqueId('merchant');
    await store.addMerchantKey({ merchantId, name: 'Set', pointValue: 5, cartHoldSeconds: 60 }, newKey());

    await store.addMerchantKey({ merchantId, name: 'Renamed' }, newKey());

    expect(await store.settingsOf(merchantId)).toEqual({ pointValue: 5, cartHoldSeconds: 60 });
  },

  'changes only the settings named, keeps the others, and answers them all': async (store) => {
    const merchantId = uniqueId('merchant');
    await store.addMerchantKey({ merchantId, name: 'Set', pointValue: 5, cartHoldSeconds: 600 }, newKey());

    const changed = await store.updateSettings(merchantId, { cartHoldSeconds: 120 });

    expect(changed).toEqual({ pointValue: 5, cartHoldSeconds: 120 });
    expect(await store.settingsOf(merchantId)).toEqual(changed);
    expect(await store.updateSettings(merchantId, { pointValue: 7 })).toEqual({ pointValue: 7, cartHoldSeconds: 120 });
  },

  'refuses to set the settings of a merchant it does not know, making none': async (store) => {
    const merchantId = uniqueId('merchant');

    await expect(store.updateSettings(merchantId, { pointValue: 3 })).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(await store.merchantOf(merchantId)).toBeUndefined();
  },

  'gives a merchant its ledger settings, the defaults for those it did not set, and keeps them when a key is added without them': async (store) => {
    const merchantId = uniqueId('merchant');
    await store.addMerchantKey({ merchantId, name: 'Fees', ledger: { feeBps: 150, payoutDelayDays: 7, timeZone: 'Europe/Paris' } }, newKey());

    await store.addMerchantKey({ merchantId, name: 'Fees renamed', ledger: { refundsReturnFees: true } }, newKey());

    expect(await store.ledgerSettingsOf(merchantId)).toEqual({
      ...DEFAULT_LEDGER_SETTINGS,
      feeBps: 150,
      payoutDelayDays: 7,
      timeZone: 'Europe/Paris',
      refundsReturnFees: true,
    });
    expect(await store.ledgerSettingsOf(uniqueId('merchant'))).toEqual(DEFAULT_LEDGER_SETTINGS);
  },

  'refuses to give a key that names one merchant to another, writing nothing of the other': async (store) => {
    const owner = { merchantId: uniqueId('merchant'), name: 'Owner' };
    const key = newKey();
    await store.addMerchantKey(owner, key);
    const intruder = { merchantId: uniqueId('merchant'), name: 'Intruder', pointValue: 9 };

    await expect(store.addMerchantKey(intruder, { ...key, keyId: uniqueId('key') })).rejects.toThrow();

    expect((await store.findKeyByHash(key.keyHash))?.merchant).toEqual(owner);
    expect(await store.settingsOf(intruder.merchantId)).toEqual({ pointValue: DEFAULT_POINT_VALUE });
    expect(await store.keysOf(intruder.merchantId)).toEqual([]);
  },

  'lists a merchant’s keys, newest first, and no other merchant’s': async (store) => {
    const merchantId = uniqueId('merchant');
    const [first, second] = [newKey(), newKey()];
    await store.addMerchantKey({ merchantId, name: 'Keys' }, first);
    await new Promise((resolve) => setTimeout(resolve, 2));
    await store.addMerchantKey({ merchantId, name: 'Keys' }, second);
    await store.addMerchantKey({ merchantId: uniqueId('merchant'), name: 'Other' }, newKey());

    const keys = await store.keysOf(merchantId);

    expect(keys.map((key) => key.keyId)).toEqual([second.keyId, first.keyId]);
    expect(keys[0]).toMatchObject({ keyHash: second.keyHash, hint: 'abcd', merchant: { merchantId } });
  },

  'keeps a key’s first revocation, and only ever moves its expiry sooner': async (store) => {
    const key = newKey();
    await store.addMerchantKey({ merchantId: uniqueId('merchant'), name: 'Revoked' }, key);

    await store.expireKey(key.keyHash, '2030-01-02T00:00:00.000Z');
    await store.expireKey(key.keyHash, '2030-01-03T00:00:00.000Z');
    await store.revokeKey(key.keyHash, '2029-06-01T00:00:00.000Z');
    await store.revokeKey(key.keyHash, '2029-07-01T00:00:00.000Z');

    expect(await store.findKeyByHash(key.keyHash)).toMatchObject({ expiresAt: '2030-01-02T00:00:00.000Z', revokedAt: '2029-06-01T00:00:00.000Z' });
  },

  'makes no key out of a revocation or an expiry of a key it never stored': async (store) => {
    const keyHash = newKey().keyHash;

    await expect(store.revokeKey(keyHash, '2029-06-01T00:00:00.000Z')).rejects.toThrow();
    await store.expireKey(keyHash, '2029-06-01T00:00:00.000Z').catch(() => undefined);

    expect(await store.findKeyByHash(keyHash)).toBeUndefined();
  },
};

/** Registers {@link merchantKeyStoreContract} as tests of the stores `makeStore` builds. */
export function describeMerchantKeyStoreContract(
  name: string,
  makeStore: () => MerchantKeyStore | Promise<MerchantKeyStore>,
): void {
  describeContract(`${name}: the MerchantKeyStore contract`, merchantKeyStoreContract, makeStore);
}
