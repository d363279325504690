import { appendFile, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IdempotencyRecord, PaymentIntentRecord } from '../../../../local/fake-provider/ledger.ts';
import { startFakeProvider } from '../../../../local/fake-provider/server.ts';
import { StateStore } from '../../../../local/fake-provider/state-store.ts';
import { authorizeParams, stripeRequest } from './http.ts';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fake-provider-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

const snapshotFile = () => join(dataDir, 'fake-provider-state.json');
const journalFile = () => join(dataDir, 'fake-provider-journal.jsonl');
const journalLines = async () => (await readFile(journalFile(), 'utf8')).split('\n').slice(0, -1);

/** An idempotency record, as much of one as the store needs. */
const kept = (key: string, at: number) => ({ apiKey: 'sk_test_x', key, at }) as IdempotencyRecord;

/** Two PaymentIntents, one captured, under keys, with the answers a restart must keep. */
async function someHistory(url: string) {
  const params = authorizeParams('pm_card_visa', 'P-history');
  const first = await stripeRequest(url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'history-1' });
  await stripeRequest(url, 'POST', `/v1/payment_intents/${first.json.id}/capture`, { idempotencyKey: 'history-2' });
  await stripeRequest(url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa', 'P-other'), idempotencyKey: 'history-3' });
  return { params, first };
}

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

  it('reopens identical after every kind of change: captures, refunds settled by time and by hand, a lapsed authorization, declines', async () => {
    // Prepare
    const fake = await startFakeProvider({ dataDir });
    const post = (path: string, params: Record<string, string>, idempotencyKey: string) =>
      stripeRequest(fake.url, 'POST', path, { params, idempotencyKey });
    const captured = await post('/v1/payment_intents', authorizeParams('pm_card_visa', 'P-captured'), 'k-create');
    await post(`/v1/payment_intents/${captured.json.id}/capture`, {}, 'k-capture');
    fake.faults.apply({ pendingRefunds: [{ count: 1, settle: { status: 'succeeded', afterSeconds: 1 } }, { count: 1 }] });
    const byTime = await post('/v1/refunds', { payment_intent: captured.json.id, amount: '500' }, 'k-refund-1');
    const byHand = await post('/v1/refunds', { payment_intent: captured.json.id, amount: '400' }, 'k-refund-2');
    await fake.settleRefund(byHand.json.id, 'failed', 'expired_or_canceled_card');
    fake.faults.apply({ authorizationWindowSeconds: 1 });
    const lapsing = await post('/v1/payment_intents', { ...authorizeParams('pm_card_visa', 'P-lapsing'), 'expand[0]': 'latest_charge' }, 'k-lapsing');
    const declined = await post('/v1/payment_intents', authorizeParams('pm_card_chargeDeclined', 'P-declined'), 'k-declined');
    // Both the authorization and the pending refund end by themselves, seen by the next request.
    const deadline = lapsing.json.latest_charge.payment_method_details.card.capture_before as number;
    await sleep(Math.max(0, deadline * 1000 - Date.now()) + 1100);
    const lapsed = await stripeRequest(fake.url, 'GET', `/v1/payment_intents/${lapsing.json.id}`);
    const ledgerBefore = fake.ledger();
    await fake.close();

    // Act
    const reopened = await startFakeProvider({ dataDir });
    const replayed = await stripeRequest(reopened.url, 'POST', '/v1/payment_intents', {
      params: authorizeParams('pm_card_chargeDeclined', 'P-declined'),
      idempotencyKey: 'k-declined',
    });
    const ledgerAfter = reopened.ledger();
    await reopened.close();

    // Assess
    expect(lapsed.json).toMatchObject({ status: 'canceled', cancellation_reason: 'automatic' });
    expect(ledgerBefore.refunds.map((refund) => refund.status)).toEqual(['succeeded', 'failed']);
    expect(ledgerAfter).toEqual(ledgerBefore);
    expect(declined.status).toBe(402);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.text).toBe(declined.text);
    expect(byTime.json.status).toBe('pending');
  });

  it('writes for a request what it changed, not the ledger', async () => {
    // Prepare
    const fake = await startFakeProvider({ dataDir });
    const created = [];
    for (let i = 0; i < 20; i += 1) {
      created.push((await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa', `P-${i}`) })).json.id as string);
    }
    const [target, ...others] = created;

    // Act
    await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${target}/capture`, { idempotencyKey: 'capture-one' });
    await fake.close();

    // Assess
    const last = (await journalLines()).at(-1)!;
    expect(Object.keys(JSON.parse(last) as object).sort()).toEqual(['idempotency', 'ledger.calls', 'ledger.paymentIntents']);
    expect(last).toContain(target);
    expect(others.filter((id) => last.includes(id))).toEqual([]);
  });

  it('ignores a torn last line: its save never completed, so its answer never left', async () => {
    // Prepare
    const before = await startFakeProvider({ dataDir });
    const { params, first } = await someHistory(before.url);
    const ledgerBefore = before.ledger();
    await before.close();
    await appendFile(journalFile(), '{"ledger.paymentIntents":{"upsert":[[2,{"id":"pi_torn","amou');

    // Act
    const after = await startFakeProvider({ dataDir });
    const replay = await stripeRequest(after.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'history-1' });
    const ledgerAfter = after.ledger();
    await after.close();
    const again = await startFakeProvider({ dataDir });
    await again.close();

    // Assess
    expect(ledgerAfter).toEqual(ledgerBefore);
    expect(replay.text).toBe(first.text);
    // Opening rewrote the journal: the torn bytes are gone, and the next opening reads clean lines.
    expect(await readFile(journalFile(), 'utf8')).not.toContain('pi_torn');
    expect(again.ledger()).toEqual(ledgerBefore);
  });

  it('opens a data dir written as one whole-state file, with or without call records', async () => {
    // Prepare: the state file as the store wrote it before the journal, whole, without a generation.
    const before = await startFakeProvider({ dataDir });
    const { params, first } = await someHistory(before.url);
    const ledgerBefore = before.ledger();
    await before.close();
    // Opening folds the journal into the snapshot.
    await (await startFakeProvider({ dataDir })).close();
    const { ledger, idempotency } = JSON.parse(await readFile(snapshotFile(), 'utf8')) as { ledger: Record<string, unknown>; idempotency: unknown };
    await rm(journalFile());
    await writeFile(snapshotFile(), JSON.stringify({ ledger, idempotency }, null, 2));
    const olderDir = await mkdtemp(join(tmpdir(), 'fake-provider-'));
    await writeFile(join(olderDir, 'fake-provider-state.json'), JSON.stringify({ ledger: { ...ledger, calls: undefined }, idempotency }));

    // Act
    const after = await startFakeProvider({ dataDir });
    const replay = await stripeRequest(after.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'history-1' });
    await after.close();
    const older = await startFakeProvider({ dataDir: olderDir });
    await older.close();
    await rm(olderDir, { recursive: true, force: true });

    // Assess
    expect(after.ledger()).toEqual(ledgerBefore);
    expect(replay.text).toBe(first.text);
    expect(older.ledger()).toEqual({ ...ledgerBefore, calls: [] });
  });

  it('ignores a journal its snapshot already holds: the process died between writing the two', async () => {
    // Prepare: a journal with a removal, whose numbers mean other records once folded into a snapshot.
    const first = await StateStore.open(dataDir);
    first.state.idempotency.push(kept('a', 1), kept('b', 2), kept('c', 3));
    await first.close();
    const second = await StateStore.open(dataDir);
    second.state.idempotency.splice(0, 1);
    second.state.idempotency.push(kept('d', 4));
    await second.close();
    const foldedJournal = await readFile(journalFile(), 'utf8');
    await (await StateStore.open(dataDir)).close();
    // As a crash after the new snapshot and before the new journal leaves it.
    await writeFile(journalFile(), foldedJournal);

    // Act
    const reopened = await StateStore.open(dataDir);
    await reopened.close();

    // Assess
    expect(reopened.state.idempotency.map((record) => record.key)).toEqual(['b', 'c', 'd']);
  });

  it('refuses to open a journal damaged before its last line', async () => {
    // Prepare
    const before = await startFakeProvider({ dataDir });
    await someHistory(before.url);
    await before.close();
    const [header, ...saves] = await journalLines();
    await writeFile(journalFile(), [header, 'not json', ...saves, ''].join('\n'));

    // Act
    const opening = startFakeProvider({ dataDir });

    // Assess
    await expect(opening).rejects.toThrow(/line 2 is not JSON/);
  });

  it('persists a change made where nobody reports it, deep inside a record or by a splice', async () => {
    // Prepare
    const store = await StateStore.open(dataDir);
    const pi = { id: 'pi_1', amount: 100, captures: [], metadata: {} } as unknown as PaymentIntentRecord;
    store.state.ledger.paymentIntents.push(pi);
    store.state.idempotency.push(kept('old', 1), kept('new', 2));
    await store.save();

    // Act
    const tracked = store.state.ledger.paymentIntents[0]!;
    tracked.captures.push({ amount: 60, at: 3 });
    Object.assign(tracked.metadata, { order: 'o-1' });
    store.state.idempotency.splice(0, 1);
    await store.save();
    await store.close();
    const reopened = await StateStore.open(dataDir);
    await reopened.close();

    // Assess
    expect(reopened.ledger().paymentIntents).toEqual([{ id: 'pi_1', amount: 100, captures: [{ amount: 60, at: 3 }], metadata: { order: 'o-1' } }]);
    expect(reopened.state.idempotency.map((record) => record.key)).toEqual(['new']);
  });

  it('takes back a write that failed halfway and writes its changes with the next save', async () => {
    // Prepare: the disk fills up in the middle of the next append.
    const store = await StateStore.open(dataDir);
    const probe = await open(journalFile(), 'r');
    const fileHandle = Object.getPrototypeOf(probe) as { appendFile: (data: Buffer) => Promise<void> };
    await probe.close();
    const appendFile = fileHandle.appendFile;
    fileHandle.appendFile = async function (this: unknown, data: Buffer) {
      fileHandle.appendFile = appendFile;
      await appendFile.call(this, data.subarray(0, data.length >> 1));
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    };
    store.state.idempotency.push(kept('first', 1));

    // Act
    let failed: string;
    try {
      failed = await store.save().then(() => 'saved', (error: Error) => error.message);
    } finally {
      fileHandle.appendFile = appendFile;
    }
    store.state.idempotency.push(kept('second', 2));
    await store.save();
    await store.close();
    const reopened = await StateStore.open(dataDir);
    await reopened.close();

    // Assess
    expect(failed).toBe('no space left on device');
    expect(reopened.state.idempotency.map((record) => record.key)).toEqual(['first', 'second']);
  });

  it('replays a kept answer only once the write that keeps it is done', async () => {
    // Prepare: the first request's write is held until released.
    const fake = await startFakeProvider({ dataDir });
    const probe = await open(journalFile(), 'r');
    const fileHandle = Object.getPrototypeOf(probe) as { appendFile: (data: Buffer) => Promise<void> };
    await probe.close();
    const appendFile = fileHandle.appendFile;
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding = () => {};
    const held = new Promise<void>((resolve) => (holding = resolve));
    fileHandle.appendFile = async function (this: unknown, data: Buffer) {
      fileHandle.appendFile = appendFile;
      holding();
      await released;
      await appendFile.call(this, data);
    };
    const params = authorizeParams('pm_card_visa', 'P-held');
    let answered = false;

    // Act
    const first = stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'held' });
    await held;
    const retry = stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params, idempotencyKey: 'held' });
    void retry.then(() => (answered = true));
    // Ample time for a replay straight from memory to come back.
    await sleep(300);
    const answeredWhileHeld = answered;
    release();
    fileHandle.appendFile = appendFile;
    const [firstAnswer, retryAnswer] = await Promise.all([first, retry]);
    await fake.close();

    // Assess
    expect(answeredWhileHeld).toBe(false);
    expect(retryAnswer.text).toBe(firstAnswer.text);
    expect(retryAnswer.headers.get('idempotent-replayed')).toBe('true');
  });

  it('leaves only the snapshot and the journal behind, no temporary files', async () => {
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
    expect((await readdir(dataDir)).sort()).toEqual(['fake-provider-journal.jsonl', 'fake-provider-state.json']);
    const reloaded = await startFakeProvider({ dataDir });
    expect(reloaded.ledger().paymentIntents).toHaveLength(5);
    await reloaded.close();
  });
});
