import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client.ts';
import { DynamoLedgerStore } from '../../functions/adapters/dynamodb/ledger-store.ts';
import { ledger as providerLedger } from '../../local/fake-provider/client.ts';
import { localClientConfig } from '../../local/services/dynamodb-local.ts';
import { stackLedgerViolations } from '../support/invariants/stack-ledger.ts';
import { FEE, balance, captured, eventually, ledgerOf, usd } from '../support/ledger-api.ts';
import { PAYOUT_SCRIPTS } from '../../local/fake-provider/payouts.ts';
import { api, invoke, target } from '../support/target.ts';

const payout = (key: string, body: Record<string, unknown>, idempotencyKey: string = randomUUID()) =>
  api('POST', '/v1/payouts', body, { key, headers: { 'Idempotency-Key': idempotencyKey } });

/** Funds made available to the payout merchant: a capture of `amount`, once its net is in `available`. */
async function funded(key: string, amount: number): Promise<number> {
  const before = usd((await balance(key)).available);
  await captured(key, amount);
  const net = amount - FEE(amount);
  await eventually(() => balance(key), (b) => usd(b.available) === before + net, 'the capture available');
  return before + net;
}

const getPayout = async (key: string, payoutNo: string) => (await api('GET', `/v1/payouts/${payoutNo}`, undefined, { key })).body;

/** The keys of the merchant's journal transactions, from the stack's table. */
async function journalKeysOf(merchantId: string): Promise<string[]> {
  const { table } = target();
  if (table === undefined) throw new Error('the payout tests read the journal from the local stack’s table');
  const db = createDocumentClient(new DynamoDBClient({ ...localClientConfig, endpoint: table.endpoint }));
  try {
    return (await new DynamoLedgerStore(db, table.name).journal(merchantId)).map((t) => t.key);
  } finally {
    db.destroy();
  }
}

/**
 * After each test, once every payout of the payout merchant is final (the invariants hold the
 * ledger's payouts to the provider's, which a saga mid-way has not caught up with): the ledger's
 * invariants for that merchant, against the provider's ledger and the journal in the table.
 */
afterEach(async () => {
  const { providerUrl, table } = target();
  if (providerUrl === undefined || table === undefined) return;
  const key = ledgerOf().payoutApiKey;
  await eventually(
    async () => (await api('GET', '/v1/payouts?limit=100', undefined, { key })).body.data.filter((p: { status: string }) => p.status === 'pending' || p.status === 'in_transit').length,
    (travelling) => travelling === 0,
    'the payouts final',
  );
  expect(await stackLedgerViolations({ providerUrl, table }, [ledgerOf().payoutMerchantId])).toEqual([]);
});

