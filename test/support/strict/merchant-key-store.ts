import type { NewApiKey, StoredApiKey } from '../../../functions/domain/api-keys.ts';
import { NotFoundError } from '../../../functions/domain/errors.ts';
import { DEFAULT_LEDGER_SETTINGS, type LedgerSettings } from '../../../functions/domain/ledger/fees.ts';
import { DEFAULT_POINT_VALUE, type Merchant, type MerchantKeyStore, type MerchantSettings, type SettingsChange } from '../../../functions/domain/merchant.ts';

/**
 * The merchant key store with the DynamoDB adapter's semantics, in memory: a key is written
 * once (`attribute_not_exists`: adding one that exists is refused as the adapter's transaction
 * is, writing nothing, whichever merchant asks), with the merchant's name as it was then; the
 * merchant's record is updated, not put, so settings not given survive; a revocation keeps
 * its first time, an expiry only moves sooner.
 */
export class StrictMerchantKeyStore implements MerchantKeyStore {
  private readonly merchants = new Map<string, Omit<Merchant, 'merchantId'>>();
  protected readonly keys = new Map<string, StoredApiKey>();

  async findKeyByHash(keyHash: string): Promise<StoredApiKey | undefined> {
    const found = this.keys.get(keyHash);
    return found === undefined ? undefined : { ...found, merchant: { ...found.merchant } };
  }

  async keysOf(merchantId: string): Promise<StoredApiKey[]> {
    return [...this.keys.values()]
      .filter((key) => key.merchant.merchantId === merchantId && key.keyId !== undefined)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async merchantOf(merchantId: string): Promise<Merchant | undefined> {
    const merchant = this.merchants.get(merchantId);
    return merchant === undefined ? undefined : { merchantId, name: merchant.name };
  }

  async settingsOf(merchantId: string): Promise<MerchantSettings> {
    const merchant = this.merchants.get(merchantId);
    return {
      pointValue: merchant?.pointValue ?? DEFAULT_POINT_VALUE,
      ...(merchant?.cartHoldSeconds !== undefined && { cartHoldSeconds: merchant.cartHoldSeconds }),
    };
  }

  async updateSettings(merchantId: string, change: SettingsChange): Promise<MerchantSettings> {
    const merchant = this.merchants.get(merchantId);
    if (merchant === undefined) throw new NotFoundError(`no merchant ${merchantId}`);
    const { pointValue, cartHoldSeconds } = change;
    this.merchants.set(merchantId, {
      ...merchant,
      ...(pointValue !== undefined && { pointValue }),
      ...(cartHoldSeconds !== undefined && { cartHoldSeconds }),
    });
    return this.settingsOf(merchantId);
  }

  async ledgerSettingsOf(merchantId: string): Promise<LedgerSettings> {
    return this.ledgerSettings(merchantId);
  }

  /** The merchant's ledger settings as stored, read synchronously (the invariants). */
  ledgerSettings(merchantId: string): LedgerSettings {
    return { ...DEFAULT_LEDGER_SETTINGS, ...this.merchants.get(merchantId)?.ledger };
  }

  async addMerchantKey(merchant: Merchant, key: NewApiKey): Promise<void> {
    if (this.keys.has(key.keyHash)) {
      throw Object.assign(new Error(`Transaction cancelled: API key ${key.keyHash} exists`), { name: 'TransactionCanceledException' });
    }
    const { merchantId, name, pointValue, cartHoldSeconds, ledger } = merchant;
    const before = this.merchants.get(merchantId);
    this.merchants.set(merchantId, {
      ...before,
      name,
      ...(ledger !== undefined && { ledger: { ...before?.ledger, ...ledger } }),
      ...(pointValue !== undefined && { pointValue }),
      ...(cartHoldSeconds !== undefined && { cartHoldSeconds }),
    });
    this.keys.set(key.keyHash, { ...key, merchant: { merchantId, name }, createdAt: new Date().toISOString() });
  }

  async revokeKey(keyHash: string, at: string): Promise<void> {
    const key = this.existing(keyHash);
    if (key.revokedAt === undefined) this.keys.set(keyHash, { ...key, revokedAt: at });
  }

  async expireKey(keyHash: string, at: string): Promise<void> {
    const key = this.existing(keyHash);
    if (key.expiresAt === undefined || key.expiresAt > at) this.keys.set(keyHash, { ...key, expiresAt: at });
  }

  private existing(keyHash: string): StoredApiKey {
    const key = this.keys.get(keyHash);
    if (key === undefined) throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    return key;
  }
}
