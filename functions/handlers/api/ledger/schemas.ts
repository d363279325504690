import * as z from '../../shared/zod.ts';
import { MerchantAccounts } from '../../../domain/ledger/accounts.ts';
import { currencyOut, minorAmount, unixTime } from '../response-schema.ts';

const amountIn = z.strictObject({ amount: minorAmount, currency: currencyOut });

/** `GET /v1/balance` (`balanceView`): each account's funds, one entry per currency. */
export const balanceObject = z.strictObject({
  object: z.literal('balance'),
  available: z.array(amountIn),
  pending: z.array(amountIn),
  in_payout: z.array(amountIn),
});

/** A balance transaction as the API shows it (`balanceTransactionView`). */
export const balanceTransactionObject = z.strictObject({
  id: z.string(),
  object: z.literal('balance_transaction'),
  source: z.string(),
  type: z.enum(['charge', 'refund', 'payout', 'payout_failure', 'payout_cancel']),
  amount: minorAmount,
  fee: minorAmount,
  net: minorAmount,
  currency: currencyOut,
  created: unixTime,
  available_on: unixTime,
  status: z.enum(['pending', 'available']),
});
export type BalanceTransactionObject = z.infer<typeof balanceTransactionObject>;

const balances = z.strictObject(Object.fromEntries(MerchantAccounts.map((account) => [account, minorAmount])) as Record<(typeof MerchantAccounts)[number], typeof minorAmount>);
const totals = { count: z.int(), gross: minorAmount, fee: minorAmount, net: minorAmount };

/** A settlement statement as the API shows it (`settlementView`). */
export const settlementObject = z.strictObject({
  id: z.string(),
  object: z.literal('settlement'),
  date: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/)),
  currency: currencyOut,
  time_zone: z.string(),
  period_start: unixTime,
  period_end: unixTime,
  opening_balance: balances,
  closing_balance: balances,
  summary: z.array(z.strictObject({ type: z.string(), ...totals })),
  totals: z.strictObject(totals),
  transactions: z.array(balanceTransactionObject),
  reconciliation: z.strictObject({
    provider_transactions: z.int(),
    matched: z.int(),
    mismatches: z.array(
      z.strictObject({
        kind: z.enum(['missing_in_ledger', 'missing_at_provider', 'amount_differs', 'posted_after_statement']),
        type: z.string(),
        source: z.string(),
        ledger_amount: z.nullable(minorAmount),
        provider_amount: z.nullable(minorAmount),
        balance_transaction: z.nullable(z.string()),
        provider_transaction: z.nullable(z.string()),
      }),
    ),
  }),
  created: unixTime,
});
export type SettlementObject = z.infer<typeof settlementObject>;
