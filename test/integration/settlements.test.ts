import { describe, expect, it } from 'vitest';
import { createStripeClient } from '../../functions/adapters/stripe/client.ts';
import { StripePaymentProvider } from '../../functions/adapters/stripe/stripe-provider.ts';
import { localDateOf } from '../../functions/domain/ledger/settlement-day.ts';
import { parseCurrency } from '../../functions/domain/money.ts';
import { DEPLOYMENT_METADATA_KEY } from '../../functions/domain/provider.ts';
import { stackLedgerViolations } from '../support/invariants/stack-ledger.ts';
import { api, invoke, paymentBody, target, waitForRefunds, waitForTerminal } from '../support/target.ts';

const DAY_MS = 86_400_000;
const FEE = (amount: number) => Math.floor((amount * 290 + 5000) / 10_000) + 30;

const merchants = () => {
  const found = target().settlements;
  if (found === undefined) throw new Error('the settlement tests need their merchants and direct invocation (the local stack makes them)');
  return found;
};

/** Settles a merchant's days through `date`, as a person reruns SettleDay by hand, with a clock two days on: the day has ended. */
const settle = (merchantId: string, date: string) =>
  invoke<{ written: number; alreadyWritten: number; failed: number; mismatches: number }>('SettleDay', {
    time: new Date(Date.now() + 2 * DAY_MS).toISOString(),
    detail: { merchant_id: merchantId, date },
  });

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function captured(key: string, amount: number) {
  const created = await api('POST', '/v1/payments', paymentBody({ amount }), { key });
  expect(created.status).toBe(201);
  return waitForTerminal(created.body.payment_no, { key });
}

