import { describe, expect, it } from 'vitest';
import { UnbalancedStatementError } from '../../../functions/domain/errors.ts';
import { DEFAULT_LEDGER_SETTINGS } from '../../../functions/domain/ledger/fees.ts';
import { type LedgerDeps, postChange } from '../../../functions/domain/ledger/ledger.ts';
import { type SettleDeps, settleDueDays } from '../../../functions/domain/ledger/settle.ts';
import { settlementCsv } from '../../../functions/domain/ledger/settlement-csv.ts';
import { daysToSettle, isSettlementDate, settlementDay } from '../../../functions/domain/ledger/settlement-day.ts';
import { buildStatement, parseSettlementId, reconcile, settlementId, zeroStatementBalances } from '../../../functions/domain/ledger/settlement.ts';
import type { Currency } from '../../../functions/domain/money.ts';
import type { Payment } from '../../../functions/domain/payment.ts';
import type { ProviderBalanceTransaction } from '../../../functions/domain/provider.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { succeededPayment } from '../../support/payments.ts';
import { StrictLedgerStore } from '../../support/strict/ledger.ts';
import { StrictSettlementStore } from '../../support/strict/settlement.ts';

const USD = 'USD' as Currency;
const MERCHANT = 'merchant_a';
const DEPLOYMENT = 'test.deployment';
const HOUR_MS = 3_600_000;

