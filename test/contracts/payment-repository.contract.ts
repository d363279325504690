import { expect } from 'vitest';
import { type Payment, type PaymentPatch, applyPatch, isTerminal } from '../../functions/domain/payment.ts';
import { type PaymentRepository, StaleWriteError } from '../../functions/domain/ports.ts';
import { USD } from '../support/currencies.ts';
import { type Contract, describeContract, earlierHour, uniqueId } from './contract.ts';

const T0 = '2026-11-23T10:00:00.000Z';
const T1 = '2026-11-23T10:01:00.000Z';

/** A pending payment nobody has written yet; `overrides` may move it anywhere. */
export function newPayment(overrides: Partial<Payment> = {}): Payment {
  return {
    paymentNo: uniqueId('pay'),
    merchantId: 'merchant_contract',
    orderNo: uniqueId('order'),
    amount: 1000,
    currency: USD,
    paymentMethod: 'pm_card_visa',
    status: 'pending',
    version: 1,
    amountCaptured: 0,
    amountRefunded: 0,
    createdAt: T0,
    updatedAt: T0,
    reconcileAt: '2026-11-23T10:05:00.000Z',
    resumeCount: 0,
    ...overrides,
  };
}

/** `payment`'s next version, as a saga step would write it: a finished payment is due for nothing. */
export function nextOf(payment: Payment, changes: Partial<Payment> = {}): Payment {
  const finished = changes.status !== undefined && isTerminal(changes.status);
  return { ...payment, updatedAt: T1, ...(finished && { reconcileAt: undefined }), ...changes, version: payment.version + 1 };
}

/** A patch of `payment`'s next version, as a writer that did not read it sends it. */
export function patchOf(payment: Payment, changes: Partial<PaymentPatch['set']>, remove: PaymentPatch['remove'] = []): PaymentPatch {
  return { set: { updatedAt: T1, ...changes, version: payment.version + 1 }, remove };
}

async function refusedAsStale(write: Promise<unknown>): Promise<StaleWriteError> {
  const error = await write.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, 'the write should have been refused').toBeInstanceOf(StaleWriteError);
  return error as StaleWriteError;
}

/**
 * What every {@link PaymentRepository} must do, by behaviour: each write is conditional on
 * what the caller read, and a refused write changes nothing and says what is stored.
 */
