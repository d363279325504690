import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYOUT_ARRIVES_AFTER_SECONDS, PAYOUT_SCRIPTS } from '../../../../local/fake-provider/payouts.ts';
import { startFakeProvider, type FakeProvider } from '../../../../local/fake-provider/server.ts';
import { stripeRequest } from './http.ts';

let fake: FakeProvider;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'fake-payouts-'));
  fake = await startFakeProvider({ dataDir });
});
afterAll(async () => {
  await fake.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const payout = (params: Record<string, string>, idempotencyKey: string = randomUUID()) =>
  stripeRequest(fake.url, 'POST', '/v1/payouts', { params: { amount: '500', currency: 'usd', ...params }, idempotencyKey });
const retrieve = async (id: string) => (await stripeRequest(fake.url, 'GET', `/v1/payouts/${id}`)).json;

/** Waits out whole seconds of the fake's clock: what moves a payout on. */
const secondsPass = (seconds: number) => sleep(seconds * 1000 + 1100);

describe('fake provider payouts', () => {
  it('makes a pending payout that travels to paid as time passes', async () => {
    // Act
    const { status, json: made } = await payout({ 'metadata[payout_no]': 'po_a' });
    await secondsPass(PAYOUT_ARRIVES_AFTER_SECONDS);
    const later = await retrieve(made.id);

    // Assess
    expect(status).toBe(200);
    expect(made).toMatchObject({ object: 'payout', status: 'pending', amount: 500, currency: 'usd', metadata: { payout_no: 'po_a' } });
    expect(made.id).toMatch(/^po_/);
    expect(made.balance_transaction).toMatch(/^txn_/);
    expect(later).toMatchObject({ status: 'paid', failure_code: null, failure_balance_transaction: null });
  });

  it('answers a repeat under the same key with the same payout, and refuses the key with other parameters', async () => {
    // Prepare
    const key = randomUUID();

    // Act
    const first = await payout({}, key);
    const repeat = await payout({}, key);
    const other = await payout({ amount: '501' }, key);

    // Assess
    expect(repeat.json.id).toBe(first.json.id);
    expect(repeat.headers.get('Idempotent-Replayed')).toBe('true');
    expect(other.status).toBe(400);
    expect(fake.ledger().payouts.filter((p) => p.id === first.json.id)).toHaveLength(1);
  });

  it.each([
    [PAYOUT_SCRIPTS.fails, 'failed', 'account_closed'],
    [PAYOUT_SCRIPTS.canceled, 'canceled', null],
  ])('ends a payout described %s as %s, its amount given back by a balance transaction', async (description, status, failureCode) => {
    // Act
    const { json: made } = await payout({ description });
    await secondsPass(PAYOUT_ARRIVES_AFTER_SECONDS);
    const ended = await retrieve(made.id);

    // Assess
    expect(ended).toMatchObject({ status, failure_code: failureCode });
    expect(ended.failure_balance_transaction).toMatch(/^txn_/);
  });

  it('holds a payout pending until the test settles it, and refuses to settle it twice', async () => {
    // Prepare
    const { json: made } = await payout({ description: PAYOUT_SCRIPTS.held });
    await secondsPass(PAYOUT_ARRIVES_AFTER_SECONDS);
    const held = await retrieve(made.id);

    // Act
    const settled = await fetch(`${fake.url}/_fake/payouts/${made.id}/settle`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 'failed', failure_code: 'no_account' }),
    });
    const again = await fetch(`${fake.url}/_fake/payouts/${made.id}/settle`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 'paid' }),
    });

    // Assess
    expect(held.status).toBe('pending');
    expect(settled.status).toBe(200);
    expect(await retrieve(made.id)).toMatchObject({ status: 'failed', failure_code: 'no_account' });
    expect(again.status).toBe(400);
  });

  it('keeps its payouts across a restart', async () => {
    // Prepare
    const { json: made } = await payout({ description: PAYOUT_SCRIPTS.held });
    await fake.close();

    // Act
    fake = await startFakeProvider({ dataDir });
    const found = await retrieve(made.id);

    // Assess
    expect(found).toMatchObject({ id: made.id, status: 'pending', amount: 500 });
  });

  it('refuses an unknown payout with Stripe’s resource_missing', async () => {
    // Act
    const { status, json } = await stripeRequest(fake.url, 'GET', '/v1/payouts/po_missing');

    // Assess
    expect(status).toBe(404);
    expect(json.error.code).toBe('resource_missing');
  });
});
