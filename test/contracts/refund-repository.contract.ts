import { expect } from 'vitest';
import { ConcurrentModificationError } from '../../functions/domain/errors.ts';
import type { Payment } from '../../functions/domain/payment.ts';
import type { PaymentRepository } from '../../functions/domain/ports.ts';
import { type Refund, type RefundRepository, RefundStatus } from '../../functions/domain/refund.ts';
import { type Contract, describeContract, earlierHour, uniqueId } from './contract.ts';
import { newPayment, nextOf } from './payment-repository.contract.ts';

/** Refunds move their payment's totals, so the contract needs the payments they belong to. */
export interface RefundPorts {
  readonly payments: PaymentRepository;
  readonly refunds: RefundRepository;
}

const T0 = '2026-11-23T11:00:00.000Z';
const T1 = '2026-11-23T11:01:00.000Z';

/** A payment captured in full (1000), stored, with nothing refunded yet. */
async function capturedPayment({ payments }: RefundPorts, changes: Partial<Payment> = {}): Promise<Payment> {
  const { reconcileAt: _, ...payment } = newPayment({
    status: 'succeeded',
    chargeId: uniqueId('pi'),
    amountCaptured: 1000,
    ...changes,
  });
  await payments.create(payment);
  return payment;
}

function newRefund(payment: Payment, changes: Partial<Refund> = {}): Refund {
  return {
    refundNo: uniqueId('re'),
    paymentNo: payment.paymentNo,
    merchantId: payment.merchantId,
    amount: 300,
    currency: payment.currency,
    operatorId: 'operator_1',
    chargeId: payment.chargeId ?? 'pi_none',
    status: RefundStatus.Pending,
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    reconcileAt: '2026-11-23T11:05:00.000Z',
    resumeCount: 0,
    ...changes,
  };
}

/** `refund`'s next version: a refund no longer pending is due for nothing. */
function nextRefund(refund: Refund, changes: Partial<Refund>): Refund {
  const finished = changes.status !== undefined && changes.status !== RefundStatus.Pending;
  return { ...refund, updatedAt: T1, ...(finished && { reconcileAt: undefined }), ...changes, version: refund.version + 1 };
}

/** A refund created against `payment`, which must accept it. */
async function created(ports: RefundPorts, refund: Refund): Promise<Refund> {
  expect(await ports.refunds.create(refund)).toEqual({ outcome: 'created' });
  return refund;
}

/** What a refusal must leave as it was: the payment's totals and the refund, as stored. */
async function snapshot(ports: RefundPorts, payment: Payment, refund?: Refund) {
  return {
    payment: await ports.payments.get(payment.paymentNo),
    refund: refund === undefined ? undefined : await ports.refunds.get(refund.refundNo),
  };
}

async function refusedAsConcurrent(write: Promise<unknown>): Promise<void> {
  await expect(write).rejects.toBeInstanceOf(ConcurrentModificationError);
}

/** The payment's refunded totals as stored. */
async function totalsOf({ payments }: RefundPorts, payment: Payment) {
  const stored = await payments.get(payment.paymentNo);
  return { amountRefunded: stored?.amountRefunded, refundNos: stored?.refundNos ?? [] };
}

/**
 * What every {@link RefundRepository} must do, by behaviour: a refund and its payment's
 * refunded total move together or not at all, the total never passes what was captured, and
 * a write from a stale read changes neither.
 */
