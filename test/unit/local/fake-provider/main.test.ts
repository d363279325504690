import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../../../../local/fake-provider/server.ts';
import { authorizeParams, stripeRequest } from './http.ts';

const mainPath = fileURLToPath(new URL('../../../../local/fake-provider/main.ts', import.meta.url));

function runMain(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ['--import', 'tsx', mainPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve((JSON.parse(line) as { providerUrl: string }).providerUrl);
    });
    void exited.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  // A run that is expected to fail never becomes ready; nobody awaits that rejection.
  ready.catch(() => undefined);
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

describe('fake provider CLI', () => {
  let holder: FakeProvider;

  beforeAll(async () => {
    holder = await startFakeProvider({});
  });
  afterAll(() => holder.close());

  it('prints its URL as one JSON line and exits 0 on SIGTERM', async () => {
    // Prepare
    const run = runMain({ PORT: '0' });
    const url = await run.ready;

    // Act
    const ledger = await (await fetch(`${url}/_fake/ledger`)).json();
    run.child.kill('SIGTERM');

    // Assess
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ledger).toEqual({ paymentIntents: [], refunds: [], payouts: [], calls: [] });
    expect(await run.exited).toBe(0);
  });

  it.each([
    ['the flag', ['--require-idempotency-key'], {}],
    ['FAKE_PROVIDER_REQUIRE_IDEMPOTENCY_KEY', [], { FAKE_PROVIDER_REQUIRE_IDEMPOTENCY_KEY: 'true' }],
  ])('requires idempotency keys when %s says so', async (_, args, env) => {
    // Prepare
    const run = runMain({ PORT: '0', ...env }, args);
    const url = await run.ready;

    // Act
    const keyless = await stripeRequest(url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa') });
    run.child.kill('SIGTERM');

    // Assess
    expect(keyless.json.error.code).toBe('idempotency_key_required');
    expect(await run.exited).toBe(0);
  });

  it('explains a busy port and exits 1', async () => {
    // Act
    const run = runMain({ PORT: String(holder.port) });
    const code = await run.exited;

    // Assess
    expect(code).toBe(1);
    expect(run.output().stderr).toContain(`port ${holder.port}`);
    expect(run.output().stderr).toContain('already in use');
  });
});
