import type { Ledger } from '../../../local/fake-provider/ledger.ts';
import { type Account, Accounts, type CurrencyBalances, MerchantAccounts, zeroBalances } from '../../../functions/domain/ledger/accounts.ts';
import { type LedgerSettings, feeFor } from '../../../functions/domain/ledger/fees.ts';
import { type JournalTransaction, balanceChanges, imbalanceOf } from '../../../functions/domain/ledger/journal.ts';

/**
 * The ledger's promises for one merchant, over plain data: its balances and journal (from the
 * ledger store: the DynamoDB adapter on a stack, the strict store in a simulation) and what the
 * provider holds for it (the fake provider's ledger, or the simulation's Stripe).
 */
export interface MerchantLedger {
  readonly merchantId: string;
  readonly balances: readonly CurrencyBalances[];
  readonly journal: readonly JournalTransaction[];
}

/**
 * Per currency (upper case), what the provider captured (each capture's amount) and refunded
 * (succeeded refunds) for the merchant, and what it paid out for it (`paidOut`) or has on the
 * way (`inPayout`: payouts pending or in transit); failed and canceled payouts count for neither.
 */
export type ProviderTotals = Readonly<
  Record<
    string,
    {
      readonly captured: number;
      readonly refunded: number;
      readonly captures: readonly number[];
      readonly paidOut?: number;
      readonly inPayout?: number;
    }
  >
>;

/**
 * The provider's captures and succeeded refunds of the merchant's charges, and its payouts for
 * the merchant (both carry `merchant_id` in their metadata).
 */
export function providerTotalsOf(provider: Ledger, merchantId: string): ProviderTotals {
  const totals: Record<string, { captured: number; refunded: number; captures: number[]; paidOut: number; inPayout: number }> = {};
  const of = (currency: string) => (totals[currency.toUpperCase()] ??= { captured: 0, refunded: 0, captures: [], paidOut: 0, inPayout: 0 });
  const intents = provider.paymentIntents.filter((pi) => pi.metadata['merchant_id'] === merchantId);
  const ids = new Set(intents.map((pi) => pi.id));
  for (const pi of intents) {
    for (const capture of pi.captures) {
      of(pi.currency).captured += capture.amount;
      of(pi.currency).captures.push(capture.amount);
    }
  }
  for (const refund of provider.refunds) if (ids.has(refund.paymentIntent) && refund.status === 'succeeded') of(refund.currency).refunded += refund.amount;
  for (const payout of provider.payouts) {
    if (payout.metadata['merchant_id'] !== merchantId) continue;
    if (payout.status === 'paid') of(payout.currency).paidOut += payout.amount;
    if (payout.status === 'pending' || payout.status === 'in_transit') of(payout.currency).inPayout += payout.amount;
  }
  return totals;
}

/**
 * What breaks the promises, one line each (none when they hold): every journal transaction
 * sums to zero; the stored balances are what the journal adds up to; per currency
 * `available + pending + in_payout + paid_out = captured − refunded − fees` and the provider's
 * clearing account holds `captured − refunded`, both to the cent of the provider's own totals;
 * `paid_out` is what the provider paid out for the merchant and `in_payout` what it has on the
 * way (so every payout is settled in the ledger as the provider settled it: check once payouts
 * are final or submitted, not mid-saga);
 * the fees are the merchant's fee rule applied to each of the provider's captures (less what
 * refunds gave back, when the merchant's settings return fees: then at most that);
 * no account is negative but the platform's clearing and a merchant's `available`, which a
 * refund past what the merchant holds takes below zero by at most the fees it was charged.
 */
export function merchantLedgerViolations(ledger: MerchantLedger, provider: ProviderTotals, settings: LedgerSettings): string[] {
  const found: string[] = [];
  const where = (currency: string) => `${ledger.merchantId} ${currency}`;
  for (const transaction of ledger.journal) {
    const sum = imbalanceOf(transaction);
    if (sum !== 0) found.push(`${ledger.merchantId}: journal transaction ${transaction.key} sums to ${sum}, not 0`);
  }
  const currencies = new Set([...ledger.balances.map((b) => b.currency as string), ...Object.keys(provider)]);
  for (const currency of currencies) {
    const stored = ledger.balances.find((b) => b.currency === currency)?.balances ?? zeroBalances;
    const journaled = { ...zeroBalances, ...balanceChanges(ledger.journal.filter((t) => t.currency === currency)) };
    for (const account of Accounts) {
      if (stored[account] !== journaled[account]) found.push(`${where(currency)}: ${account} holds ${stored[account]}, its journal adds up to ${journaled[account]}`);
    }
    const { captured = 0, refunded = 0, captures = [], paidOut = 0, inPayout = 0 } = provider[currency] ?? {};
    const charged = captures.reduce((sum, amount) => sum + feeFor(amount, settings), 0);
    const feesAsCharged = settings.refundsReturnFees ? stored.platform_fees <= charged : stored.platform_fees === charged;
    if (!feesAsCharged) found.push(`${where(currency)}: platform_fees holds ${stored.platform_fees}, the fee rule on the provider's captures makes ${charged}`);
    const merchantHolds = MerchantAccounts.reduce((sum, account) => sum + stored[account], 0);
    const fees = stored.platform_fees;
    if (merchantHolds !== captured - refunded - fees) {
      found.push(`${where(currency)}: available + pending + in_payout + paid_out = ${merchantHolds}, captured − refunded − fees = ${captured - refunded - fees}`);
    }
    if (stored.provider_clearing !== captured - refunded) {
      found.push(`${where(currency)}: provider_clearing holds ${stored.provider_clearing}, the provider captured ${captured} and refunded ${refunded}`);
    }
    if (stored.paid_out !== paidOut) found.push(`${where(currency)}: paid_out holds ${stored.paid_out}, the provider paid out ${paidOut}`);
    if (stored.in_payout !== inPayout) found.push(`${where(currency)}: in_payout holds ${stored.in_payout}, the provider has ${inPayout} on the way`);
    for (const account of ['pending', 'in_payout', 'paid_out', 'platform_fees'] as const satisfies readonly Account[]) {
      if (stored[account] < 0) found.push(`${where(currency)}: ${account} is negative (${stored[account]})`);
    }
    if (stored.available < -fees) found.push(`${where(currency)}: available is ${stored.available}, below minus the fees charged (${-fees})`);
  }
  return found;
}