describe('payouts', () => {
  it('pays out exactly what is available to 20 concurrent requests: 5 made, 15 refused, nothing below zero', async () => {
    // Prepare: an available balance that covers five payouts and not a sixth.
    const { payoutApiKey: key } = ledgerOf();
    const available = await funded(key, 1000);
    const amount = Math.floor(available / 5);

    // Act
    const answers = await Promise.all(Array.from({ length: 20 }, () => payout(key, { amount, currency: 'usd' })));
    const after = await balance(key);

    // Assess
    const made = answers.filter((a) => a.status === 201 || a.status === 202);
    const refused = answers.filter((a) => a.status === 409);
    expect(made).toHaveLength(5);
    expect(refused).toHaveLength(15);
    for (const answer of refused) expect(answer.body.error).toMatchObject({ code: 'insufficient_funds', field: 'amount' });
    expect(usd(after.available)).toBe(available - 5 * amount);
    expect(usd(after.available)).toBeGreaterThanOrEqual(0);
    for (const { body } of made) expect(body).toMatchObject({ object: 'payout', amount, currency: 'USD', payout_no: body.id });
  });

  it('moves the amount to in_payout with a negative balance transaction, and answers a repeat with the same payout', async () => {
    // Prepare
    const { payoutApiKey: key } = ledgerOf();
    await funded(key, 600);
    const before = await balance(key);
    const idempotencyKey = randomUUID();

    // Act
    const first = await payout(key, { amount: 300, currency: 'USD', description: 'weekly' }, idempotencyKey);
    const repeat = await payout(key, { amount: 300, currency: 'USD', description: 'weekly' }, idempotencyKey);
    const otherAmount = await payout(key, { amount: 301, currency: 'USD', description: 'weekly' }, idempotencyKey);
    const after = await balance(key);
    const [transaction] = (await api('GET', '/v1/balance_transactions?limit=1', undefined, { key })).body.data;
    const got = await api('GET', `/v1/payouts/${first.body.payout_no}`, undefined, { key });
    const asOther = await api('GET', `/v1/payouts/${first.body.payout_no}`, undefined, { key: target().otherApiKey });

    // Assess
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ object: 'payout', amount: 300, currency: 'USD', status: 'pending', description: 'weekly', balance_transaction: transaction.id });
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get('Idempotent-Replayed')).toBe('true');
    expect(repeat.body).toEqual(first.body);
    expect(otherAmount.status).toBe(409);
    expect(otherAmount.body.error).toMatchObject({ code: 'idempotency_key_mismatch', field: 'amount' });
    expect(usd(after.available)).toBe(usd(before.available) - 300);
    // Every earlier payout is final (see afterEach), and the provider pays this one two seconds on at the soonest.
    expect(usd(before.in_payout)).toBe(0);
    expect(usd(after.in_payout)).toBe(300);
    expect(transaction).toMatchObject({ type: 'payout', source: first.body.payout_no, amount: -300, fee: 0, net: -300 });
    expect(got.status).toBe(200);
    expect(got.body.payout_no).toBe(first.body.payout_no);
    expect(asOther.status).toBe(404);
  });

  it('lists payouts newest first, a page at a time, only the merchant’s own', async () => {
    // Prepare
    const { payoutApiKey: key } = ledgerOf();
    await funded(key, 400);
    for (const amount of [10, 11]) expect((await payout(key, { amount, currency: 'USD' })).status).toBe(201);

    // Act
    const all = (await api('GET', '/v1/payouts?limit=100', undefined, { key })).body;
    const first = (await api('GET', '/v1/payouts?limit=1', undefined, { key })).body;
    const second = (await api('GET', `/v1/payouts?limit=1&starting_after=${first.data[0].id}`, undefined, { key })).body;
    const asOther = await api('GET', `/v1/payouts?starting_after=${first.data[0].id}`, undefined, { key: target().otherApiKey });

    // Assess
    expect(first.data[0].amount).toBe(11);
    expect(all.data.map((p: { created: number }) => p.created)).toEqual([...all.data.map((p: { created: number }) => p.created)].sort((a, b) => b - a));
    expect(first.has_more).toBe(true);
    expect(second.data[0].id).toBe(all.data[1].id);
    expect(asOther.status).toBe(400);
    expect(asOther.body.error).toMatchObject({ code: 'validation_failed', field: 'starting_after' });
  });

  it('pays a payout out through the provider: in_payout to paid_out, the provider’s payout recorded', async () => {
    // Prepare
    const { payoutApiKey: key } = ledgerOf();
    await funded(key, 500);

    // Act
    const made = await payout(key, { amount: 200, currency: 'USD' });
    const paid = await eventually(() => getPayout(key, made.body.payout_no), (p) => p.status === 'paid', 'the payout paid');
    const journal = await journalKeysOf(ledgerOf().payoutMerchantId);

    // Assess
    expect(made.status).toBe(201);
    expect(made.body.status).toBe('pending');
    expect(paid.arrival_date).toEqual(expect.any(Number));
    expect(journal).toContain(`payout_paid:${made.body.payout_no}`);
    expect(journal).not.toContain(`payout_reversal:${made.body.payout_no}`);
    const atProvider = (await providerLedger(target().providerUrl!)).payouts.filter((p) => p.metadata['payout_no'] === made.body.payout_no);
    expect(atProvider).toMatchObject([{ amount: 200, currency: 'usd', status: 'paid' }]);
  });

  it.each([
    [PAYOUT_SCRIPTS.fails, 'failed', 'account_closed', 'payout_failure'],
    [PAYOUT_SCRIPTS.canceled, 'canceled', null, 'payout_cancel'],
  ])('gives a payout the provider ends as %s back to available', async (description, status, failureCode, type) => {
    // Prepare
    const { payoutApiKey: key } = ledgerOf();
    await funded(key, 400);
    const before = usd((await balance(key)).available);

    // Act
    const made = await payout(key, { amount: 150, currency: 'USD', description });
    const ended = await eventually(() => getPayout(key, made.body.payout_no), (p) => p.status === status, `the payout ${status}`);
    const after = await balance(key);
    const [reversal] = (await api('GET', '/v1/balance_transactions?limit=1', undefined, { key })).body.data;

    // Assess
    expect(made.status).toBe(201);
    expect(ended.failure_code).toBe(failureCode);
    expect(usd(after.available)).toBe(before);
    expect(reversal).toMatchObject({ type, source: made.body.payout_no, amount: 150, net: 150 });
  });

  it.each([
    [{ amount: 0, currency: 'USD' }, 'amount'],
    [{ amount: 1.5, currency: 'USD' }, 'amount'],
    [{ amount: '10', currency: 'USD' }, 'amount'],
    [{ amount: 10, currency: 'XYZ' }, 'currency'],
    [{ amount: 10 }, 'currency'],
    [{ amount: 10, currency: 'USD', description: 'x'.repeat(256) }, 'description'],
    [{ amount: 10, currency: 'USD', destination: 'ba_1' }, 'destination'],
  ])('refuses %j with a 400 naming %s, nothing written', async (body, field) => {
    // Prepare
    const { payoutApiKey: key } = ledgerOf();
    const before = await balance(key);

    // Act
    const answer = await payout(key, body);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'validation_failed', field });
    expect(await balance(key)).toEqual(before);
  });

  it('refuses a payout without an Idempotency-Key, or in a currency the merchant never held', async () => {
    // Act
    const { payoutApiKey: key } = ledgerOf();
    const keyless = await api('POST', '/v1/payouts', { amount: 10, currency: 'USD' }, { key });
    const euros = await payout(key, { amount: 10, currency: 'EUR' });

    // Assess
    expect(keyless.status).toBe(400);
    expect(keyless.body.error).toMatchObject({ field: 'Idempotency-Key' });
    expect(euros.status).toBe(409);
    expect(euros.body.error).toMatchObject({ code: 'insufficient_funds', field: 'amount' });
  });

  it('settles the merchant’s day with every payout matched to the provider’s: made, paid, failed and canceled alike', async () => {
    // Prepare: the day's payouts of the tests before, all final (afterEach), and the captures that funded them.
    const { payoutMerchantId: merchantId, payoutApiKey: key } = ledgerOf();
    const date = new Date().toISOString().slice(0, 10);

    // Act: SettleDay by hand, with a clock two days on (the merchant's day, UTC, has ended).
    const run = await invoke('SettleDay', { time: new Date(Date.now() + 2 * 86_400_000).toISOString(), detail: { merchant_id: merchantId, date } });
    const [statement] = (await api('GET', `/v1/settlements?date=${date}`, undefined, { key })).body.data;

    // Assess
    expect(run).toMatchObject({ written: 1, failed: 0, mismatches: 0 });
    expect(statement.summary.map((row: { type: string }) => row.type)).toEqual(expect.arrayContaining(['charge', 'payout', 'payout_failure', 'payout_cancel']));
    expect(statement.reconciliation.mismatches).toEqual([]);
    expect(statement.reconciliation.matched).toBe(statement.transactions.length);
  });
});
