/**
 * A merchant's terms: its fee per captured payment, how long captured funds stay pending and
 * whether a refund gives back a share of the fee.
 */
export interface LedgerSettings {
  /** The percentage part of the fee, in basis points (1/100 of a percent) of the amount captured. */
  readonly feeBps: number;
  /** The fixed part of the fee, in minor units of the payment's currency. */
  readonly feeFixed: number;
  /** Whole days from capture until the funds are available. */
  readonly payoutDelayDays: number;
  /** The IANA time zone the merchant's settlement days are cut in. */
  readonly timeZone: string;
  /** Whether a refund gives back its share of the fee; Stripe's rule (and the default) is that it does not. */
  readonly refundsReturnFees: boolean;
}

/** Stripe's standard card pricing in the US (2.9% + 30 cents), two days' delay, UTC, no fee back on refunds. */
export const DEFAULT_LEDGER_SETTINGS: LedgerSettings = {
  feeBps: 290,
  feeFixed: 30,
  payoutDelayDays: 2,
  timeZone: 'UTC',
  refundsReturnFees: false,
};

const BPS_SCALE = 10_000;

/**
 * The fee on a captured amount: `amount * feeBps / 10000` rounded half up to the minor unit
 * (an exact half goes to the platform), plus `feeFixed`, never more than the amount itself (a
 * payment never leaves the merchant owing for it). Integer arithmetic only: the largest
 * product, 99,999,999 x 10,000 basis points, is far inside a safe integer.
 */
export function feeFor(amount: number, settings: Pick<LedgerSettings, 'feeBps' | 'feeFixed'>): number {
  const percentage = Math.floor((amount * settings.feeBps + BPS_SCALE / 2) / BPS_SCALE);
  return Math.min(amount, percentage + settings.feeFixed);
}

/**
 * The fee a refund gives back when the merchant's settings return fees: its share of the
 * charge's fee, counted on the refunded total (so that partial refunds that add up to the
 * whole give back exactly the whole fee, whatever each rounds to), rounded down, less what
 * earlier refunds gave back. Zero when the settings keep fees, Stripe's rule.
 */
export function feeReturnedBy(
  refund: { readonly amount: number; readonly refundedBefore: number; readonly feeReturnedBefore: number },
  charge: { readonly amount: number; readonly fee: number },
  settings: Pick<LedgerSettings, 'refundsReturnFees'>,
): number {
  if (!settings.refundsReturnFees || charge.amount === 0) return 0;
  const refundedAfter = refund.refundedBefore + refund.amount;
  return Math.floor((charge.fee * refundedAfter) / charge.amount) - refund.feeReturnedBefore;
}

const DAY_MS = 86_400_000;

/** When funds captured at `capturedAt` become available: the merchant's delay in whole days later. */
export function availableOn(capturedAt: string, settings: Pick<LedgerSettings, 'payoutDelayDays'>): string {
  return new Date(Date.parse(capturedAt) + settings.payoutDelayDays * DAY_MS).toISOString();
}

const MAX_PAYOUT_DELAY_DAYS = 365;

/**
 * What is wrong with each setting a merchant is given, by setting (none when all can be its):
 * `feeBps` a whole number from 0 to 10,000 (100%), `feeFixed` a whole number of minor units, 0
 * or more, `payoutDelayDays` whole days from 0 to a year, `timeZone` an IANA zone `Intl` knows.
 */
export function ledgerSettingsProblems(settings: Partial<LedgerSettings>): Partial<Record<keyof LedgerSettings, string>> {
  const wholeIn = (value: number | undefined, max: number) => value === undefined || (Number.isSafeInteger(value) && value >= 0 && value <= max);
  return {
    ...(!wholeIn(settings.feeBps, BPS_SCALE) && { feeBps: `must be a whole number of basis points from 0 to ${BPS_SCALE}` }),
    ...(!wholeIn(settings.feeFixed, Number.MAX_SAFE_INTEGER) && { feeFixed: 'must be a whole number of minor units, 0 or more' }),
    ...(!wholeIn(settings.payoutDelayDays, MAX_PAYOUT_DELAY_DAYS) && { payoutDelayDays: `must be a whole number of days from 0 to ${MAX_PAYOUT_DELAY_DAYS}` }),
    ...(settings.timeZone !== undefined && !isTimeZone(settings.timeZone) && { timeZone: 'must be an IANA time zone, such as Europe/Paris or UTC' }),
  };
}

/** Whether a time zone is one `Intl` knows (an IANA name such as `Europe/Paris`, or `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
