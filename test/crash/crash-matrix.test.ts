import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CrashPoint, crashFired, crashPoints } from '../../functions/crash/crash-points.ts';
import { type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import type { FaultRequest } from '../../local/fake-provider/faults.ts';
import {
  armFaults,
  clearFaults,
  expectChargedExactlyAsRecorded,
  expectRefundedExactlyAsRecorded,
} from '../../local/fake-provider/client.ts';

/**
 * The promise under every fault we can inject: for every crash point and every provider
 * fault, a payment is run, crashes, is recovered by the reconciler, and then the provider's
 * ledger and the database must agree: one capture for a succeeded payment, none for a failed
 * one, no authorization left open.
 *
 * The stack runs in this process, so `CRASH_AT` set here is the handlers' environment.
 */

interface Scenario {
  readonly card: string;
  readonly outcome: 'succeeded' | 'failed';
  /** Another point that must crash first for the reconciler to act. */
  readonly alsoCrash?: CrashPoint;
  /** Provider behaviour the point needs, armed with the case's fault. */
  readonly provider?: FaultRequest;
  /** The point is on a refund's path: the payment is refunded once it succeeded. */
  readonly refund?: boolean;
  /** The point is on a cart's path: the payment is a cart's checkout, and the cart must end paid with its seat. */
  readonly cart?: boolean;
}

const REFUND_FUNCTIONS = ['create-refund', 'submit-refund', 'check-refund', 'record-refund', 'mark-refund-failed'];

/** Which card reaches each point, and what else must happen for the point to be reached. */
function scenarioFor(point: CrashPoint): Scenario {
  const [fn, boundary] = point.split(':') as [string, string];
  if (fn === 'settle-cart' || fn === 'checkout') return { card: 'pm_card_visa', outcome: 'succeeded', cart: true };
  if (REFUND_FUNCTIONS.includes(fn)) {
    // MarkRefundFailed runs only after the provider refused the refund once.
    const refused: FaultRequest = { fail: { count: 1, status: 400, match: 'POST /v1/refunds' } };
    // CheckRefund writes only when it finds the provider's refund still pending: the saga's
    // first look comes 1.5 s after the refund (30 s at this stack's scale), its settling 4 to 5 s.
    const heldPending: FaultRequest = { pendingRefunds: { count: 1, settle: { status: 'succeeded', afterSeconds: 5 } } };
    const provider = { 'mark-refund-failed': refused, 'check-refund': heldPending }[fn];
    return { card: 'pm_card_visa', outcome: 'succeeded', refund: true, ...(provider && { provider }) };
  }
  const declinePath =
    fn === 'void-authorization' || fn === 'mark-failed' || (fn === 'authorize' && boundary.endsWith('-write'));
  if (declinePath) return { card: 'pm_card_chargeDeclined', outcome: 'failed' };
  // The reconciler calls the provider itself only for an authorization about to lapse.
  if (fn === 'reconciler' && boundary.endsWith('-provider')) {
    return {
      card: 'pm_card_visa',
      outcome: 'succeeded',
      alsoCrash: 'capture:before-provider',
      provider: { authorizationWindowSeconds: 3600 },
    };
  }
  // The reconciler acts only on a payment whose execution died: kill one first.
  if (fn === 'reconciler') return { card: 'pm_card_visa', outcome: 'succeeded', alsoCrash: 'authorize:after-provider' };
  return { card: 'pm_card_visa', outcome: 'succeeded' };
}

const faults: Record<string, FaultRequest | undefined> = {
  'no fault': undefined,
  '503 on authorize': { fail: { count: 1, status: 503, match: 'POST /v1/payment_intents' } },
  '429 on capture': { fail: { count: 1, status: 429, match: 'POST /v1/payment_intents/*/capture' } },
  '409 key in use on authorize': { fail: { count: 1, status: 409, match: 'POST /v1/payment_intents' } },
  'timeout on capture': { hang: { count: 1, match: 'POST /v1/payment_intents/*/capture' } },
  'response lost after authorize committed': { dropResponseAfterCommit: { count: 2, match: 'POST /v1/payment_intents' } },
  'response lost after capture committed': {
    dropResponseAfterCommit: { count: 2, match: 'POST /v1/payment_intents/*/capture' },
  },
};

/** The same fault, aimed at the refund call: a refund's crash points meet its faults there. */
function atRefunds(fault: FaultRequest): FaultRequest {
  const aim = <R extends { match?: string }>(rules: R | R[] | undefined) =>
    rules === undefined ? undefined : (Array.isArray(rules) ? rules : [rules]).map((rule) => ({ ...rule, match: 'POST /v1/refunds' }));
  return {
    ...fault,
    ...(fault.fail && { fail: aim(fault.fail) }),
    ...(fault.hang && { hang: aim(fault.hang) }),
    ...(fault.dropResponseAfterCommit && { dropResponseAfterCommit: aim(fault.dropResponseAfterCommit) }),
  };
}

const cases = crashPoints.flatMap((point) => Object.keys(faults).map((fault) => ({ point, fault })));

let stack: LocalStack;
let duplicatesRan = 0;
let dataDir: string;
let caseNo = 0;
let ran = 0;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'CRITICAL';
  // A hung provider call must fail fast enough for the matrix to finish.
  process.env.STRIPE_TIMEOUT_MS = '500';
  // A request that crashed holds its Idempotency-Key this long: the client's retry then takes it over.
  process.env.IDEMPOTENCY_LEASE_SECONDS = '1';
  dataDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-crash-'));
  stack = await startLocalStack({
    dataDir,
    port: 0,
    inMemory: true,
    reconcileEveryMs: 200,
    reconcileAfterSeconds: 0.5,
    // A reconciler that crashed holding a lease blocks the payment no longer than this.
    reconcileLeaseSeconds: 1,
    retryIntervalScale: 0.05,
  });
});

