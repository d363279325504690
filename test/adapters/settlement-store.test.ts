import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoLedgerStore } from '../../functions/adapters/dynamodb/ledger-store.ts';
import { DynamoMerchantKeyStore } from '../../functions/adapters/dynamodb/merchant-key-store.ts';
import { DynamoSettlementStore } from '../../functions/adapters/dynamodb/settlement-store.ts';
import { newApiKey } from '../../functions/domain/api-keys.ts';
import { DEFAULT_LEDGER_SETTINGS } from '../../functions/domain/ledger/fees.ts';
import { capturePosting } from '../../functions/domain/ledger/postings.ts';
import { settleDueDays } from '../../functions/domain/ledger/settle.ts';
import type { Currency } from '../../functions/domain/money.ts';
import { succeededPayment } from '../support/payments.ts';
import { localTableForThisFile } from './local-table.ts';
import { weakenedConditions } from './weakened-client.ts';

/** The settlement's DynamoDB store on DynamoDB Local: the registry, the day's key ranges through the synthesized index, statements put once. */
const table = localTableForThisFile();
const USD = 'USD' as Currency;
let merchantSeq = 0;

async function merchantWithCaptures(captures: readonly { amount: number; at: string }[]) {
  const merchantId = `merchant_settle_${++merchantSeq}_${Date.now()}`;
  await new DynamoMerchantKeyStore(table().db, table().name).addMerchantKey({ merchantId, name: 'Settled' }, newApiKey().stored);
  const ledger = new DynamoLedgerStore(table().db, table().name);
  for (const [i, { amount, at }] of captures.entries()) {
    const payment = succeededPayment({ merchantId, paymentNo: `pay_${i}`, chargeId: `pi_${merchantId}_${i}`, amount, amountCaptured: amount, updatedAt: at });
    await ledger.post(capturePosting({ ...payment, chargeId: payment.chargeId! }, DEFAULT_LEDGER_SETTINGS));
  }
  return merchantId;
}

const settle = async (store: DynamoSettlementStore, merchantId: string, now: string) =>
  (await settleDueDays(
    {
      store,
      provider: { listBalanceTransactions: async () => [] },
      timeZoneOf: async () => 'UTC',
      deployment: 'test',
      clock: () => new Date(now),
      graceMs: 0,
      matchMarginMs: 0,
      maxDaysPerRun: 7,
    },
    { merchantId },
  )).outcomes;

/**
 * `hours` into the day `days` after `date` (UTC): the settlement's clock counted from the day's
 * start, not from now, so a run late in the day settles the same days as one early in it.
 */
const hoursIntoDay = (date: string, days: number, hours: number) => new Date(Date.parse(`${date}T00:00:00.000Z`) + days * 86_400_000 + hours * 3_600_000).toISOString();

