import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProvider } from '../../../../local/fake-provider/server.ts';
import { authorizeParams, stripeRequest } from './http.ts';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fake-provider-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

describe('fake provider persistence', () => {
  it('keeps the ledger across a restart', async () => {
    // Prepare
    const before = await startFakeProvider({ dataDir });
    const created = await stripeRequest(before.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa', 'P-persist') });
    await stripeRequest(before.url, 'POST', `/v1/payment_intents/${created.json.id}/capture`);
    const ledgerBefore = before.ledger();
    await before.close();

    // Act
    const after = await startFakeProvider({ dataDir });
    const retrieved = await stripeRequest(after.url, 'GET', `/v1/payment_intents/${created.json.id}`);
    await after.close();

    // Assess
    expect(after.ledger()).toEqual(ledgerBefore);
    expect(retrieved.json).toMatchObject({ status: 'succeeded', amount_received: 1500 });
  });

  it('replays an idempotent answer given before the restart', async () => {
    // Prepare
    const params = authorizeParams('pm_card_visa', 'P-persist-key');
    const before = await startFakeProvider({ dataDir });
    const first = await stripeRequest(before.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'survives' });
    await before.close();

    // Act
    const after = await startFakeProvider({ dataDir });
    const replay = await stripeRequest(after.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'survives' });
    await after.close();

    // Assess
    expect(replay.text).toBe(first.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(after.ledger().paymentIntents).toHaveLength(1);
  });

  it('leaves only the state file behind, no temporary files', async () => {
    // Prepare
    const fake = await startFakeProvider({ dataDir });

    // Act
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa', `P-${i}`) }),
      ),
    );
    await fake.close();

    // Assess
    expect(await readdir(dataDir)).toEqual(['fake-provider-state.json']);
    const reloaded = await startFakeProvider({ dataDir });
    expect(reloaded.ledger().paymentIntents).toHaveLength(5);
    await reloaded.close();
  });
});
