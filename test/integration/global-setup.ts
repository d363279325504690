import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { EnvVar } from '../../functions/config/env.ts';
import { type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import type { Target } from '../support/target.ts';

/**
 * The integration suite talks HTTP to a running stack. With API_URL and API_KEY (and
 * OTHER_API_KEY, a second merchant's key) set it targets that stack (LocalStack, a deployed
 * one); PROVIDER_URL names its Stripe-compatible fake, when it has one, for the ledger and
 * fault checks, and DEPLOYMENT_ID the stack's tag on its charges; SHORT_HOLD_API_KEY, a merchant
 * whose carts hold seats for a few seconds, for the tests that need a cart to expire.
 * Otherwise it starts the local stack itself, in memory.
 */
/** Long enough for a test to fill a cart, short enough to wait for its expiry. */
const SHORT_HOLD_SECONDS = 3;

export default async function setup(project: TestProject) {
  const { API_URL, API_KEY, OTHER_API_KEY, PROVIDER_URL, DEPLOYMENT_ID, SHORT_HOLD_API_KEY } = process.env;
  if (API_URL && API_KEY) {
    if (!OTHER_API_KEY) throw new Error('set OTHER_API_KEY (a second merchant) along with API_URL and API_KEY');
    project.provide('target', {
      apiUrl: API_URL.replace(/\/$/, ''),
      apiKey: API_KEY,
      otherApiKey: OTHER_API_KEY,
      ...(PROVIDER_URL && { providerUrl: PROVIDER_URL }),
      ...(DEPLOYMENT_ID && { deploymentId: DEPLOYMENT_ID }),
      ...(SHORT_HOLD_API_KEY && { shortHoldApiKey: SHORT_HOLD_API_KEY }),
    });
    return;
  }

  // Declines and injected faults are the suite's daily bread: keep their logs out of the report.
  process.env.POWERTOOLS_LOG_LEVEL ??= process.env.DEBUG_LOCAL_STACK ? 'INFO' : 'ERROR';
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-it-'));
  const stack = await startLocalStack({
    dataDir,
    port: 0,
    inMemory: true,
    reconcileEveryMs: 1000,
    reconcileAfterSeconds: 10,
    // Every write, start and provider call a function makes must pass a crash point (functions/crash/).
    crashAudit: true,
    // Retries keep their backoff and jitter, on intervals short enough for a test.
    retryIntervalScale: 0.05,
    log: (line) => process.env.DEBUG_LOCAL_STACK && console.log(line),
  });
  const otherApiKey = await stack.addMerchant({ merchantId: 'merchant_other', name: 'Another merchant' });
  const shortHoldApiKey = await stack.addMerchant({
    merchantId: 'merchant_short_holds',
    name: 'Carts that expire in seconds',
    cartHoldSeconds: SHORT_HOLD_SECONDS,
  });
  const ledger = { merchantId: 'merchant_ledger', instantMerchantId: 'merchant_ledger_instant', payoutMerchantId: 'merchant_payouts' };
  const ledgerKeys = {
    apiKey: await stack.addMerchant({ merchantId: ledger.merchantId, name: 'Ledger, default terms' }),
    instantApiKey: await stack.addMerchant({ merchantId: ledger.instantMerchantId, name: 'Ledger, funds at once', ledger: { payoutDelayDays: 0 } }),
    payoutApiKey: await stack.addMerchant({ merchantId: ledger.payoutMerchantId, name: 'Payouts, funds at once', ledger: { payoutDelayDays: 0 } }),
  };
  const settlements = {
    merchantId: 'merchant_settlements',
    timeZone: 'Asia/Tokyo',
    apiKey: await stack.addMerchant({ merchantId: 'merchant_settlements', name: 'Settled in Tokyo', ledger: { timeZone: 'Asia/Tokyo' } }),
    strayMerchantId: 'merchant_settlements_stray',
    strayApiKey: await stack.addMerchant({ merchantId: 'merchant_settlements_stray', name: 'Charged behind the ledger' }),
  };
  const invoker = await startInvoker(stack);
  const target: Target = {
    apiUrl: stack.apiUrl,
    apiKey: stack.apiKey,
    otherApiKey,
    shortHoldApiKey,
    providerUrl: stack.providerUrl,
    deploymentId: stack.environmentOf('Reconciler')[EnvVar.DeploymentId]!,
    ledger: { ...ledger, ...ledgerKeys },
    table: { endpoint: stack.dynamoDbEndpoint, name: stack.tableName },
    invokeUrl: invoker.url,
    settlements,
  };
  project.provide('target', target);

  return async () => {
    const unguarded = stack.auditViolations();
    const givenUp = stack.streamFailures();
    await invoker.close();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (unguarded.length > 0) {
      throw new Error(`${unguarded.length} state-changing calls passed no crash point:\n${unguarded.join('\n')}`);
    }
    if (givenUp.length > 0) throw new Error(`the ledger's stream gave up on records:\n${givenUp.map((f) => JSON.stringify(f)).join('\n')}`);
  };
}

/**
 * `POST <url>/<construct id>` with an event invokes that function of the stack directly, as a
 * person does with `aws lambda invoke` (a settlement for a chosen date): the tests run in other
 * processes than the stack, and talk to it over HTTP only. Answers the function's result, or
 * 500 with its error.
 */
async function startInvoker(stack: LocalStack): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const constructId = decodeURIComponent((req.url ?? '/').slice(1));
      const answer = (status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body ?? null));
      Promise.resolve()
        .then(() => stack.invoke(constructId, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')))
        .then(
          (result) => answer(200, result),
          (error: unknown) => answer(500, { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
