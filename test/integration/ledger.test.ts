import { afterEach, describe, expect, it } from 'vitest';
import { stackLedgerViolations } from '../support/invariants/stack-ledger.ts';
import { FEE, balance, captured, eventually, ledgerOf, usd } from '../support/ledger-api.ts';
import { api, target, waitForRefunds } from '../support/target.ts';

const DAY_SECONDS = 86_400;

/** After each test: the ledger's invariants for both merchants, against the provider's ledger and the journal in the table. */
afterEach(async () => {
  const { providerUrl, table } = target();
  if (providerUrl === undefined || table === undefined) return;
  const { merchantId, instantMerchantId } = ledgerOf();
  expect(await stackLedgerViolations({ providerUrl, table }, [merchantId, instantMerchantId])).toEqual([]);
});

describe('the ledger', () => {
  it('holds a captured payment pending, less its fee, for two days', async () => {
    // Prepare
    const { apiKey: key } = ledgerOf();
    const before = usd((await balance(key)).pending);

    // Act
    const payment = await captured(key, 1000);
    const after = await eventually(() => balance(key), (b) => usd(b.pending) === before + 941, 'the capture in pending');
    const list = await api('GET', '/v1/balance_transactions?limit=1', undefined, { key });

    // Assess
    expect(after.object).toBe('balance');
    expect(list.status).toBe(200);
    const [charge] = list.body.data;
    expect(charge).toMatchObject({ object: 'balance_transaction', type: 'charge', amount: 1000, fee: FEE(1000), net: 1000 - FEE(1000), currency: 'USD', status: 'pending' });
    expect(charge.available_on - charge.created).toBe(2 * DAY_SECONDS);
    expect(charge.source).toMatch(/^pi_/);
    expect(payment.status).toBe('succeeded');
  });

  it('makes funds available once the merchant’s delay has passed, by the schedule', async () => {
    // Prepare: this merchant's delay is zero days, so the schedule's next run releases them.
    const { instantApiKey: key } = ledgerOf();
    const before = usd((await balance(key)).available);

    // Act
    await captured(key, 2000);
    const after = await eventually(() => balance(key), (b) => usd(b.available) === before + 2000 - FEE(2000), 'the funds available');

    // Assess
    expect(usd(after.pending)).toBe(0);
    const [charge] = (await api('GET', '/v1/balance_transactions?limit=1', undefined, { key })).body.data;
    expect(charge).toMatchObject({ type: 'charge', status: 'available', net: 2000 - FEE(2000) });
  });

  it('takes a refund from the merchant’s balance, keeping the fee', async () => {
    // Prepare
    const { apiKey: key } = ledgerOf();
    const payment = await captured(key, 1500);
    const start = await eventually(() => balance(key), () => true, 'the balance');
    await eventually(
      async () => (await api('GET', '/v1/balance_transactions?limit=1', undefined, { key })).body.data[0]?.amount,
      (amount) => amount === 1500,
      'the capture posted',
    );
    const pendingBefore = usd((await balance(key)).pending);

    // Act
    const refund = await api('POST', '/v1/refunds', { payment_no: payment.payment_no, amount: 500, operator_id: 'op-ledger' }, { key });
    await waitForRefunds(payment.payment_no, { key });
    const after = await eventually(() => balance(key), (b) => usd(b.pending) === pendingBefore - 500, 'the refund posted');

    // Assess
    expect(refund.status).toBe(201);
    expect(start.object).toBe('balance');
    const [posted] = (await api('GET', '/v1/balance_transactions?limit=1', undefined, { key })).body.data;
    expect(posted).toMatchObject({ type: 'refund', source: refund.body.refund_no, amount: -500, fee: 0, net: -500, status: 'available' });
    expect(usd(after.available)).toBeGreaterThanOrEqual(0);
  });

  it('lists balance transactions newest first, a page at a time, only the merchant’s own', async () => {
    // Prepare: the merchant no test refunds. With the other one, a refund's transaction once showed
    // up between the full list and its pages, dated after this capture though the refund test had
    // seen it posted (issue 12's closing note): to be explained, not waited away here.
    const { instantApiKey: key } = ledgerOf();
    await captured(key, 700);
    await eventually(
      async () => (await api('GET', '/v1/balance_transactions?limit=100', undefined, { key })).body.data.length,
      (n) => n >= 2,
      'two balance transactions',
    );

    // Act
    const all = (await api('GET', '/v1/balance_transactions?limit=100', undefined, { key })).body;
    const first = (await api('GET', '/v1/balance_transactions?limit=1', undefined, { key })).body;
    const second = (await api('GET', `/v1/balance_transactions?limit=1&starting_after=${first.data[0].id}`, undefined, { key })).body;
    const asOther = await api('GET', `/v1/balance_transactions?starting_after=${first.data[0].id}`, undefined, { key: target().otherApiKey });

    // Assess
    expect(all.data.map((t: { created: number }) => t.created)).toEqual([...all.data.map((t: { created: number }) => t.created)].sort((a, b) => b - a));
    expect(first.has_more).toBe(true);
    expect(second.data[0].id).toBe(all.data[1].id);
    expect(asOther.status).toBe(400);
    expect(asOther.body.error).toMatchObject({ code: 'validation_failed', field: 'starting_after' });
    const others = (await api('GET', '/v1/balance_transactions?limit=100', undefined, { key: target().otherApiKey })).body.data;
    expect(others.map((t: { id: string }) => t.id)).not.toContain(first.data[0].id);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['starting_after=txn_nope', 'starting_after'],
    ['starting_after=', 'starting_after'],
    ['ending_before=txn_x', 'ending_before'],
  ])('refuses ?%s with a 400 naming %s', async (query, field) => {
    // Act
    const answer = await api('GET', `/v1/balance_transactions?${query}`, undefined, { key: ledgerOf().apiKey });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'validation_failed', field });
  });
});