describe('a merchant’s settlement day', () => {
  it.each([
    ['UTC', '2026-12-01', '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z'],
    ['Asia/Tokyo', '2026-12-01', '2026-11-30T15:00:00.000Z', '2026-12-01T15:00:00.000Z'],
    ['America/New_York', '2026-12-01', '2026-12-01T05:00:00.000Z', '2026-12-02T05:00:00.000Z'],
    ['Asia/Kolkata', '2026-12-01', '2026-11-30T18:30:00.000Z', '2026-12-01T18:30:00.000Z'],
    // Spring forward: 23 hours.
    ['America/New_York', '2026-03-08', '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z'],
    // Fall back: 25 hours.
    ['America/New_York', '2026-11-01', '2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z'],
    ['Europe/Paris', '2026-03-29', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z'],
    // Chile skips from 24:00 to 01:00: the day begins at the first instant it has, and the one before ends there.
    ['America/Santiago', '2026-09-06', '2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z'],
    ['America/Santiago', '2026-09-05', '2026-09-05T04:00:00.000Z', '2026-09-06T04:00:00.000Z'],
  ])('in %s, %s runs from %s to %s', (timeZone, date, start, end) => {
    // Act
    const day = settlementDay(date, timeZone);

    // Assess
    expect(day).toEqual({ date, timeZone, start, end });
  });

  it('meets the next day exactly, through a year of daylight-saving changes', () => {
    // Prepare
    const zones = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Tokyo'];

    for (const zone of zones) {
      // Act
      const days = daysToSettle({ timeZone: zone, firstDate: '2026-01-01', now: new Date('2027-01-02T00:00:00Z'), graceMs: 0, limit: 365 });

      // Assess: each day ends where the next begins, and lasts 23 to 25 hours.
      expect(days).toHaveLength(365);
      for (let i = 1; i < days.length; i += 1) expect(days[i]!.start).toBe(days[i - 1]!.end);
      for (const day of days) expect((Date.parse(day.end) - Date.parse(day.start)) / HOUR_MS).toBeGreaterThanOrEqual(23);
      for (const day of days) expect((Date.parse(day.end) - Date.parse(day.start)) / HOUR_MS).toBeLessThanOrEqual(25);
    }
  });

  it('settles a Tokyo merchant’s day when it ends there, and a New York merchant’s hours later', () => {
    // Prepare: 01:00 UTC on 2 December is 10:00 in Tokyo and 20:00 (1 December) in New York.
    const now = new Date('2026-12-02T01:00:00Z');
    const at = (timeZone: string) => daysToSettle({ timeZone, firstDate: '2026-12-01', now, graceMs: 30 * 60_000, limit: 10 });

    // Act
    const tokyo = at('Asia/Tokyo');
    const newYork = at('America/New_York');
    const later = daysToSettle({ timeZone: 'America/New_York', firstDate: '2026-12-01', now: new Date('2026-12-02T05:30:00Z'), graceMs: 30 * 60_000, limit: 10 });

    // Assess
    expect(tokyo.map((d) => d.date)).toEqual(['2026-12-01']);
    expect(newYork).toEqual([]);
    expect(later.map((d) => d.date)).toEqual(['2026-12-01']);
  });

  it('catches up every day a missed run left, from the day after the last settled', () => {
    // Act
    const days = daysToSettle({ timeZone: 'UTC', firstDate: '2026-11-01', settledThrough: '2026-11-27', now: new Date('2026-12-01T12:00:00Z'), graceMs: 0, limit: 10 });

    // Assess
    expect(days.map((d) => d.date)).toEqual(['2026-11-28', '2026-11-29', '2026-11-30']);
  });

  it.each(['2026-02-30', '2026-13-01', '26-12-01', '2026-12-1', '2026-12-01T00:00', ''])('refuses %j as a date', (text) => {
    expect(isSettlementDate(text)).toBe(false);
  });

  it('names a statement by its merchant, date and currency, and reads the name back', () => {
    // Act
    const id = settlementId(MERCHANT, '2026-12-01', USD);

    // Assess
    expect(parseSettlementId(id)).toEqual({ merchantId: MERCHANT, date: '2026-12-01', currency: USD });
    expect(parseSettlementId(`${id}x`)).toBeUndefined();
    expect(parseSettlementId('stl_nope')).toBeUndefined();
  });
});

/** A ledger with payments captured and refunded at chosen times, the provider's record of them, and the settlement over both. */
function world(timeZone = 'UTC', now = '2026-12-03T01:00:00Z') {
  const clock = new ManualClock(Date.parse(now));
  const ledger = new StrictLedgerStore();
  const store = new StrictSettlementStore(ledger);
  store.addMerchant(MERCHANT, '2026-12-01T08:00:00.000Z');
  const provider: ProviderBalanceTransaction[] = [];
  const ledgerDeps: LedgerDeps = { ledger, settingsOf: async () => DEFAULT_LEDGER_SETTINGS, clock: clock.clock };
  let seq = 0;
  const onProvider = (type: string, source: string, amount: number, at: string) =>
    provider.push({ id: `txn_${++seq}`, type, source, amount, fee: 0, net: amount, currency: USD, createdAt: at, merchantId: MERCHANT, deployment: DEPLOYMENT });
  const capture = async (amount: number, at: string, { atProvider = true } = {}) => {
    const chargeId = `pi_${++seq}`;
    const payment: Payment = succeededPayment({ merchantId: MERCHANT, paymentNo: `pay_${seq}`, chargeId, amount, amountCaptured: amount, createdAt: at, updatedAt: at });
    await postChange(ledgerDeps, { kind: 'payment', before: { ...payment, status: 'authorized', version: payment.version - 1 }, after: payment });
    if (atProvider) onProvider('charge', chargeId, amount, at);
    return chargeId;
  };
  const refund = async (chargeId: string, amount: number, at: string) => {
    const refundNo = `re_${++seq}`;
    await postChange(ledgerDeps, {
      kind: 'refund',
      after: { refundNo, paymentNo: 'pay', merchantId: MERCHANT, amount, operatorId: 'op', currency: USD, chargeId, status: 'succeeded', version: 2, createdAt: at, updatedAt: at, resumeCount: 0 },
    });
    onProvider('refund', refundNo, -amount, at);
  };
  const deps: SettleDeps = {
    store,
    provider: { listBalanceTransactions: async ({ createdFrom, createdBefore }) => provider.filter((t) => Date.parse(t.createdAt) >= createdFrom.getTime() && Date.parse(t.createdAt) < createdBefore.getTime()) },
    timeZoneOf: async () => timeZone,
    deployment: DEPLOYMENT,
    clock: clock.clock,
    graceMs: 30 * 60_000,
    matchMarginMs: HOUR_MS,
    maxDaysPerRun: 7,
  };
  return { clock, ledger, store, provider, onProvider, capture, refund, settle: async (only = {}) => (await settleDueDays(deps, only)).outcomes, settleAll: () => settleDueDays(deps) };
}

describe('settling a merchant’s days', () => {
  it('writes each day’s statement: opening, the day’s transactions by type, fees, closing', async () => {
    // Prepare: two captures and a refund on 1 December, one capture on 2 December.
    const w = world();
    const charge = await w.capture(1000, '2026-12-01T09:00:00.000Z');
    await w.capture(2000, '2026-12-01T10:00:00.000Z');
    await w.refund(charge, 400, '2026-12-01T11:00:00.000Z');
    await w.capture(500, '2026-12-02T09:00:00.000Z');

    // Act
    const outcomes = await w.settle();

    // Assess: 1000 and 2000 captured less fees of 59 and 88; 400 refunded from what is pending.
    expect(outcomes.map((o) => [o.date, o.outcome, o.mismatches.length])).toEqual([['2026-12-01', 'written', 0], ['2026-12-02', 'written', 0]]);
    const first = (await w.store.getStatement(MERCHANT, '2026-12-01', USD))!;
    expect(first.opening).toEqual(zeroStatementBalances);
    expect(first.summary).toEqual([
      { type: 'charge', count: 2, gross: 3000, fee: 147, net: 2853 },
      { type: 'refund', count: 1, gross: -400, fee: 0, net: -400 },
    ]);
    expect(first.totals).toEqual({ count: 3, gross: 2600, fee: 147, net: 2453 });
    expect(first.closing).toEqual({ pending: 2453, available: 0, in_payout: 0, paid_out: 0 });
    expect(first.transactions.map((t) => t.type)).toEqual(['charge', 'charge', 'refund']);
    const second = (await w.store.getStatement(MERCHANT, '2026-12-02', USD))!;
    expect(second.opening).toEqual(first.closing);
    expect(second.closing.pending).toBe(2453 + 500 - 45);
    expect(w.store.registry.get(MERCHANT)?.settledThrough).toBe('2026-12-02');
  });

  it('changes nothing when the same day is settled again, by the schedule or by hand', async () => {
    // Prepare
    const w = world();
    await w.capture(1000, '2026-12-01T09:00:00.000Z');
    await w.settle();
    const written = structuredClone([...w.store.statements.entries()]);
    const putsBefore = w.store.puts;

    // Act: the schedule again, and a person asking for 1 December.
    const again = await w.settle();
    const byHand = await w.settle({ merchantId: MERCHANT, through: '2026-12-01' });

    // Assess
    expect(again).toEqual([]);
    expect(byHand).toEqual([]);
    expect(w.store.puts).toBe(putsBefore);
    expect([...w.store.statements.entries()]).toEqual(written);
  });

  it('keeps a statement already written when a run that died before moving on settles its day again', async () => {
    // Prepare: the statement of 1 December is written, but the registry was never moved (a crash between the two).
    const w = world();
    await w.capture(1000, '2026-12-01T09:00:00.000Z');
    await w.settle({ merchantId: MERCHANT, through: '2026-12-01' });
    const kept = await w.store.getStatement(MERCHANT, '2026-12-01', USD);
    w.store.registry.set(MERCHANT, { merchantId: MERCHANT, createdAt: '2026-12-01T08:00:00.000Z', closings: {} });

    // Act
    const outcomes = await w.settle();

    // Assess: written once, and the next day opens on its closing.
    expect(outcomes.map((o) => [o.date, o.outcome])).toEqual([['2026-12-01', 'already_written'], ['2026-12-02', 'written']]);
    expect(await w.store.getStatement(MERCHANT, '2026-12-01', USD)).toBe(kept);
    expect((await w.store.getStatement(MERCHANT, '2026-12-02', USD))?.opening).toEqual(kept?.closing);
  });

  it('opens the next day on what its journal holds now when a posting came after the day’s statement, and lists it', async () => {
    // Prepare: 1 December settled; then a capture dated that day is posted (its stream record retried late).
    const w = world('UTC', '2026-12-02T01:00:00Z');
    await w.capture(1000, '2026-12-01T09:00:00.000Z');
    await w.settle();
    await w.capture(2000, '2026-12-01T23:59:00.000Z');
    await w.clock.sleep(86_400_000);

    // Act
    const outcomes = await w.settle();

    // Assess: 2 December opens on 1 December's closing restated with the late capture, its net listed.
    const first = (await w.store.getStatement(MERCHANT, '2026-12-01', USD))!;
    const second = (await w.store.getStatement(MERCHANT, '2026-12-02', USD))!;
    expect(outcomes.map((o) => [o.date, o.outcome])).toEqual([['2026-12-02', 'written']]);
    expect(first.closing.pending).toBe(1000 - 59);
    expect(second.opening.pending).toBe(1000 - 59 + 2000 - 88);
    expect(second.reconciliation.mismatches).toEqual([{ kind: 'posted_after_statement', type: 'journal', source: '2026-12-01', ledgerAmount: 2000 - 88 }]);
  });

  it('settles a day only once it has ended in the merchant’s zone and its grace has passed', async () => {
    // Prepare: a Tokyo merchant; 1 December ends there at 15:00 UTC.
    const w = world('Asia/Tokyo', '2026-12-01T15:10:00.000Z');
    await w.capture(1000, '2026-12-01T10:00:00.000Z');

    // Act: 10 minutes after the day ended there, then 31.
    const early = await w.settle();
    await w.clock.sleep(21 * 60_000);
    const late = await w.settle();

    // Assess: the merchant was created at 17:00 on 1 December, Tokyo time.
    expect(early).toEqual([]);
    expect(late.map((o) => [o.date, o.outcome])).toEqual([['2026-12-01', 'written']]);
  });

  it('stops before its next merchant when its time is up, and the next run goes on from each merchant’s place', async () => {
    // Prepare: two merchants with a day to settle; the first run has time for one.
    const w = world();
    w.store.addMerchant('merchant_b', '2026-12-01T08:00:00.000Z');
    let merchantsBegun = 0;
    const timeZoneOf = async () => {
      merchantsBegun += 1;
      return 'UTC';
    };
    const deps = (outOfTime: () => boolean): SettleDeps => ({
      store: w.store,
      provider: { listBalanceTransactions: async () => [] },
      timeZoneOf,
      deployment: DEPLOYMENT,
      clock: w.clock.clock,
      graceMs: 0,
      matchMarginMs: 0,
      maxDaysPerRun: 1,
      outOfTime,
    });

    // Act
    await settleDueDays(deps(() => merchantsBegun >= 1));
    const afterFirst = [...w.store.registry.values()].map((m) => m.settledThrough);
    await settleDueDays(deps(() => false));

    // Assess
    expect(afterFirst).toEqual(['2026-12-01', undefined]);
    expect([...w.store.registry.values()].map((m) => m.settledThrough)).toEqual(['2026-12-02', '2026-12-01']);
  });

  it('refuses to write a day whose transactions do not explain its journal, and stays on it', async () => {
    // Prepare: a balance transaction whose net is not what its journal moved.
    const w = world();
    await w.capture(1000, '2026-12-01T09:00:00.000Z');
    const original = w.store.transactionsBetween.bind(w.store);
    w.store.transactionsBetween = async (...args) => (await original(...args)).map((t) => ({ ...t, amount: t.amount + 1, net: t.net + 1 }));

    // Act
    const outcomes = await w.settle();

    // Assess
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ date: '2026-12-01', outcome: 'errored' });
    expect(outcomes[0]?.error).toBeInstanceOf(UnbalancedStatementError);
    expect(w.store.statements.size).toBe(0);
    expect(w.store.registry.get(MERCHANT)?.settledThrough).toBeUndefined();
  });
});

