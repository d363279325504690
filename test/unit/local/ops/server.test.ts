import { afterEach, describe, expect, it } from 'vitest';
import { type OpsServer, startOpsServer } from '../../../../local/ops/server.ts';
import type { OpsStack } from '../../../../local/ops/views.ts';

/** A stack the server must not reach: every request here is refused or answered before it would be. */
const unreachable = 'http://127.0.0.1:9';
const armed: (string | undefined)[] = [];
const stack: OpsStack = {
  apiUrl: unreachable,
  apiKey: 'co_test_unused',
  providerUrl: unreachable,
  stepFunctionsEndpoint: unreachable,
  templateOutputs: {},
  setCrashAt: (value) => armed.push(value),
  metricTotals: () => [{ name: 'Http2xx', dimensions: { route: 'CreatePayment' }, unit: 'Count', sum: 2, samples: 2 }],
};

let server: OpsServer | undefined;

afterEach(async () => {
  await server?.close();
  armed.length = 0;
});

async function run(body: unknown) {
  server = await startOpsServer({ stack, port: 0 });
  const response = await fetch(`${server.url}/api/payments`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { error?: string } };
}

describe('the ops server', () => {
  it.each([
    ['a refund fault, which no payment would use up', { fault: '503 on refund' }, 'fault'],
    ['a crash point off the payment path', { crash_point: 'submit-refund:before-provider' }, 'crash_point'],
    ['a card the fake provider does not know', { payment_method: 'pm_card_nope' }, 'payment_method'],
    ['an amount in decimals', { amount: 12.5 }, 'amount'],
  ])('refuses to run a payment with %s, arming nothing', async (_case, change, field) => {
    // Act
    const { status, body } = await run({ payment_method: 'pm_card_visa', amount: 1250, currency: 'USD', ...change });

    // Assess
    expect(status).toBe(400);
    expect(body.error).toContain(field);
    expect(armed).toEqual([]);
  });

  it('refuses a run sent as a form, as another site could send it, arming nothing', async () => {
    // Prepare
    server = await startOpsServer({ stack, port: 0 });

    // Act
    const response = await fetch(`${server.url}/api/payments`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify({ payment_method: 'pm_card_visa', amount: 1250, currency: 'USD' }),
    });

    // Assess
    expect(response.status).toBe(415);
    expect(armed).toEqual([]);
  });

  it('serves the page with a label for every control of the run form, and the counters the stack summed', async () => {
    // Prepare
    server = await startOpsServer({ stack, port: 0 });

    // Act
    const page = await (await fetch(`${server.url}/`)).text();
    const counters = (await (await fetch(`${server.url}/api/counters`)).json()) as { metrics: unknown[] };

    // Assess
    for (const id of ['card', 'amount', 'currency', 'crash-point', 'fault']) expect(page).toContain(`<label for="${id}">`);
    expect(counters.metrics).toContainEqual({ name: 'Http2xx', dimensions: { route: 'CreatePayment' }, unit: 'Count', sum: 2, samples: 2 });
  });
});
