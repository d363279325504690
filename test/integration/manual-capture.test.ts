import { afterEach, describe, expect, it } from 'vitest';
import { intentsOf } from '../../local/fake-provider/client.ts';
import { expectChargedExactlyAsRecorded } from '../support/invariants/provider-books.ts';
import { api, paymentBody, target, waitForTerminal } from '../support/target.ts';

/** Every payment a test created, checked against the provider's ledger once it has ended. */
const touched: string[] = [];

afterEach(async () => {
  for (const paymentNo of touched.splice(0)) {
    const payment = await waitForTerminal(paymentNo);
    expect(await expectChargedExactlyAsRecorded(providerUrl(), payment), paymentNo).toBeUndefined();
  }
});

const providerUrl = () => target().providerUrl!;

async function manualPayment(amount = 5000): Promise<string> {
  const { status, body } = await api('POST', '/v1/payments', paymentBody({ amount, capture_method: 'manual' }));
  expect(status).toBe(201);
  touched.push(body.payment_no);
  return body.payment_no;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const authorized = (paymentNo: string) =>
  until(`${paymentNo} authorized`, async () => {
    const { body } = await api('GET', `/v1/payments/${paymentNo}`);
    return body.status === 'authorized' ? body : undefined;
  });

describe('a manual payment (capture_method: manual)', () => {
  it('stops at authorized with its capture deadline, makes a payment.authorized event, and holds the card uncaptured', async () => {
    // Act
    const paymentNo = await manualPayment();
    const payment = await authorized(paymentNo);

    // Assess
    expect(payment).toMatchObject({ capture_method: 'manual', amount_captured: 0, capture_before: expect.any(String) });
    expect(Date.parse(payment.capture_before)).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000);
    const event = await until('the payment.authorized event', async () => {
      const { body } = await api('GET', '/v1/events?type=payment.authorized&limit=100');
      return body.data.find((e: { data: { object: { payment_no: string } } }) => e.data.object.payment_no === paymentNo);
    });
    expect(event.data.object).toMatchObject({ status: 'authorized', capture_method: 'manual' });
    const [intent] = await intentsOf(providerUrl(), paymentNo);
    expect(intent).toMatchObject({ status: 'requires_capture', captures: [] });
    await api('POST', `/v1/payments/${paymentNo}/cancel`);
  });

  it('is captured for amount_to_capture, the rest released: 202, then succeeded with one capture of that amount', async () => {
    // Prepare
    const paymentNo = await manualPayment(5000);
    await authorized(paymentNo);

    // Act
    const accepted = await api('POST', `/v1/payments/${paymentNo}/capture`, { amount_to_capture: 3200 });
    const payment = await waitForTerminal(paymentNo);

    // Assess
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ status: 'authorized', amount_to_capture: 3200 });
    expect(payment).toMatchObject({ status: 'succeeded', amount: 5000, amount_captured: 3200, amount_to_capture: 3200 });
    const [intent] = await intentsOf(providerUrl(), paymentNo);
    expect(intent?.captures.map((c) => c.amount)).toEqual([3200]);
  });

  it('is canceled on request: its authorization voided, cancellation_reason requested, a payment.canceled event', async () => {
    // Prepare
    const paymentNo = await manualPayment();
    await authorized(paymentNo);

    // Act
    const accepted = await api('POST', `/v1/payments/${paymentNo}/cancel`);
    const payment = await waitForTerminal(paymentNo);

    // Assess
    expect(accepted.status).toBe(202);
    expect(payment).toMatchObject({ status: 'canceled', cancellation_reason: 'requested', amount_captured: 0 });
    const [intent] = await intentsOf(providerUrl(), paymentNo);
    expect(intent?.status).toBe('canceled');
    await until('the payment.canceled event', async () => {
      const { body } = await api('GET', '/v1/events?type=payment.canceled&limit=100');
      return body.data.find((e: { data: { object: { payment_no: string } } }) => e.data.object.payment_no === paymentNo);
    });
  });

  it('answers a repeated Idempotency-Key with the first answer, and refuses the key with another amount', async () => {
    // Prepare
    const paymentNo = await manualPayment();
    await authorized(paymentNo);
    const headers = { 'Idempotency-Key': `capture-${paymentNo}` };

    // Act
    const first = await api('POST', `/v1/payments/${paymentNo}/capture`, { amount_to_capture: 4000 }, { headers });
    const replayed = await api('POST', `/v1/payments/${paymentNo}/capture`, { amount_to_capture: 4000 }, { headers });
    const mismatched = await api('POST', `/v1/payments/${paymentNo}/capture`, { amount_to_capture: 3000 }, { headers });

    // Assess
    expect(first.status).toBe(202);
    expect(replayed.status).toBe(200);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body).toEqual(first.body);
    expect(mismatched.status).toBe(409);
    expect(mismatched.body.error).toMatchObject({ code: 'idempotency_key_mismatch', field: 'amount_to_capture' });
    expect(await waitForTerminal(paymentNo)).toMatchObject({ status: 'succeeded', amount_captured: 4000 });
  });

  it('refuses what it cannot take with a 4xx naming why, changing nothing', async () => {
    // Prepare
    const paymentNo = await manualPayment(5000);
    await authorized(paymentNo);
    const { body: automatic } = await api('POST', '/v1/payments', paymentBody());
    touched.push(automatic.payment_no);

    // Act
    const tooMuch = await api('POST', `/v1/payments/${paymentNo}/capture`, { amount_to_capture: 5001 });
    const unknownField = await api('POST', `/v1/payments/${paymentNo}/capture`, { amount: 100 });
    const notManual = await api('POST', `/v1/payments/${automatic.payment_no}/cancel`);
    const badNo = await api('POST', '/v1/payments/pay_nope/capture', {});
    const missing = await api('POST', `/v1/payments/pay_${'0'.repeat(24)}/capture`, {});
    const badMethod = await api('POST', '/v1/payments', paymentBody({ capture_method: 'later' }));

    // Assess
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error).toMatchObject({ code: 'validation_failed', field: 'amount_to_capture' });
    expect(unknownField.body.error).toMatchObject({ code: 'validation_failed', field: 'amount' });
    expect(notManual.status).toBe(409);
    expect(notManual.body.error).toMatchObject({ code: 'payment_not_capturable' });
    expect(badNo.body.error).toMatchObject({ code: 'validation_failed', field: 'payment_no' });
    expect(missing.status).toBe(404);
    expect(badMethod.body.error).toMatchObject({ code: 'validation_failed', field: 'capture_method' });
    expect(await api('GET', `/v1/payments/${paymentNo}`)).toMatchObject({ body: { status: 'authorized' } });
    expect((await api('GET', `/v1/payments/${paymentNo}`)).body.amount_to_capture).toBeUndefined();

    // Then a capture and a cancel of the same payment: the first word stands.
    await api('POST', `/v1/payments/${paymentNo}/capture`, {});
    const cancel = await api('POST', `/v1/payments/${paymentNo}/cancel`);
    expect(cancel.status).toBe(409);
    expect(cancel.body.error).toMatchObject({ code: 'payment_not_capturable' });
  });
});
