import { describe, expect, it } from 'vitest';
import { changeSettings, merchantSettings } from '../../../functions/domain/merchant.ts';
import { StrictMerchantKeyStore } from '../../support/strict/merchant-key-store.ts';

const DEFAULT_HOLD = 1800;

async function world() {
  const store = new StrictMerchantKeyStore();
  await store.addMerchantKey({ merchantId: 'm1', name: 'Pool' }, { keyHash: 'hash-1', keyId: 'key_1', hint: 'abcd' });
  const writes: unknown[] = [];
  const counting = Object.assign(Object.create(store), {
    updateSettings: (merchantId: string, change: object) => {
      writes.push(change);
      return store.updateSettings(merchantId, change);
    },
  }) as StrictMerchantKeyStore;
  return { deps: { store: counting, defaultHoldSeconds: DEFAULT_HOLD }, writes };
}

describe('merchant settings', () => {
  it('shows a hold window the merchant never set as the deployment’s', async () => {
    // Prepare
    const { deps } = await world();

    // Act
    const settings = await merchantSettings(deps, 'm1');

    // Assess
    expect(settings).toEqual({ pointValue: 1, cartHoldSeconds: DEFAULT_HOLD });
  });

  it('changes the settings named and keeps the others', async () => {
    // Prepare
    const { deps } = await world();
    await changeSettings(deps, 'm1', { cartHoldSeconds: 120 });

    // Act
    const settings = await changeSettings(deps, 'm1', { pointValue: 4 });

    // Assess
    expect(settings).toEqual({ pointValue: 4, cartHoldSeconds: 120 });
  });

  it('writes nothing for a change that names no setting', async () => {
    // Prepare
    const { deps, writes } = await world();

    // Act
    const settings = await changeSettings(deps, 'm1', { pointValue: undefined });

    // Assess
    expect(settings).toEqual({ pointValue: 1, cartHoldSeconds: DEFAULT_HOLD });
    expect(writes).toEqual([]);
  });
});
