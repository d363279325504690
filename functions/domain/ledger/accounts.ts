import type { Currency } from '../money.ts';

/**
 * A merchant's accounts, per currency: what the platform owes it, by where the money stands.
 * `pending` (captured, not yet available) -> `available` -> `in_payout` -> `paid_out`.
 */
export const MerchantAccounts = ['pending', 'available', 'in_payout', 'paid_out'] as const;

/**
 * The platform's own accounts: `provider_clearing`, the money the provider holds for us
 * (debit-normal: an asset), and `platform_fees`, what the platform earned (credit-normal).
 * Both are kept per merchant and currency, beside the merchant's accounts, so that a journal
 * transaction touches one balance record and no record is written by every merchant's
 * payments; the platform's total is their sum. The part of `platform_fees` kept with a
 * merchant is that merchant's `fees`: what it has been charged.
 */
export const PlatformAccounts = ['provider_clearing', 'platform_fees'] as const;

export type MerchantAccount = (typeof MerchantAccounts)[number];
export type PlatformAccount = (typeof PlatformAccounts)[number];
export type Account = MerchantAccount | PlatformAccount;

export const Accounts: readonly Account[] = [...MerchantAccounts, ...PlatformAccounts];

/** Accounts whose balance grows with debits; every other grows with credits. */
const DEBIT_NORMAL: ReadonlySet<Account> = new Set<Account>(['provider_clearing']);

/** A merchant's balances in one currency, each account in its normal sense (a positive number is money held). */
export type Balances = { readonly [A in Account]: number };

export interface CurrencyBalances {
  readonly currency: Currency;
  readonly balances: Balances;
}

export const zeroBalances: Balances = Object.fromEntries(Accounts.map((account) => [account, 0])) as Balances;

/**
 * How much a signed entry (debit positive, credit negative) changes the account's balance in
 * its normal sense.
 */
export function balanceChange(account: Account, signedAmount: number): number {
  return DEBIT_NORMAL.has(account) ? signedAmount : -signedAmount;
}

export function isPlatformAccount(account: Account): account is PlatformAccount {
  return (PlatformAccounts as readonly string[]).includes(account);
}