export const refundRepositoryContract: Contract<RefundPorts> = {
  "creates a refund and reserves its amount on the payment in the same write": async (ports) => {
    const payment = await capturedPayment(ports);
    const refund = newRefund(payment, { reason: 'requested_by_customer', expectedAmountRefunded: 0 });

    const outcome = await ports.refunds.create(refund);

    expect(outcome).toEqual({ outcome: 'created' });
    expect(await ports.refunds.get(refund.refundNo)).toEqual(refund);
    expect(await totalsOf(ports, payment)).toEqual({ amountRefunded: 300, refundNos: [refund.refundNo] });
  },

  'creates a refund_no once: a repeat answers the stored refund and reserves nothing more': async (ports) => {
    const payment = await capturedPayment(ports);
    const refund = await created(ports, newRefund(payment));

    const repeat = await ports.refunds.create({ ...refund, amount: 100 });

    expect(repeat).toEqual({ outcome: 'exists', refund });
    expect(await totalsOf(ports, payment)).toEqual({ amountRefunded: 300, refundNos: [refund.refundNo] });
  },

  "refuses a refund of another merchant's payment, writing nothing": async (ports) => {
    const payment = await capturedPayment(ports);
    const before = await snapshot(ports, payment);
    const refund = newRefund(payment, { merchantId: 'merchant_other' });

    const outcome = await ports.refunds.create(refund);

    expect(outcome).toEqual({ outcome: 'refused', payment: before.payment });
    expect(await snapshot(ports, payment, refund)).toEqual(before);
  },

  'refuses a refund of a payment that has not succeeded, writing nothing': async (ports) => {
    const payment = await capturedPayment(ports, { status: 'authorized', amountCaptured: 0 });
    const before = await snapshot(ports, payment);
    const refund = newRefund(payment);

    const outcome = await ports.refunds.create(refund);

    expect(outcome).toEqual({ outcome: 'refused', payment: before.payment });
    expect(await snapshot(ports, payment, refund)).toEqual(before);
  },

  'refuses a refund over what is left to refund, writing nothing, and takes exactly what is left': async (ports) => {
    const payment = await capturedPayment(ports);
    await created(ports, newRefund(payment, { amount: 700 }));
    const before = await snapshot(ports, payment);
    const tooMuch = newRefund(payment, { amount: 301 });

    const outcome = await ports.refunds.create(tooMuch);

    expect(outcome).toEqual({ outcome: 'refused', payment: before.payment });
    expect(await snapshot(ports, payment, tooMuch)).toEqual(before);
    await created(ports, newRefund(payment, { amount: 300 }));
    expect((await totalsOf(ports, payment)).amountRefunded).toBe(1000);
  },

  'refuses a refund whose expected refunded total is no longer the payment’s, writing nothing': async (ports) => {
    const payment = await capturedPayment(ports);
    await created(ports, newRefund(payment, { amount: 200, expectedAmountRefunded: 0 }));
    const before = await snapshot(ports, payment);
    const seenBefore = newRefund(payment, { amount: 200, expectedAmountRefunded: 0 });

    const outcome = await ports.refunds.create(seenBefore);

    expect(outcome).toEqual({ outcome: 'refused', payment: before.payment });
    expect(await snapshot(ports, payment, seenBefore)).toEqual(before);
    await created(ports, newRefund(payment, { amount: 200, expectedAmountRefunded: 200 }));
  },

  'refuses a refund of a payment that does not exist, writing nothing': async (ports) => {
    const { reconcileAt: _, ...ghost } = newPayment({ status: 'succeeded', chargeId: 'pi_ghost', amountCaptured: 1000 });
    const refund = newRefund(ghost);

    const outcome = await ports.refunds.create(refund);

    expect(outcome).toEqual({ outcome: 'refused', payment: undefined });
    expect(await ports.refunds.get(refund.refundNo)).toBeUndefined();
    expect(await ports.payments.get(ghost.paymentNo)).toBeUndefined();
  },

  'replaces a refund at the status and version read': async (ports) => {
    const payment = await capturedPayment(ports);
    const refund = await created(ports, newRefund(payment));
    const next = nextRefund(refund, { status: RefundStatus.Succeeded, providerRefundId: 're_provider_1' });

    await ports.refunds.replace(refund, next);

    expect(await ports.refunds.get(refund.refundNo)).toEqual(next);
  },

  'refuses a replace from a stale read (an older version, same status), leaving refund and payment as stored': async (ports) => {
    const payment = await capturedPayment(ports);
    const refund = await created(ports, newRefund(payment));
    await ports.refunds.replace(refund, nextRefund(refund, { resumeCount: 1 }));
    const before = await snapshot(ports, payment, refund);

    await refusedAsConcurrent(ports.refunds.replace(refund, nextRefund(refund, { status: RefundStatus.Succeeded })));

    expect(await snapshot(ports, payment, refund)).toEqual(before);
  },

  'refuses a replace from a read at the stored version but another status, leaving refund and payment as stored': async (ports) => {
    const payment = await capturedPayment(ports);
    const refund = await created(ports, newRefund(payment));
    const misread: Refund = { ...refund, status: RefundStatus.Failed };
    const before = await snapshot(ports, payment, refund);

    await refusedAsConcurrent(ports.refunds.replace(misread, nextRefund(misread, { status: RefundStatus.Succeeded })));

    expect(await snapshot(ports, payment, refund)).toEqual(before);
  },

  'fails a refund and gives its amount back to the payment in the same write': async (ports) => {
    const payment = await capturedPayment(ports);
    const refund = await created(ports, newRefund(payment));
    const failed = nextRefund(refund, { status: RefundStatus.Failed, failureReason: 'declined' });

    await ports.refunds.fail(refund, failed);

    expect(await ports.refunds.get(refund.refundNo)).toEqual(failed);
    expect(await totalsOf(ports, payment)).toEqual({ amountRefunded: 0, refundNos: [refund.refundNo] });
  },

  'refuses to fail a refund from a stale read: its amount is given back once': async (ports) => {
    const payment = await capturedPayment(ports);
    const refund = await created(ports, newRefund(payment));
    await ports.refunds.fail(refund, nextRefund(refund, { status: RefundStatus.Failed }));
    const before = await snapshot(ports, payment, refund);

    await refusedAsConcurrent(ports.refunds.fail(refund, nextRefund(refund, { status: RefundStatus.Failed })));

    expect(await snapshot(ports, payment, refund)).toEqual(before);
    expect((await totalsOf(ports, payment)).amountRefunded).toBe(0);
  },

  'revives a failed refund, taking its amount from the payment again in the same write': async (ports) => {
    const payment = await capturedPayment(ports);
    const refund = await created(ports, newRefund(payment));
    const failed = nextRefund(refund, { status: RefundStatus.Failed });
    await ports.refunds.fail(refund, failed);
    const revived = nextRefund(failed, { status: RefundStatus.Succeeded, providerRefundId: 're_provider_2' });

    await ports.refunds.revive(failed, revived);

    expect(await ports.refunds.get(refund.refundNo)).toEqual(revived);
    expect((await totalsOf(ports, payment)).amountRefunded).toBe(300);
  },

  'refuses to revive a refund from a stale read: its amount is taken once': async (ports) => {
    const payment = await capturedPayment(ports);
    const refund = await created(ports, newRefund(payment));
    const failed = nextRefund(refund, { status: RefundStatus.Failed });
    await ports.refunds.fail(refund, failed);
    await ports.refunds.revive(failed, nextRefund(failed, { status: RefundStatus.Succeeded }));
    const before = await snapshot(ports, payment, refund);

    await refusedAsConcurrent(ports.refunds.revive(failed, nextRefund(failed, { status: RefundStatus.Succeeded })));

    expect(await snapshot(ports, payment, refund)).toEqual(before);
    expect((await totalsOf(ports, payment)).amountRefunded).toBe(300);
  },

  'refuses to revive a refund whose amount another refund took meanwhile, leaving both as stored': async (ports) => {
    const payment = await capturedPayment(ports);
    const refund = await created(ports, newRefund(payment, { amount: 1000 }));
    const failed = nextRefund(refund, { status: RefundStatus.Failed });
    await ports.refunds.fail(refund, failed);
    await created(ports, newRefund(payment, { amount: 1000 }));
    const before = await snapshot(ports, payment, refund);

    await refusedAsConcurrent(ports.refunds.revive(failed, nextRefund(failed, { status: RefundStatus.Succeeded })));

    expect(await snapshot(ports, payment, refund)).toEqual(before);
    expect((await totalsOf(ports, payment)).amountRefunded).toBe(1000);
  },

  "lists a payment's refunds in the order they were made, with the payment as of the same read": async (ports) => {
    const payment = await capturedPayment(ports);
    const first = await created(ports, newRefund(payment, { amount: 100 }));
    const second = await created(ports, newRefund(payment, { amount: 200 }));
    const read = await ports.payments.get(payment.paymentNo);

    const listed = await ports.refunds.listForPayment(read!);

    expect(listed.refunds).toEqual([first, second]);
    expect(listed.payment).toEqual(read);
    expect(listed.payment.amountRefunded).toBe(300);
  },

  'lists pending refunds whose reconcile time has passed, oldest first': async (ports) => {
    const at = earlierHour();
    const payment = await capturedPayment(ports);
    const second = await created(ports, newRefund(payment, { amount: 100, reconcileAt: at(2) }));
    const first = await created(ports, newRefund(payment, { amount: 100, reconcileAt: at(1) }));
    await created(ports, newRefund(payment, { amount: 100, reconcileAt: at(30) }));
    const finished = await created(ports, newRefund(payment, { amount: 100, reconcileAt: at(1) }));
    await ports.refunds.replace(finished, nextRefund(finished, { status: RefundStatus.Succeeded }));

    const due = await ports.refunds.listDue(new Date(at(10)), 10);

    expect(due.map((refund) => refund.refundNo)).toEqual([first.refundNo, second.refundNo]);
  },
};

/** Registers {@link refundRepositoryContract} as tests of the ports `makePorts` builds. */
export function describeRefundRepositoryContract(name: string, makePorts: () => RefundPorts | Promise<RefundPorts>): void {
  describeContract(`${name}: the RefundRepository contract`, refundRepositoryContract, makePorts);
}
