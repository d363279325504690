import { describe, expect, it, type TestContext } from 'vitest';
import { armFaults, intentsOf, providerRefundOf, settleRefund } from '../../local/fake-provider/client.ts';
import type { RefundRecord } from '../../local/fake-provider/ledger.ts';
import type { PendingRefundRule } from '../../local/fake-provider/faults.ts';
import { expectRefundedExactlyAsRecorded } from '../support/invariants/provider-books.ts';
import { checkPaymentsAfterEach } from '../support/ledger-check.ts';
import { api, paymentBody, target, waitForRefunds, waitForTerminal } from '../support/target.ts';

const track = checkPaymentsAfterEach();

/** A captured payment of `amount`. */
async function capturedPayment(amount = 2000) {
  const created = track(await api('POST', '/v1/payments', paymentBody({ amount })));
  return waitForTerminal(created.body.payment_no);
}

const refund = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  api('POST', '/v1/refunds', { operator_id: 'op-1', ...body }, { headers });

async function expectLedgerAgrees(paymentNo: string) {
  const payment = await waitForRefunds(paymentNo);
  const { providerUrl } = target();
  if (providerUrl) expect(await expectRefundedExactlyAsRecorded(providerUrl, payment)).toBeUndefined();
  return payment;
}

describe('POST /v1/refunds', () => {
  it('refunds part of a payment, then more, never past what was captured', async () => {
    // Prepare
    const payment = await capturedPayment(2000);

    // Act
    const first = await refund({ payment_no: payment.payment_no, amount: 500, reason: 'damaged' });
    const second = await refund({ payment_no: payment.payment_no, amount: 500, expected_amount_refunded: 500 });
    const tooMuch = await refund({ payment_no: payment.payment_no, amount: 1001, expected_amount_refunded: 1000 });

    // Assess
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ payment_no: payment.payment_no, amount: 500, status: 'pending', reason: 'damaged' });
    expect(first.body.refund_no).toMatch(/^re_[0-9a-f]{24}$/);
    expect(second.status).toBe(201);
    expect(second.body.refund_no).not.toBe(first.body.refund_no);
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.error).toMatchObject({ code: 'refund_exceeds_captured', field: 'amount' });
    const after = await expectLedgerAgrees(payment.payment_no);
    expect(after.amount_refunded).toBe(1000);
    expect(after.refunds.map((r: { refund_no: string; status: string }) => [r.refund_no, r.status])).toEqual([
      [first.body.refund_no, 'succeeded'],
      [second.body.refund_no, 'succeeded'],
    ]);
    const fetched = await api('GET', `/v1/refunds/${first.body.refund_no}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({ refund_no: first.body.refund_no, status: 'succeeded', amount: 500 });
  });

  it('answers a retry without a key with the first refund: (payment, operator, amount) is the key', async () => {
    const payment = await capturedPayment();

    const first = await refund({ payment_no: payment.payment_no, amount: 300 });
    const retry = await refund({ payment_no: payment.payment_no, amount: 300 });

    expect(first.status).toBe(201);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.refund_no).toBe(first.body.refund_no);
    expect((await expectLedgerAgrees(payment.payment_no)).amount_refunded).toBe(300);
  });

  it('refuses an Idempotency-Key reused with another amount, naming it, and changes nothing', async () => {
    const payment = await capturedPayment();
    const key = `refund-${payment.payment_no}`;

    const first = await refund({ payment_no: payment.payment_no, amount: 200 }, { 'Idempotency-Key': key });
    const mismatch = await refund({ payment_no: payment.payment_no, amount: 250 }, { 'Idempotency-Key': key });
    const replay = await refund({ payment_no: payment.payment_no, amount: 200 }, { 'Idempotency-Key': key });

    expect(first.status).toBe(201);
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error).toMatchObject({ code: 'idempotency_key_mismatch', field: 'amount' });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.refund_no).toBe(first.body.refund_no);
    expect((await expectLedgerAgrees(payment.payment_no)).amount_refunded).toBe(200);
  });

  it('gives one refund, and one at the provider, to ten concurrent identical requests', async () => {
    const payment = await capturedPayment();

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => refund({ payment_no: payment.payment_no, amount: 700 })),
    );

    expect(new Set(answers.map((a) => a.body.refund_no)).size).toBe(1);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.every((a) => a.status === 201 || a.status === 200)).toBe(true);
    const after = await expectLedgerAgrees(payment.payment_no);
    expect(after.refunds).toHaveLength(1);
    expect(after.amount_refunded).toBe(700);
  });

  it('refuses a refund whose expected_amount_refunded is no longer true', async () => {
    const payment = await capturedPayment();
    await refund({ payment_no: payment.payment_no, amount: 100 });

    const stale = await refund({ payment_no: payment.payment_no, amount: 100, operator_id: 'op-2', expected_amount_refunded: 0 });

    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'amount_refunded_changed', field: 'expected_amount_refunded' });
    expect((await expectLedgerAgrees(payment.payment_no)).amount_refunded).toBe(100);
  });

  it('refuses to refund a payment that was never captured', async () => {
    const created = track(await api('POST', '/v1/payments', paymentBody({ payment_method: 'pm_card_chargeDeclined' })));
    await waitForTerminal(created.body.payment_no);

    const refused = await refund({ payment_no: created.body.payment_no, amount: 100 });

    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'payment_not_captured', field: 'payment_no' });
  });

  it.each([
    [{ amount: 100 }, 'payment_no'],
    [{ payment_no: 'pay_000000000000000000000000', amount: 0 }, 'amount'],
    [{ payment_no: 'pay_000000000000000000000000', amount: 1.5 }, 'amount'],
    [{ payment_no: 'pay_000000000000000000000000', amount: 1, operator_id: '' }, 'operator_id'],
    [{ payment_no: 'pay_000000000000000000000000', amount: 1, surprise: true }, 'surprise'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const answer = await refund(body);

    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'validation_failed', field });
  });

  it("answers 404 for a missing payment, and for another merchant's refund", async () => {
    const payment = await capturedPayment();
    const mine = await refund({ payment_no: payment.payment_no, amount: 100 });

    const missing = await refund({ payment_no: 'pay_000000000000000000000000', amount: 100 });
    const theirs = await api('GET', `/v1/refunds/${mine.body.refund_no}`, undefined, { key: target().otherApiKey });

    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'not_found', field: 'payment_no' });
    expect(theirs.status).toBe(404);
    await expectLedgerAgrees(payment.payment_no);
  });
});

describe('refunds the provider holds pending', () => {
  /** The fake provider, or the test skips itself: only a fake can be told to hold a refund pending. */
  function fakeProvider(context: TestContext): string {
    const { providerUrl } = target();
    if (providerUrl === undefined) context.skip('the target has no fake provider');
    return providerUrl!;
  }

  /** A captured payment of 2000 whose next refund the provider holds pending, settled as `rule` says. */
  async function paymentWithPendingRefunds(providerUrl: string, rule: Omit<PendingRefundRule, 'paymentIntent'> = {}) {
    const payment = await capturedPayment(2000);
    const [intent] = await intentsOf(providerUrl, payment.payment_no);
    await armFaults(providerUrl, { pendingRefunds: { count: 1, paymentIntent: intent!.id, ...rule } });
    return payment;
  }

  /** The provider's refund for our refund_no, once the saga made it. */
  async function madeAtProvider(providerUrl: string, refundNo: string): Promise<RefundRecord> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const made = await providerRefundOf(providerUrl, refundNo);
      if (made !== undefined) return made;
      if (Date.now() > deadline) throw new Error(`no provider refund for ${refundNo}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Our refund, looked at a few times over a second while the provider's is pending: it must
   * stay pending every time (a saga that took the provider's first answer as final records it
   * within milliseconds).
   */
  async function statusesWhileProviderPending(refundNo: string): Promise<string[]> {
    const statuses: string[] = [];
    for (let look = 0; look < 10; look++) {
      statuses.push((await api('GET', `/v1/refunds/${refundNo}`)).body.status);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return statuses;
  }

  it('keeps a refund pending while the provider does, then records it succeeded', async (context) => {
    // Prepare
    const providerUrl = fakeProvider(context);
    const payment = await paymentWithPendingRefunds(providerUrl);

    // Act
    const created = await refund({ payment_no: payment.payment_no, amount: 500 });
    const made = await madeAtProvider(providerUrl, created.body.refund_no);
    const whilePending = await statusesWhileProviderPending(created.body.refund_no);
    await settleRefund(providerUrl, made.id, 'succeeded');

    // Assess
    expect(made.status).toBe('pending');
    expect(new Set(whilePending)).toEqual(new Set(['pending']));
    const after = await expectLedgerAgrees(payment.payment_no);
    expect(after.amount_refunded).toBe(500);
    expect(after.refunds).toMatchObject([{ refund_no: created.body.refund_no, status: 'succeeded' }]);
  });

  it('fails a refund the provider fails, with its reason, and gives the amount back for another refund', async (context) => {
    // Prepare
    const providerUrl = fakeProvider(context);
    const payment = await paymentWithPendingRefunds(providerUrl);

    // Act
    const created = await refund({ payment_no: payment.payment_no, amount: 2000 });
    const made = await madeAtProvider(providerUrl, created.body.refund_no);
    const whilePending = await api('GET', `/v1/payments/${payment.payment_no}`);
    await settleRefund(providerUrl, made.id, 'failed', 'expired_or_canceled_card');
    const afterFailure = await waitForRefunds(payment.payment_no);
    const failed = await api('GET', `/v1/refunds/${created.body.refund_no}`);
    const second = await refund({ payment_no: payment.payment_no, amount: 2000, expected_amount_refunded: 0 });

    // Assess
    expect(whilePending.body.amount_refunded).toBe(2000);
    expect(afterFailure.amount_refunded).toBe(0);
    expect(failed.body).toMatchObject({ status: 'failed', failure_reason: 'expired_or_canceled_card', amount: 2000 });
    expect(second.status).toBe(201);
    const after = await expectLedgerAgrees(payment.payment_no);
    expect(after.amount_refunded).toBe(2000);
    expect(after.refunds.map((r: { status: string }) => r.status)).toEqual(['failed', 'succeeded']);
  });

  it('leaves a refund still pending after the saga stopped looking to the reconciler, which records it', async (context) => {
    // Prepare: at the local stack's retry scale the saga looks for about ten seconds, so a
    // refund the provider settles after fifteen is the reconciler's to finish.
    const providerUrl = fakeProvider(context);
    const payment = await paymentWithPendingRefunds(providerUrl, { settle: { status: 'succeeded', afterSeconds: 15 } });

    // Act
    const created = await refund({ payment_no: payment.payment_no, amount: 700 });
    const after = await waitForRefunds(payment.payment_no, { timeoutMs: 75_000 });

    // Assess
    expect(after.refunds).toMatchObject([{ refund_no: created.body.refund_no, status: 'succeeded' }]);
    expect(after.amount_refunded).toBe(700);
    expect(await expectRefundedExactlyAsRecorded(providerUrl, after)).toBeUndefined();
  });
});
