import { type ApiKeyStore, hashApiKey, isKeyUsable } from './api-keys.ts';
import type { LedgerSettings } from './ledger/fees.ts';
import { MAX_AMOUNT } from './money.ts';

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

/**
 * What a merchant may set each setting to. A point is worth at least a minor unit, and at
 * most the largest amount a payment may have; a cart holds seats long enough to check out
 * (a minute) and not so long that a forgotten cart keeps a class full for more than a day.
 */
export const SETTINGS_BOUNDS = {
  pointValue: { min: 1, max: MAX_AMOUNT },
  cartHoldSeconds: { min: 60, max: 86_400 },
} as const satisfies Record<keyof MerchantSettings, { min: number; max: number }>;

/** The settings a merchant changes at once; those not named keep their value. */
export type SettingsChange = Partial<Record<keyof MerchantSettings, number>>;

export interface MerchantKeyStore extends ApiKeyStore {
  settingsOf(merchantId: string): Promise<MerchantSettings>;
  /** Sets the settings `change` names, the others kept, and answers them all after the change. */
  updateSettings(merchantId: string, change: SettingsChange): Promise<MerchantSettings>;
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

/** A merchant's settings as it sees them: a hold window it never set is the deployment's. */
export type EffectiveSettings = Required<MerchantSettings>;

export interface SettingsDeps {
  readonly store: Pick<MerchantKeyStore, 'settingsOf' | 'updateSettings'>;
  /** The deployment's hold window, for a merchant without its own. */
  readonly defaultHoldSeconds: number;
}

/** The merchant's own settings, defaults filled in. */
export async function merchantSettings(deps: SettingsDeps, merchantId: string): Promise<EffectiveSettings> {
  return effective(deps, await deps.store.settingsOf(merchantId));
}

/**
 * Changes the settings `change` names (each within {@link SETTINGS_BOUNDS}: the route's schema
 * refuses others, naming the field); nothing named changes nothing.
 */
export async function changeSettings(deps: SettingsDeps, merchantId: string, change: SettingsChange): Promise<EffectiveSettings> {
  const named = Object.values(change).some((value) => value !== undefined);
  return effective(deps, named ? await deps.store.updateSettings(merchantId, change) : await deps.store.settingsOf(merchantId));
}

function effective(deps: SettingsDeps, settings: MerchantSettings): EffectiveSettings {
  return { pointValue: settings.pointValue, cartHoldSeconds: settings.cartHoldSeconds ?? deps.defaultHoldSeconds };
}
