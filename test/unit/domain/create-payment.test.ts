import { beforeEach, describe, expect, it } from 'vitest';
import { type CreatePaymentDeps, createPayment, paymentNoFor } from '../../../functions/domain/create-payment.ts';
import { IdempotencyKeyMismatchError } from '../../../functions/domain/errors.ts';
import type { PaymentRequest } from '../../../functions/domain/payment.ts';
import { USD } from '../../support/currencies.ts';
import { StrictPaymentRepository } from '../../support/strict/payments.ts';
import { StrictWorkflow } from '../../support/strict/workflow.ts';

let payments: StrictPaymentRepository;
let workflow: StrictWorkflow;
let deps: CreatePaymentDeps;
const request: PaymentRequest = { orderNo: 'order-1', amount: 500, currency: USD, paymentMethod: 'pm_card_visa' };

beforeEach(() => {
  const clock = () => new Date('2026-11-23T10:00:00Z');
  payments = new StrictPaymentRepository({ clock });
  workflow = new StrictWorkflow(clock);
  deps = { payments, workflow, clock, reconcileAfterSeconds: 300 };
});

describe('createPayment', () => {
  it('stores a pending payment due for reconciliation and starts its saga under the payment_no', async () => {
    const result = await createPayment(deps, 'm_1', request);

    expect(result).toMatchObject({ created: true, started: true });
    expect(result.payment).toMatchObject({
      paymentNo: paymentNoFor('m_1', 'order-1'),
      status: 'pending',
      version: 1,
      reconcileAt: '2026-11-23T10:05:00.000Z',
    });
    expect(workflow.executions.get(result.payment.paymentNo)).toBeDefined();
  });

  it('answers the same order with the first payment for one read, and writes nothing', async () => {
    const first = await createPayment(deps, 'm_1', request);
    let reads = 0;
    const get = payments.get.bind(payments);
    payments.get = async (paymentNo) => {
      reads += 1;
      return get(paymentNo);
    };

    const second = await createPayment(deps, 'm_1', { ...request });

    expect(reads).toBe(1);
    expect(second).toMatchObject({ created: false, payment: first.payment });
    expect(payments.all()).toEqual([first.payment]);
    expect(workflow.executions.size).toBe(1);
  });

  it('answers a repeat with the payment as its first request answered it, whatever happened since', async () => {
    const order = { ...request, customerEmail: 'a@example.com', metadata: { sku: 's-1' }, captureMethod: 'manual' as const };
    const first = await createPayment(deps, 'm_1', order);
    payments.tamper(first.payment.paymentNo, { status: 'succeeded', chargeId: 'pi_1', amountCaptured: 500, updatedAt: '2026-11-23T10:00:09.000Z' });
    const later = { ...deps, clock: () => new Date('2026-11-24T08:00:00Z') };

    const repeat = await createPayment(later, 'm_1', { ...order });

    expect(first.firstAnswer).toEqual(first.payment);
    expect(repeat).toMatchObject({ created: false, payment: { status: 'succeeded', version: 2 } });
    expect(repeat.firstAnswer).toEqual(first.firstAnswer);
  });

  it('reads before it writes: a read that fails leaves nothing written, so the request may come back corrected', async () => {
    const get = payments.get.bind(payments);
    payments.get = async () => {
      throw new Error('the table did not answer');
    };

    await expect(createPayment(deps, 'm_1', request)).rejects.toThrow('the table did not answer');
    payments.get = get;
    const corrected = await createPayment(deps, 'm_1', { ...request, amount: 750 });

    expect(corrected).toMatchObject({ created: true, payment: { amount: 750 } });
  });

  it("answers 201 when the put's first attempt landed and the SDK's second found the payment it was writing", async () => {
    // Prepare: the first attempt lands but its answer is lost; the SDK sends the put again.
    const create = payments.create.bind(payments);
    payments.create = async (payment) => {
      await create(payment);
      return create(payment);
    };

    // Act
    const result = await createPayment(deps, 'm_1', request);

    // Assess
    expect(result).toMatchObject({ created: true, started: true });
    expect(result.firstAnswer).toEqual(result.payment);
    expect(payments.all()).toEqual([result.payment]);
  });

  it('answers a request that raced another for the same order, in the same millisecond, as a replay', async () => {
    // Prepare: both read before either put; the same clock makes the same payment of both.
    const first = await createPayment(deps, 'm_1', request);
    const get = payments.get.bind(payments);
    payments.get = async () => undefined;

    // Act
    const second = await createPayment(deps, 'm_1', { ...request });

    // Assess: one 201 per payment, whatever the two wrote.
    payments.get = get;
    expect(second).toMatchObject({ created: false, payment: first.payment });
    expect(second.firstAnswer).toEqual(first.payment);
  });

  it('keeps the same order_no of two merchants apart', async () => {
    const a = await createPayment(deps, 'm_1', request);
    const b = await createPayment(deps, 'm_2', request);

    expect(a.payment.paymentNo).not.toBe(b.payment.paymentNo);
  });

  it('refuses the same order with another amount, naming the field, and changes nothing', async () => {
    const first = await createPayment(deps, 'm_1', request);

    const attempt = createPayment(deps, 'm_1', { ...request, amount: 501 });

    await expect(attempt).rejects.toBeInstanceOf(IdempotencyKeyMismatchError);
    await expect(attempt).rejects.toMatchObject({ field: 'amount', code: 'idempotency_key_mismatch' });
    expect(await payments.get(first.payment.paymentNo)).toEqual(first.payment);
  });

  it('names payment_method when only the card differs', async () => {
    await createPayment(deps, 'm_1', request);

    await expect(createPayment(deps, 'm_1', { ...request, paymentMethod: 'pm_card_mastercard' })).rejects.toMatchObject({
      field: 'payment_method',
    });
  });

  it('stores the payment for the reconciler when the saga cannot be started', async () => {
    workflow.failStarts = true;

    const result = await createPayment(deps, 'm_1', request);

    expect(result).toMatchObject({ created: true, started: false });
    expect(await payments.get(result.payment.paymentNo)).toBeDefined();
  });

  it('starts the saga on a replay when the first start was lost', async () => {
    workflow.failStarts = true;
    const first = await createPayment(deps, 'm_1', request);
    workflow.failStarts = false;

    const replay = await createPayment(deps, 'm_1', request);

    expect(replay).toMatchObject({ created: false, started: true });
    expect(workflow.executions.get(first.payment.paymentNo)?.status).toBe('RUNNING');
  });
});