describe.runIf(target().settlements)('settlement statements', () => {
  it('settles a Tokyo merchant’s day of payments and a refund: listed by date, fetched, as CSV, matched with the provider, once', async () => {
    // Prepare: two captures and a refund, posted to the ledger.
    const { apiKey: key, merchantId, timeZone } = merchants();
    const date = localDateOf(new Date(), timeZone);
    const first = await captured(key, 1000);
    await captured(key, 2500);
    await eventually(async () => (await api('GET', '/v1/balance_transactions?limit=10', undefined, { key })).body.data.length, (n) => n === 2, 'the captures posted');
    const refund = await api('POST', '/v1/refunds', { payment_no: first.payment_no, amount: 400, operator_id: 'op-settle' }, { key });
    await waitForRefunds(first.payment_no, { key });
    await eventually(async () => (await api('GET', '/v1/balance_transactions?limit=10', undefined, { key })).body.data.length, (n) => n === 3, 'the refund posted');

    // Act
    const run = await settle(merchantId, date);
    const rerun = await settle(merchantId, date);
    const listed = await api('GET', `/v1/settlements?date=${date}`, undefined, { key });
    const id = listed.body.data[0]?.id;
    const fetched = await api('GET', `/v1/settlements/${id}`, undefined, { key });
    const csv = await fetch(`${target().apiUrl}/v1/settlements/${id}/csv`, { headers: { Authorization: `Bearer ${key}` } });
    const csvText = await csv.text();

    // Assess
    expect(refund.status).toBe(201);
    expect(run).toEqual({ written: 1, alreadyWritten: 0, failed: 0, mismatches: 0 });
    expect(rerun).toEqual({ written: 0, alreadyWritten: 0, failed: 0, mismatches: 0 });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(1);
    const statement = fetched.body;
    expect(statement).toMatchObject({ object: 'settlement', date, currency: 'USD', time_zone: 'Asia/Tokyo' });
    expect(statement.summary).toEqual([
      { type: 'charge', count: 2, gross: 3500, fee: FEE(1000) + FEE(2500), net: 3500 - FEE(1000) - FEE(2500) },
      { type: 'refund', count: 1, gross: -400, fee: 0, net: -400 },
    ]);
    expect(statement.opening_balance).toEqual({ pending: 0, available: 0, in_payout: 0, paid_out: 0 });
    expect(statement.closing_balance.pending).toBe(3500 - FEE(1000) - FEE(2500) - 400);
    expect(statement.reconciliation).toEqual({ provider_transactions: 3, matched: 3, mismatches: [] });
    expect(statement.period_end - statement.period_start).toBe(DAY_MS / 1000);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="settlement-${date}-usd.csv"`);
    const rows = csvText.trimEnd().split('\r\n');
    expect(rows[0]).toBe('row,id,type,source,created,available_on,status,currency,amount,fee,net');
    expect(rows.filter((row) => row.startsWith('transaction,'))).toHaveLength(3);
    expect(rows).toContain(`total,3 transactions,all,,,,,USD,3100,${FEE(1000) + FEE(2500)},${3100 - FEE(1000) - FEE(2500)}`);
    expect(await stackLedgerViolations({ providerUrl: target().providerUrl!, table: target().table! }, [merchantId])).toEqual([]);
  });

  it('lists a charge the provider made behind the ledger’s back as missing from the ledger', async () => {
    // Prepare: a charge captured at the provider under the merchant's and the stack's names, never through the API.
    const { strayMerchantId: merchantId, strayApiKey: key } = merchants();
    const provider = new StripePaymentProvider(createStripeClient({ apiKey: 'sk_test_it', apiBase: target().providerUrl! }));
    const paymentNo = `pay_stray_${Date.now()}`;
    const charge = await provider.authorizeCharge({
      paymentNo,
      amount: 777,
      currency: parseCurrency('USD')!,
      paymentMethod: 'pm_card_visa',
      idempotencyKey: `stray-${paymentNo}`,
      metadata: { merchant_id: merchantId, [DEPLOYMENT_METADATA_KEY]: target().deploymentId! },
    });
    await provider.captureCharge({ chargeId: charge.id, idempotencyKey: `stray-capture-${paymentNo}` });
    const date = localDateOf(new Date(), 'UTC');

    // Act
    const run = await settle(merchantId, date);
    const [statement] = (await api('GET', `/v1/settlements?date=${date}`, undefined, { key })).body.data;

    // Assess
    expect(run).toMatchObject({ written: 1, failed: 0, mismatches: 1 });
    expect(statement.reconciliation.mismatches).toEqual([
      { kind: 'missing_in_ledger', type: 'charge', source: charge.id, ledger_amount: null, provider_amount: 777, balance_transaction: null, provider_transaction: expect.stringMatching(/^txn_/) },
    ]);
    expect(statement.transactions).toEqual([]);
  });

  it('answers 404 for another merchant’s statement, and for an id that names none', async () => {
    // Prepare
    const { apiKey: key, merchantId, timeZone } = merchants();
    const date = localDateOf(new Date(), timeZone);
    await settle(merchantId, date);
    const [own] = (await api('GET', '/v1/settlements?limit=1', undefined, { key })).body.data;

    // Act
    const asOther = await api('GET', `/v1/settlements/${own.id}`, undefined, { key: target().otherApiKey });
    const csvAsOther = await fetch(`${target().apiUrl}/v1/settlements/${own.id}/csv`, { headers: { Authorization: `Bearer ${target().otherApiKey}` } });
    const nothing = await api('GET', '/v1/settlements/stl_nope', undefined, { key });

    // Assess
    expect(asOther.status).toBe(404);
    expect(asOther.body.error).toMatchObject({ code: 'not_found', field: 'settlement_id' });
    expect(csvAsOther.status).toBe(404);
    expect(nothing.status).toBe(404);
  });

  it.each([
    ['date=2026-02-30', 'date'],
    ['date=20261201', 'date'],
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['starting_after=stl_nope', 'starting_after'],
    ['starting_after=', 'starting_after'],
    ['currency=usd', 'currency'],
  ])('refuses ?%s with a 400 naming %s', async (query, field) => {
    // Act
    const answer = await api('GET', `/v1/settlements?${query}`, undefined, { key: merchants().apiKey });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'validation_failed', field });
  });
});