describe('a statement', () => {
  const day = settlementDay('2026-12-01', 'UTC');
  const none = { providerTransactions: 0, matched: 0, mismatches: [] };

  it('refuses a journal movement no balance transaction explains', async () => {
    // Prepare: a capture's journal with its balance transaction left out.
    const w = world();
    await w.capture(1000, '2026-12-01T09:00:00.000Z');
    const journal = await w.ledger.journal(MERCHANT);

    // Act
    const build = () => buildStatement({ merchantId: MERCHANT, currency: USD, day, opening: zeroStatementBalances, journal, transactions: [], reconciliation: none, createdAt: day.end });

    // Assess
    expect(build).toThrow(UnbalancedStatementError);
  });

  it('refuses an entry made outside its day', async () => {
    // Prepare
    const w = world();
    await w.capture(1000, '2026-12-02T00:00:00.000Z');
    const journal = await w.ledger.journal(MERCHANT);
    const { data } = await w.ledger.listBalanceTransactions(MERCHANT, { limit: 10 });

    // Act
    const build = () => buildStatement({ merchantId: MERCHANT, currency: USD, day, opening: zeroStatementBalances, journal, transactions: data, reconciliation: none, createdAt: day.end });

    // Assess
    expect(build).toThrow(/outside/);
  });

  it('is a CSV file of one row per transaction under a header, then its totals', async () => {
    // Prepare
    const w = world();
    const charge = await w.capture(1000, '2026-12-01T09:00:00.000Z');
    await w.refund(charge, 400, '2026-12-01T11:00:00.000Z');
    await w.settle({ merchantId: MERCHANT, through: '2026-12-01' });
    const statement = (await w.store.getStatement(MERCHANT, '2026-12-01', USD))!;

    // Act
    const lines = settlementCsv(statement).trimEnd().split('\r\n');

    // Assess
    expect(lines[0]).toBe('row,id,type,source,created,available_on,status,currency,amount,fee,net');
    expect(lines.filter((l) => l.startsWith('transaction,'))).toHaveLength(2);
    expect(lines).toContain('total,1 transactions,charge,,,,,USD,1000,59,941');
    expect(lines).toContain('total,2 transactions,all,,,,,USD,600,59,541');
    expect(lines).toContain('closing_balance,,pending,,2026-12-02T00:00:00.000Z,,,USD,541,,');
  });
});