describe('DynamoSettlementStore on DynamoDB Local', () => {
  it('registers every merchant created, for the schedule to find without a scan', async () => {
    // Prepare
    const merchantId = await merchantWithCaptures([]);
    const store = new DynamoSettlementStore(table().db, table().name);

    // Act
    const merchants = await store.merchants();

    // Assess
    expect(merchants.find((m) => m.merchantId === merchantId)).toMatchObject({ merchantId, closings: {} });
  });

  it('finds a day’s journal and balance transactions by their time, the first instant in, the next day’s first out', async () => {
    // Prepare
    const merchantId = await merchantWithCaptures([
      { amount: 1000, at: '2026-11-30T23:59:59.999Z' },
      { amount: 2000, at: '2026-12-01T00:00:00.000Z' },
      { amount: 3000, at: '2026-12-01T23:59:59.999Z' },
      { amount: 4000, at: '2026-12-02T00:00:00.000Z' },
    ]);
    const store = new DynamoSettlementStore(table().db, table().name);

    // Act
    const journal = await store.journalBetween(merchantId, '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z');
    const transactions = await store.transactionsBetween(merchantId, '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z');

    // Assess: each capture is two journal transactions (capture and fee) and one balance transaction.
    expect(journal.map((t) => t.key).sort()).toEqual([`capture:pi_${merchantId}_1`, `capture:pi_${merchantId}_2`, `fee:pi_${merchantId}_1`, `fee:pi_${merchantId}_2`]);
    expect(transactions.map((t) => t.amount)).toEqual([2000, 3000]);
  });

  it('writes a statement once: a second put answers the first unchanged, and the registry never moves back', async () => {
    // Prepare
    const today = new Date().toISOString().slice(0, 10);
    const merchantId = await merchantWithCaptures([{ amount: 1000, at: `${today}T00:00:01.000Z` }]);
    const store = new DynamoSettlementStore(table().db, table().name);
    const tomorrow = hoursIntoDay(today, 1, 1);
    const [first] = await settle(store, merchantId, tomorrow);
    const written = await store.getStatement(merchantId, first!.date, USD);
    const statement = { ...written!, totals: { ...written!.totals, net: -1 } };

    // Act
    const put = await store.putStatement(statement);
    await store.advance(merchantId, '2000-01-01', {});

    // Assess
    expect(first?.outcome).toBe('written');
    expect(put).toEqual({ outcome: 'already_written', statement: written });
    expect(await store.getStatement(merchantId, first!.date, USD)).toEqual(written);
    expect((await store.merchant(merchantId))?.settledThrough).toBe(first?.date);
    expect((await store.listStatements(merchantId, { limit: 10 })).data.map((s) => s.id)).toEqual([written?.id]);
  });

  it('lists statements newest first, a page at a time, and one date’s alone', async () => {
    // Prepare: three days settled (the merchant was created today; the clock is three days on).
    const today = new Date().toISOString().slice(0, 10);
    const merchantId = await merchantWithCaptures([{ amount: 1000, at: `${today}T00:00:01.000Z` }]);
    const store = new DynamoSettlementStore(table().db, table().name);
    const settled = await settle(store, merchantId, hoursIntoDay(today, 3, 1));
    const dates = settled.map((o) => o.date);

    // Act
    const first = await store.listStatements(merchantId, { limit: 1 });
    const rest = await store.listStatements(merchantId, { limit: 10, startingAfter: { date: first.data[0]!.date, currency: USD } });
    const oneDate = await store.listStatements(merchantId, { limit: 10, date: dates[1]! });

    // Assess
    expect(dates).toHaveLength(3);
    expect(first).toMatchObject({ hasMore: true, data: [{ date: dates[2] }] });
    expect(rest.data.map((s) => s.date)).toEqual([dates[1], dates[0]]);
    expect(rest.hasMore).toBe(false);
    expect(oneDate.data.map((s) => s.date)).toEqual([dates[1]]);
  });

  it('keeps a statement as first written when another run wrote it after its read, and not once that guard is weakened', async () => {
    // Prepare: a run whose read of the statement came just before the other run wrote it.
    const merchantId = await merchantWithCaptures([{ amount: 1000, at: `${new Date().toISOString().slice(0, 10)}T00:00:01.000Z` }]);
    const store = new DynamoSettlementStore(table().db, table().name);
    const [first] = await settle(store, merchantId, new Date(Date.now() + 90_000_000).toISOString());
    const written = (await store.getStatement(merchantId, first!.date, USD))!;
    const changed = { ...written, totals: { ...written.totals, net: -1 }, transactions: written.transactions.map((t) => ({ ...t, amount: -1 })) };
    const withoutLines = { ...changed, transactions: [] };
    const weakened = weakenedConditions(table().db, 'attribute_not_exists(pk)', '');

    // Act: its lines refused by their pages' check, its statement by its own condition; then that condition weakened.
    const byPages = await new DynamoSettlementStore(firstReadStale(table().db), table().name).putStatement(changed);
    const byStatement = await new DynamoSettlementStore(firstReadStale(table().db), table().name).putStatement(withoutLines);
    const kept = await store.getStatement(merchantId, first!.date, USD);
    const unguarded = await new DynamoSettlementStore(firstReadStale(weakened.db), table().name).putStatement(withoutLines);

    // Assess
    expect(byPages).toEqual({ outcome: 'already_written', statement: written });
    expect(byStatement).toEqual({ outcome: 'already_written', statement: written });
    expect(kept).toEqual(written);
    expect(weakened.strikes()).toBeGreaterThan(0);
    expect(unguarded.outcome).toBe('written');
    expect((await store.getStatement(merchantId, first!.date, USD))?.totals.net).toBe(-1);
  });

  it('keeps a busy day’s lines in pages beside its statement, read back whole and in order', async () => {
    // Prepare: five captures, two lines a page.
    const today = new Date().toISOString().slice(0, 10);
    const merchantId = await merchantWithCaptures([1, 2, 3, 4, 5].map((i) => ({ amount: 1000 + i, at: `${today}T00:00:0${i}.000Z` })));
    const store = new DynamoSettlementStore(table().db, table().name, 2);

    // Act
    const [first] = await settle(store, merchantId, new Date(Date.now() + 90_000_000).toISOString());
    const statement = await store.getStatement(merchantId, first!.date, USD);

    // Assess
    expect(first?.outcome).toBe('written');
    expect(statement?.transactions.map((t) => t.amount)).toEqual([1001, 1002, 1003, 1004, 1005]);
    expect(statement?.totals.count).toBe(5);
  });
});

/** The client whose first GetItem answers nothing: a read made just before another writer's put. */
function firstReadStale(db: DynamoDBDocumentClient): DynamoDBDocumentClient {
  let stale = true;
  return {
    send: (command: unknown) => {
      if (stale && command instanceof GetCommand) {
        stale = false;
        return Promise.resolve({});
      }
      return db.send(command as never);
    },
  } as never;
}
