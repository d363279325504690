import { expect } from 'vitest';
import { DEFAULT_POINT_VALUE, type MerchantKeyStore } from '../../functions/domain/merchant.ts';
import { DEFAULT_LEDGER_SETTINGS } from '../../functions/domain/ledger/fees.ts';
import { type Contract, describeContract, uniqueId } from './contract.ts';

/** A key's hash as the store keeps it: any string will do, the store never sees the key. */
const newKeyHash = () => uniqueId('keyhash');

/**
 * What every {@link MerchantKeyStore} must do, by behaviour: a key names one merchant for
 * good, and a merchant's settings survive whatever key is added later.
 */
export const merchantKeyStoreContract: Contract<MerchantKeyStore> = {
  'finds the merchant a key names, and nobody for a key it never stored': async (store) => {
    const merchant = { merchantId: uniqueId('merchant'), name: 'Swim school' };
    const keyHash = newKeyHash();

    await store.addMerchantKey(merchant, keyHash);

    expect(await store.findMerchantByKeyHash(keyHash)).toEqual(merchant);
    expect(await store.findMerchantByKeyHash(newKeyHash())).toBeUndefined();
  },

  'finds a merchant by each of its keys, under the name it was last given': async (store) => {
    const merchantId = uniqueId('merchant');
    const [first, second] = [newKeyHash(), newKeyHash()];
    await store.addMerchantKey({ merchantId, name: 'Old name' }, first);

    await store.addMerchantKey({ merchantId, name: 'New name' }, second);

    expect(await store.findMerchantByKeyHash(second)).toEqual({ merchantId, name: 'New name' });
    expect((await store.findMerchantByKeyHash(first))?.merchantId).toBe(merchantId);
  },

  'gives a merchant without settings, or unknown, one minor unit per point and no hold window of its own': async (store) => {
    const merchantId = uniqueId('merchant');
    await store.addMerchantKey({ merchantId, name: 'Plain' }, newKeyHash());

    expect(await store.settingsOf(merchantId)).toEqual({ pointValue: DEFAULT_POINT_VALUE });
    expect(await store.settingsOf(uniqueId('merchant'))).toEqual({ pointValue: DEFAULT_POINT_VALUE });
  },

  'keeps a merchant’s settings when a key is added without them': async (store) => {
    const merchantId = uniqueId('merchant');
    await store.addMerchantKey({ merchantId, name: 'Set', pointValue: 5, cartHoldSeconds: 60 }, newKeyHash());

    await store.addMerchantKey({ merchantId, name: 'Renamed' }, newKeyHash());

    expect(await store.settingsOf(merchantId)).toEqual({ pointValue: 5, cartHoldSeconds: 60 });
  },

  'gives a merchant its ledger settings, the defaults for those it did not set, and keeps them when a key is added without them': async (store) => {
    const merchantId = uniqueId('merchant');
    await store.addMerchantKey({ merchantId, name: 'Fees', ledger: { feeBps: 150, payoutDelayDays: 7, timeZone: 'Europe/Paris' } }, newKeyHash());

    await store.addMerchantKey({ merchantId, name: 'Fees renamed', ledger: { refundsReturnFees: true } }, newKeyHash());

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
    const keyHash = newKeyHash();
    await store.addMerchantKey(owner, keyHash);
    const intruder = { merchantId: uniqueId('merchant'), name: 'Intruder', pointValue: 9 };

    await expect(store.addMerchantKey(intruder, keyHash)).rejects.toThrow();

    expect(await store.findMerchantByKeyHash(keyHash)).toEqual(owner);
    expect(await store.settingsOf(intruder.merchantId)).toEqual({ pointValue: DEFAULT_POINT_VALUE });
  },
};

/** Registers {@link merchantKeyStoreContract} as tests of the stores `makeStore` builds. */
export function describeMerchantKeyStoreContract(
  name: string,
  makeStore: () => MerchantKeyStore | Promise<MerchantKeyStore>,
): void {
  describeContract(`${name}: the MerchantKeyStore contract`, merchantKeyStoreContract, makeStore);
}