describe('reconciliation with the provider', () => {
  it('finds nothing to report on a clean day', async () => {
    // Prepare
    const w = world();
    const charge = await w.capture(1000, '2026-12-01T09:00:00.000Z');
    await w.refund(charge, 400, '2026-12-01T11:00:00.000Z');

    // Act
    const [outcome] = await w.settle({ merchantId: MERCHANT, through: '2026-12-01' });

    // Assess
    const statement = await w.store.getStatement(MERCHANT, '2026-12-01', USD);
    expect(outcome?.mismatches).toEqual([]);
    expect(statement?.reconciliation).toEqual({ providerTransactions: 2, matched: 2, mismatches: [] });
  });

  it('lists a charge the provider made that the ledger lacks, one the provider lacks, and an amount that differs', async () => {
    // Prepare
    const w = world();
    await w.capture(1000, '2026-12-01T09:00:00.000Z', { atProvider: false });
    const differs = await w.capture(2000, '2026-12-01T10:00:00.000Z', { atProvider: false });
    w.onProvider('charge', differs, 2100, '2026-12-01T10:00:01.000Z');
    w.onProvider('charge', 'pi_stray', 700, '2026-12-01T12:00:00.000Z');

    // Act
    const [outcome] = await w.settle({ merchantId: MERCHANT, through: '2026-12-01' });

    // Assess
    expect(outcome?.mismatches.map((m) => [m.kind, m.source, m.ledgerAmount, m.providerAmount])).toEqual([
      ['missing_in_ledger', 'pi_stray', undefined, 700],
      ['missing_at_provider', 'pi_1', 1000, undefined],
      ['amount_differs', differs, 2000, 2100],
    ]);
  });

  it('writes a statement in a currency only the provider moved for the merchant, listing what the ledger lacks', async () => {
    // Prepare: the ledger holds nothing; the provider charged the merchant's customer in euros.
    const w = world();
    w.provider.push({ id: 'txn_eur', type: 'charge', source: 'pi_eur', amount: 900, fee: 0, net: 900, currency: 'EUR' as Currency, createdAt: '2026-12-01T12:00:00.000Z', merchantId: MERCHANT, deployment: DEPLOYMENT });

    // Act
    const [outcome] = await w.settle({ merchantId: MERCHANT, through: '2026-12-01' });

    // Assess
    expect(outcome).toMatchObject({ currency: 'EUR', outcome: 'written' });
    expect(outcome?.mismatches).toEqual([{ kind: 'missing_in_ledger', type: 'charge', source: 'pi_eur', providerAmount: 900, providerTransactionId: 'txn_eur' }]);
  });

  it('reports a provider transaction of this deployment that names no merchant of the registry, instead of dropping it', async () => {
    // Prepare
    const w = world();
    await w.capture(1000, '2026-12-01T09:00:00.000Z');
    w.provider.push(
      { id: 'txn_nobody', type: 'charge', source: 'pi_nobody', amount: 300, fee: 0, net: 300, currency: USD, createdAt: '2026-12-01T12:00:00.000Z', deployment: DEPLOYMENT },
      { id: 'txn_stranger', type: 'charge', source: 'pi_x', amount: 300, fee: 0, net: 300, currency: USD, createdAt: '2026-12-01T12:00:00.000Z', merchantId: 'merchant_unknown', deployment: DEPLOYMENT },
      { id: 'txn_other_stack', type: 'charge', source: 'pi_y', amount: 300, fee: 0, net: 300, currency: USD, createdAt: '2026-12-01T12:00:00.000Z', deployment: 'another.stack' },
    );

    // Act
    const { unattributed } = await w.settleAll();

    // Assess
    expect(unattributed.map((t) => t.id).sort()).toEqual(['txn_nobody', 'txn_stranger']);
  });

  it('matches a capture the two sides date on either side of midnight, and ignores other merchants’ and deployments’', () => {
    // Prepare
    const day = settlementDay('2026-12-01', 'UTC');
    const ours = { id: 'txn_a', type: 'charge', source: 'pi_1', amount: 1000, createdAt: '2026-12-01T23:59:59.900Z' };
    const theirs = { id: 'txn_p', type: 'charge', source: 'pi_1', amount: 1000, fee: 0, net: 1000, currency: USD, createdAt: '2026-12-02T00:00:00.000Z' };

    // Act
    const result = reconcile({ day, ledgerAround: [ours as never], provider: [theirs] });

    // Assess
    expect(result).toEqual({ providerTransactions: 0, matched: 1, mismatches: [] });
  });

  it('takes a payout the provider refused outright (made and given back in the ledger, nothing at the provider) for no mismatch, but not one given back without its payout', () => {
    // Prepare
    const day = settlementDay('2026-12-01', 'UTC');
    const ledger = (type: string, source: string, amount: number) => ({ id: `txn_${type}_${source}`, type, source, amount, createdAt: '2026-12-01T10:00:00.000Z' });
    const refused = [ledger('payout', 'po_refused', -500), ledger('payout_failure', 'po_refused', 500)];
    const unpaired = [ledger('payout_failure', 'po_lost', 300)];

    // Act
    const result = reconcile({ day, ledgerAround: [...refused, ...unpaired] as never[], provider: [] });

    // Assess
    expect(result.matched).toBe(2);
    expect(result.mismatches.map((m) => [m.kind, m.source])).toEqual([['missing_at_provider', 'po_lost']]);
  });
});