export const paymentRepositoryContract: Contract<PaymentRepository> = {
  'creates a payment that get then reads back as written': async (payments) => {
    const payment = newPayment({
      customerEmail: 'ada@example.com',
      description: 'two lessons',
      metadata: { cart: 'c-1' },
      createdBy: 'request-token-1',
    });

    const result = await payments.create(payment);

    expect(result).toEqual({ created: true, payment });
    expect(await payments.get(payment.paymentNo)).toEqual(payment);
  },

  'creates a payment_no once: a second create answers the stored payment and writes nothing': async (payments) => {
    const first = newPayment();
    await payments.create(first);

    const second = await payments.create({ ...first, orderNo: 'another-order', amount: 5000 });

    expect(second).toEqual({ created: false, payment: first });
    expect(await payments.get(first.paymentNo)).toEqual(first);
  },

  'replaces a payment at the status and version read, with every field of the next version': async (payments) => {
    const payment = newPayment();
    await payments.create(payment);
    const next = nextOf(payment, {
      status: 'authorized',
      chargeId: 'pi_contract',
      captureBefore: '2026-11-30T10:00:00.000Z',
      lease: { owner: 'reconciler-1', expiresAt: '2026-11-23T10:03:00.000Z' },
    });

    const written = await payments.replace(payment, next);

    expect(written).toEqual(next);
    expect(await payments.get(payment.paymentNo)).toEqual(next);
  },

  'refuses a replace from a stale read (an older version, same status), leaving the payment as stored': async (payments) => {
    const payment = newPayment();
    await payments.create(payment);
    const stored = nextOf(payment, { resumeCount: 1 });
    await payments.replace(payment, stored);

    const refused = await refusedAsStale(payments.replace(payment, nextOf(payment, { status: 'failed' })));

    expect(refused.current).toEqual(stored);
    expect(await payments.get(payment.paymentNo)).toEqual(stored);
  },

  'refuses a replace from a read at the stored version but another status, leaving the payment as stored': async (payments) => {
    const payment = newPayment();
    await payments.create(payment);
    const stored = nextOf(payment, { status: 'authorized', chargeId: 'pi_contract' });
    await payments.replace(payment, stored);
    const misread: Payment = { ...stored, status: 'pending' };

    const refused = await refusedAsStale(payments.replace(misread, nextOf(misread, { status: 'canceled' })));

    expect(refused.current).toEqual(stored);
    expect(await payments.get(payment.paymentNo)).toEqual(stored);
  },

  'lets exactly one of two replaces from the same read win': async (payments) => {
    const payment = newPayment();
    await payments.create(payment);
    const succeeded = nextOf(payment, { status: 'authorized', chargeId: 'pi_contract' });
    const failed = nextOf(payment, { status: 'failed', declineCode: 'card_declined' });

    const outcomes = await Promise.allSettled([payments.replace(payment, succeeded), payments.replace(payment, failed)]);

    const won = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const lost = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(StaleWriteError);
    expect(await payments.get(payment.paymentNo)).toEqual(won[0]);
  },

  'refuses to replace a payment that was never created, and creates nothing': async (payments) => {
    const ghost = newPayment();

    const refused = await refusedAsStale(payments.replace(ghost, nextOf(ghost, { status: 'authorized' })));

    expect(refused.current).toBeUndefined();
    expect(await payments.get(ghost.paymentNo)).toBeUndefined();
  },

  'refuses a replacement that is not the next version of the payment read': async (payments) => {
    const payment = newPayment();
    await payments.create(payment);

    await expect(payments.replace(payment, { ...nextOf(payment), version: payment.version + 2 })).rejects.toThrow();
    await expect(payments.replace(payment, { ...nextOf(payment), paymentNo: uniqueId('pay') })).rejects.toThrow();

    expect(await payments.get(payment.paymentNo)).toEqual(payment);
  },

  'writes a patch over the status and version presumed, leaving the rest as stored': async (payments) => {
    const payment = newPayment({ metadata: { cart: 'c-1' }, lease: { owner: 'reconciler-1', expiresAt: '2026-11-23T10:03:00.000Z' } });
    await payments.create(payment);
    const patch = patchOf(payment, { status: 'authorized', chargeId: 'pi_contract', reconcileAt: '2026-11-23T10:06:00.000Z' }, ['lease']);

    const written = await payments.update(payment, patch);

    expect(written).toEqual(applyPatch(payment, patch));
    expect(written.lease).toBeUndefined();
    expect(await payments.get(payment.paymentNo)).toEqual(written);
  },

  'refuses a patch over a version the payment moved on from, saying what is stored and leaving it so': async (payments) => {
    const payment = newPayment();
    await payments.create(payment);
    const stored = nextOf(payment, { resumeCount: 1 });
    await payments.replace(payment, stored);

    const refused = await refusedAsStale(payments.update(payment, patchOf(payment, { status: 'authorized', chargeId: 'pi_contract' })));

    expect(refused.current).toEqual(stored);
    expect(await payments.get(payment.paymentNo)).toEqual(stored);
  },

  'refuses a patch over a status the payment no longer has, at the version presumed': async (payments) => {
    const payment = newPayment();
    await payments.create(payment);

    const refused = await refusedAsStale(payments.update({ ...payment, status: 'authorized' }, patchOf(payment, { status: 'succeeded' }, ['reconcileAt'])));

    expect(refused.current).toEqual(payment);
    expect(await payments.get(payment.paymentNo)).toEqual(payment);
  },

  'refuses a patch of a payment that was never created, and creates nothing': async (payments) => {
    const ghost = newPayment();

    const refused = await refusedAsStale(payments.update(ghost, patchOf(ghost, { status: 'authorized' })));

    expect(refused.current).toBeUndefined();
    expect(await payments.get(ghost.paymentNo)).toBeUndefined();
  },

  'refuses a patch that does not write the next version of the payment presumed': async (payments) => {
    const payment = newPayment();
    await payments.create(payment);

    const writing = (version: number): PaymentPatch => ({ set: { status: 'authorized', updatedAt: T1, version }, remove: [] });

    await expect(payments.update(payment, writing(payment.version))).rejects.toThrow();
    await expect(payments.update(payment, writing(payment.version + 2))).rejects.toThrow();

    expect(await payments.get(payment.paymentNo)).toEqual(payment);
  },

  'takes a payment a patch finishes off the due list, and moves the due time of one it leaves open': async (payments) => {
    const at = earlierHour();
    const [finished, moved] = [newPayment({ reconcileAt: at(1), status: 'authorized' }), newPayment({ reconcileAt: at(2) })];
    for (const payment of [finished, moved]) await payments.create(payment);

    await payments.update(finished, patchOf(finished, { status: 'succeeded', amountCaptured: finished.amount }, ['reconcileAt']));
    await payments.update(moved, patchOf(moved, { reconcileAt: at(3) }));

    expect((await payments.listDue(new Date(at(10)), 10)).map((payment) => [payment.paymentNo, payment.reconcileAt])).toEqual([[moved.paymentNo, at(3)]]);
  },

  'lists unfinished payments whose reconcile time has passed, oldest first, at most the limit': async (payments) => {
    const at = earlierHour();
    const [second, first, third] = [newPayment({ reconcileAt: at(2) }), newPayment({ reconcileAt: at(1) }), newPayment({ reconcileAt: at(3) })];
    const later = newPayment({ reconcileAt: at(30) });
    const finished = newPayment({ reconcileAt: at(1) });
    for (const payment of [second, first, third, later, finished]) await payments.create(payment);
    await payments.replace(finished, nextOf(finished, { status: 'succeeded', amountCaptured: finished.amount }));

    const due = await payments.listDue(new Date(at(10)), 10);
    const firstTwo = await payments.listDue(new Date(at(10)), 2);

    expect(due.map((payment) => payment.paymentNo)).toEqual([first.paymentNo, second.paymentNo, third.paymentNo]);
    expect(firstTwo.map((payment) => payment.paymentNo)).toEqual([first.paymentNo, second.paymentNo]);
  },
};

/** Registers {@link paymentRepositoryContract} as tests of the repositories `makeRepository` builds. */
export function describePaymentRepositoryContract(
  name: string,
  makeRepository: () => PaymentRepository | Promise<PaymentRepository>,
): void {
  describeContract(`${name}: the PaymentRepository contract`, paymentRepositoryContract, makeRepository);
}