afterEach(async () => {
  delete process.env.CRASH_AT;
  await clearFaults(stack.providerUrl);
});

afterAll(async () => {
  console.log(`crash matrix: ${ran} (crash point x fault) cases, ${crashPoints.length} crash points x ${Object.keys(faults).length} faults`);
  console.log(`crash matrix with a duplicate execution racing: ${duplicatesRan} cases`);
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(method: string, route: string, body?: unknown, idempotencyKey?: string) {
  const response = await fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${stack.apiKey}`,
      'Content-Type': 'application/json',
      ...(idempotencyKey !== undefined && { 'Idempotency-Key': idempotencyKey }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function armProvider(scenario: Scenario, fault: FaultRequest | undefined) {
  if (scenario.provider) await armFaults(stack.providerUrl, scenario.provider);
  if (fault) await armFaults(stack.providerUrl, fault);
}

/** A POST whose request died with the API function is retried, as clients do. */
async function postRetried(route: string, body: unknown) {
  let answer = await call('POST', route, body);
  if (answer.status === 502) answer = await call('POST', route, body);
  expect([200, 201], JSON.stringify(answer.body)).toContain(answer.status);
  return answer;
}

/**
 * A cart holding one seat, checked out by card: the payment the case runs. Returns it with
 * the cart and its class, to check after the crash that the cart ended paid with its seat.
 */
async function checkoutCart(tag: string, card: string) {
  const created = (route: string, body: unknown) => postRetried(route, body).then((answer) => answer.body);
  const swimClass = await created('/v1/classes', { name: `crash ${tag}`, seats_total: 3, price: 1234, currency: 'USD' });
  const account = await created('/v1/accounts', {});
  const swimmer = await created(`/v1/accounts/${account.account_id}/swimmers`, { name: 'Crash' });
  const cart = await created(`/v1/accounts/${account.account_id}/cart`, {});
  await created(`/v1/carts/${cart.cart_id}/items`, { action: 'register', swimmer_id: swimmer.swimmer_id, class_id: swimClass.class_id });
  // A checkout that died with its function is retried with its key, as clients do.
  const send = () => call('POST', `/v1/carts/${cart.cart_id}/checkout`, { payment_mode: 'pay_now', payment_method: card }, tag);
  let answer = await send();
  if (answer.status === 502) answer = await send();
  expect([200, 202], JSON.stringify(answer.body)).toContain(answer.status);
  return { paymentNo: answer.body.payment_no as string, cartId: cart.cart_id as string, classId: swimClass.class_id as string };
}

/** The cart ended `done`, its seat a student's, the class's counts adding up. */
async function expectCartPaidWithItsSeat({ cartId, classId }: { cartId: string; classId: string }, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body: cart } = await call('GET', `/v1/carts/${cartId}`);
    if (cart.status === 'done') break;
    if (Date.now() > deadline) throw new Error(`cart ${cartId} still ${cart.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { body: swimClass } = await call('GET', `/v1/classes/${classId}`);
  expect(swimClass).toMatchObject({ seats_total: 3, seats_remain: 2, held: 0, students: 1, seats_counted: { held: 0, students: 1 } });
}

async function startDuplicate(stateMachineArn: string | undefined, id: string, input: unknown) {
  await new SFNClient({}).send(
    new StartExecutionCommand({ stateMachineArn, name: `${id}-duplicate`, input: JSON.stringify(input) }),
  );
}

async function untilRefundsSettled(paymentNo: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await call('GET', `/v1/payments/${paymentNo}`);
    if (body.refunds.length > 0 && body.refunds.every((r: { status: string }) => r.status !== 'pending')) return body;
    if (Date.now() > deadline) throw new Error(`refunds of ${paymentNo} still pending`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function untilTerminal(paymentNo: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await call('GET', `/v1/payments/${paymentNo}`);
    if (['succeeded', 'failed', 'canceled'].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`payment ${paymentNo} still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the crash matrix', () => {
  it('gives every crash point a scenario that reaches it', () => {
    expect(crashPoints.length).toBeGreaterThan(0);
    expect(cases).toHaveLength(crashPoints.length * Object.keys(faults).length);
  });

  it.each(cases)('charges exactly once after a crash at $point with $fault', async ({ point, fault }) => {
    // Prepare
    const scenario = scenarioFor(point);
    const armed = scenario.alsoCrash ? [scenario.alsoCrash, point] : [point];
    process.env.CRASH_AT = `${armed.join(',')}#case-${++caseNo}`;
    const injected = faults[fault];
    const order = { order_no: `crash-${caseNo}-${Date.now()}`, amount: 1234, currency: 'USD', payment_method: scenario.card };
    if (!scenario.refund) await armProvider(scenario, injected);

    // Act: a client whose request died with the API function retries it, as clients do.
    const cart = scenario.cart ? await checkoutCart(`case-${caseNo}`, scenario.card) : undefined;
    const paymentNo: string = cart?.paymentNo ?? (await postRetried('/v1/payments', order)).body.payment_no;
    const payment = await untilTerminal(paymentNo);
    if (cart) await expectCartPaidWithItsSeat(cart);
    if (scenario.refund) {
      await armProvider(scenario, injected && atRefunds(injected));
      await postRetried('/v1/refunds', { payment_no: payment.payment_no, amount: 600, operator_id: 'crash-matrix' });
    }
    const refunded = scenario.refund ? await untilRefundsSettled(payment.payment_no) : undefined;
    ran++;

    // Assess
    for (const armedPoint of armed) expect(crashFired(armedPoint), `crash at ${armedPoint} fired`).toBe(true);
    expect(payment.status).toBe(scenario.outcome);
    expect(await expectChargedExactlyAsRecorded(stack.providerUrl, payment)).toBeUndefined();
    if (refunded) {
      expect(refunded.refunds).toHaveLength(1);
      expect(await expectRefundedExactlyAsRecorded(stack.providerUrl, refunded)).toBeUndefined();
    }
  });
});

describe('the crash matrix with concurrent duplicates', () => {
  it.each(crashPoints)('captures once when a second execution and the reconciler race a crash at %s', async (point) => {
    // Prepare
    const scenario = scenarioFor(point);
    // With two executions, the reconciler acts only when both died: kill the second one too.
    const alsoCrash: CrashPoint[] = scenario.alsoCrash ? [scenario.alsoCrash, 'record-authorization:before-write'] : [];
    const armed = [...alsoCrash, point];
    process.env.CRASH_AT = `${armed.join(',')}#dup-${++caseNo}`;
    const order = { order_no: `dup-${caseNo}-${Date.now()}`, amount: 777, currency: 'USD', payment_method: scenario.card };
    if (!scenario.refund) await armProvider(scenario, undefined);

    // Act: the saga as usual, plus a second execution of the same payment (or refund) under another name.
    const cart = scenario.cart ? await checkoutCart(`dup-${caseNo}`, scenario.card) : undefined;
    const paymentNo: string = cart?.paymentNo ?? (await postRetried('/v1/payments', order)).body.payment_no;
    if (scenario.refund) {
      await untilTerminal(paymentNo);
      await armProvider(scenario, undefined);
      const refund = await postRetried('/v1/refunds', { payment_no: paymentNo, amount: 300, operator_id: 'crash-matrix' });
      await startDuplicate(process.env.REFUND_STATE_MACHINE_ARN, refund.body.refund_no, { refund_no: refund.body.refund_no });
    } else {
      await startDuplicate(process.env.STATE_MACHINE_ARN, paymentNo, { payment_no: paymentNo });
    }
    const payment = await untilTerminal(paymentNo);
    if (cart) await expectCartPaidWithItsSeat(cart);
    // Every execution ended before the refund is read: the duplicate's provider call may land
    // after the first execution failed the refund, and its RecordRefund then revives it.
    await stack.idle();
    const refunded = scenario.refund ? await untilRefundsSettled(paymentNo) : undefined;
    duplicatesRan++;

    // Assess
    for (const armedPoint of armed) expect(crashFired(armedPoint), `crash at ${armedPoint} fired`).toBe(true);
    expect(payment.status).toBe(scenario.outcome);
    expect(await expectChargedExactlyAsRecorded(stack.providerUrl, payment)).toBeUndefined();
    if (refunded) expect(await expectRefundedExactlyAsRecorded(stack.providerUrl, refunded)).toBeUndefined();
  });
});
