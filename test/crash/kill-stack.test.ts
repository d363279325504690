import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { armFaults, clearFaults } from '../../local/fake-provider/client.ts';
import { expectChargedExactlyAsRecorded } from '../support/invariants/provider-books.ts';

/** It starts whole stacks while a shard of the crash matrix runs beside it on the other core: a minute is not enough. */
const WHOLE_STACKS_TIMEOUT_MS = 240_000;

/**
 * The bluntest crash: `npm start` is killed with SIGKILL while payments are in flight, then
 * started again on the same data. Every payment must reach a terminal status, with the
 * provider's ledger agreeing to the cent.
 */
const projectRoot = path.resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-kill-'));
const outputsFile = path.join(dataDir, 'outputs.json');
const children: ChildProcess[] = [];

function startStack(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'local/start.ts')], {
    cwd: projectRoot,
    env: {
      ...process.env,
      PORT: '0',
      // Its ops page on a free port too: 3001 may be another stack's.
      OPS_PORT: '0',
      LOCAL_DATA_DIR: dataDir,
      RECONCILE_AFTER_SECONDS: '1',
      RECONCILE_EVERY_SECONDS: '0.5',
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

async function untilReady(child: ChildProcess): Promise<{ apiUrl: string; apiKey: string; providerUrl: string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Chargeonce is running locally')) {
    if (child.exitCode !== null) throw new Error(`the stack exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the stack did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return JSON.parse(readFileSync(outputsFile, 'utf8'));
}

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  const provider = path.join(dataDir, 'provider', 'process.json');
  if (existsSync(provider)) {
    try {
      process.kill(JSON.parse(readFileSync(provider, 'utf8')).pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  const dynamoPid = path.join(dataDir, 'dynamodb', 'dynamodb-local.pid');
  if (existsSync(dynamoPid)) {
    try {
      process.kill(Number(readFileSync(dynamoPid, 'utf8')), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 of the local stack', () => {
  it('brings every payment in flight to a terminal status on the next start, the ledger agreeing', async () => {
    // Prepare: a slow provider keeps the sagas in flight.
    const first = startStack();
    const { apiUrl, apiKey, providerUrl } = await untilReady(first);
    await armFaults(providerUrl, { latencyMs: 250 });
    const call = async (base: string, method: string, route: string, body?: unknown) => {
      const response = await fetch(`${base}${route}`, {
        method,
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return (await response.json()) as any;
    };
    const cards = ['pm_card_visa', 'pm_card_visa', 'pm_card_mastercard', 'pm_card_chargeDeclined'];
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call(apiUrl, 'POST', '/v1/payments', {
          order_no: `kill-${i}`,
          amount: 1000 + i,
          currency: 'EUR',
          payment_method: cards[i % cards.length],
        }),
      ),
    );

    const expected = new Map<string, string>(
      created.map((payment, i) => [payment.payment_no, cards[i % cards.length] === 'pm_card_chargeDeclined' ? 'failed' : 'succeeded']),
    );
    const before = await Promise.all(created.map((p) => call(apiUrl, 'GET', `/v1/payments/${p.payment_no}`)));
    expect(before.filter((p) => p.status === 'pending' || p.status === 'authorized').length).toBeGreaterThan(0);

    // Act
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    await clearFaults(providerUrl);
    const second = startStack();
    const restarted = await untilReady(second);

    // Assess
    expect(restarted.providerUrl).toBe(providerUrl);
    for (const { payment_no: paymentNo } of created) {
      const deadline = Date.now() + 60_000;
      let payment = await call(restarted.apiUrl, 'GET', `/v1/payments/${paymentNo}`);
      while (!['succeeded', 'failed', 'canceled'].includes(payment.status)) {
        if (Date.now() > deadline) throw new Error(`${paymentNo} still ${payment.status} after the restart`);
        await new Promise((resolve) => setTimeout(resolve, 200));
        payment = await call(restarted.apiUrl, 'GET', `/v1/payments/${paymentNo}`);
      }
      expect(payment.status).toBe(expected.get(paymentNo));
      expect(await expectChargedExactlyAsRecorded(providerUrl, payment)).toBeUndefined();
    }
    second.kill('SIGINT');
    await new Promise((resolve) => second.once('exit', resolve));
  }, WHOLE_STACKS_TIMEOUT_MS);
});
