/**
 * Money is an integer number of minor units (cents, pence, yen) with an ISO 4217 currency.
 * Never a float: 0.1 + 0.2 is not a price.
 */
export interface Money {
  readonly amount: number;
  readonly currency: Currency;
}

/** An upper-case ISO 4217 code, e.g. `USD`. */
export type Currency = string & { readonly __brand: 'Currency' };

/** The largest amount the provider accepts in one charge (Stripe: eight digits). */
export const MAX_AMOUNT = 99_999_999;

/**
 * The smallest charge the provider makes, per currency, in minor units: Stripe's minimums for
 * an account that settles in that currency. For any other currency the provider converts to
 * its settlement currency first, at the day's rate, so no fixed minimum holds; a charge it
 * refuses then fails like a decline.
 */
const MINIMUM_CHARGES: Readonly<Record<string, number>> = {
  USD: 50, AED: 200, AUD: 50, BGN: 100, BRL: 50, CAD: 50, CHF: 50, CZK: 1500, DKK: 250, EUR: 50, GBP: 30, HKD: 400,
  HUF: 17500, INR: 50, JPY: 50, MXN: 1000, MYR: 200, NOK: 300, NZD: 50, PLN: 200, RON: 200, SEK: 300, SGD: 50, THB: 1000,
};

export function minimumCharge(currency: Currency): number {
  return MINIMUM_CHARGES[currency] ?? 1;
}

const isoCurrencies = new Set(Intl.supportedValuesOf('currency'));

/** Parses an ISO 4217 code in either case; undefined when it is not one. */
export function parseCurrency(code: string): Currency | undefined {
  const upper = code.toUpperCase();
  return /^[A-Z]{3}$/.test(upper) && isoCurrencies.has(upper) ? (upper as Currency) : undefined;
}

export function isValidAmount(amount: number): boolean {
  return Number.isSafeInteger(amount) && amount > 0 && amount <= MAX_AMOUNT;
}

/** Formats for people and logs, never for arithmetic: `12.34 USD`, `1200 JPY`. */
export function formatMoney({ amount, currency }: Money): string {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
    .maximumFractionDigits ?? 2;
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  if (digits === 0) return `${sign}${abs} ${currency}`;
  const scale = 10 ** digits;
  const major = Math.floor(abs / scale);
  const minor = String(abs % scale).padStart(digits, '0');
  return `${sign}${major}.${minor} ${currency}`;
}
