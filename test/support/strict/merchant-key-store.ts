import { DEFAULT_LEDGER_SETTINGS, type LedgerSettings } from '../../../functions/domain/ledger/fees.ts';
import { DEFAULT_POINT_VALUE, type Merchant, type MerchantKeyStore, type MerchantSettings } from '../../../functions/domain/merchant.ts';

/**
 * The merchant key store with the DynamoDB adapter's semantics, in memory: a key is written
 * once (`attribute_not_exists`: adding one that exists is refused as the adapter's transaction
 * is, writing nothing, whichever merchant asks), with the merchant's name as it was then; the
 * merchant's record is updated, not put, so settings not given survive.
 */
export class StrictMerchantKeyStore implements MerchantKeyStore {
  private readonly merchants = new Map<string, Omit<Merchant, 'merchantId'>>();
  protected readonly keys = new Map<string, Merchant>();

  async findMerchantByKeyHash(keyHash: string): Promise<Merchant | undefined> {
    const found = this.keys.get(keyHash);
    return found === undefined ? undefined : { ...found };
  }

  async settingsOf(merchantId: string): Promise<MerchantSettings> {
    const merchant = this.merchants.get(merchantId);
    return {
      pointValue: merchant?.pointValue ?? DEFAULT_POINT_VALUE,
      ...(merchant?.cartHoldSeconds !== undefined && { cartHoldSeconds: merchant.cartHoldSeconds }),
    };
  }

  async ledgerSettingsOf(merchantId: string): Promise<LedgerSettings> {
    return this.ledgerSettings(merchantId);
  }

  /** The merchant's ledger settings as stored, read synchronously (the invariants). */
  ledgerSettings(merchantId: string): LedgerSettings {
    return { ...DEFAULT_LEDGER_SETTINGS, ...this.merchants.get(merchantId)?.ledger };
  }

  async addMerchantKey(merchant: Merchant, keyHash: string): Promise<void> {
    if (this.keys.has(keyHash)) {
      throw Object.assign(new Error(`Transaction cancelled: API key ${keyHash} exists`), { name: 'TransactionCanceledException' });
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
    this.keys.set(keyHash, { merchantId, name });
  }
}
