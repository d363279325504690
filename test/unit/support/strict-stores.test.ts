import { beforeEach, describe, expect, it } from 'vitest';
import { ConcurrentModificationError } from '../../../functions/domain/errors.ts';
import type { Payment } from '../../../functions/domain/payment.ts';
import { StaleWriteError } from '../../../functions/domain/ports.ts';
import type { Refund } from '../../../functions/domain/refund.ts';
import { USD } from '../../support/currencies.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { succeededPayment } from '../../support/payments.ts';
import { StrictIdempotencyStore } from '../../support/strict/idempotency-store.ts';
import { StrictPaymentRepository } from '../../support/strict/payments.ts';
import { StrictRefundRepository } from '../../support/strict/refunds.ts';
import { StrictWorkflow } from '../../support/strict/workflow.ts';

/** The simulation's tables and Step Functions: each refuses what the real service (and adapter) refuses. */
let clock: ManualClock;
let payments: StrictPaymentRepository;
let refunds: StrictRefundRepository;

const captured = succeededPayment();

const refundOf = (refundNo: string, amount: number, extra: Partial<Refund> = {}): Refund => ({
  refundNo,
  paymentNo: captured.paymentNo,
  merchantId: 'm_1',
  amount,
  currency: USD,
  operatorId: 'op',
  chargeId: 'pi_1',
  status: 'pending',
  version: 1,
  createdAt: '2026-01-05T00:00:00.000Z',
  updatedAt: '2026-01-05T00:00:00.000Z',
  reconcileAt: '2026-01-05T00:05:00.000Z',
  resumeCount: 0,
  ...extra,
});

beforeEach(async () => {
  clock = new ManualClock(Date.parse('2026-01-05T00:00:00Z'));
  payments = new StrictPaymentRepository({ clock: clock.clock, indexLagMs: 1000 });
  refunds = new StrictRefundRepository(payments, { clock: clock.clock });
  await payments.create(captured);
});

describe('StrictPaymentRepository', () => {
  it('refuses a replacement from a stale read, with the record as stored, and leaves it unchanged', async () => {
    // Prepare
    const moved = { ...captured, version: 5, updatedAt: 'later' };
    await payments.replace(captured, moved);

    // Act
    const stale = await payments.replace(captured, { ...captured, version: 5, declineCode: 'x' }).catch((e: unknown) => e);

    // Assess
    expect(stale).toBeInstanceOf(StaleWriteError);
    expect((stale as StaleWriteError).current).toEqual(moved);
    expect(await payments.get(captured.paymentNo)).toEqual(moved);
  });

  it('hands out what it stores frozen: a change is a write or an error', async () => {
    // Act
    const stored = (await payments.get(captured.paymentNo)) as { amount: number };

    // Assess
    expect(() => {
      stored.amount = 1;
    }).toThrow(TypeError);
  });

  it('lists a payment as due only once its index caught up', async () => {
    // Prepare
    const pending = { ...captured, paymentNo: 'pay_2', status: 'pending' as const, reconcileAt: '2026-01-05T00:00:00.000Z' };
    await payments.listDue(clock.clock(), 10);
    await payments.create(pending);

    // Act
    const atOnce = await payments.listDue(clock.clock(), 10);
    clock.advance(1001);
    const later = await payments.listDue(clock.clock(), 10);

    // Assess
    expect(atOnce).toEqual([]);
    expect(later.map((p) => p.paymentNo)).toEqual(['pay_2']);
  });
});

describe('StrictRefundRepository', () => {
  it('never lets refunds together pass what was captured, and a refused one writes nothing', async () => {
    // Act
    const first = await refunds.create(refundOf('re_1', 600));
    const second = await refunds.create(refundOf('re_2', 600));

    // Assess
    expect(first).toEqual({ outcome: 'created' });
    expect(second).toMatchObject({ outcome: 'refused', payment: { amountRefunded: 600 } });
    expect(await refunds.get('re_2')).toBeUndefined();
  });

  it('answers a repeat with the refund that exists, before the payment is looked at', async () => {
    // Prepare
    await refunds.create(refundOf('re_1', 1000));

    // Act
    const repeat = await refunds.create(refundOf('re_1', 1000));

    // Assess
    expect(repeat).toMatchObject({ outcome: 'exists', refund: { refundNo: 're_1' } });
    expect((await payments.get(captured.paymentNo))?.amountRefunded).toBe(1000);
  });

  it('revives a failed refund only while that much is still refundable', async () => {
    // Prepare
    await refunds.create(refundOf('re_1', 1000));
    const pending = (await refunds.get('re_1')) as Refund;
    await refunds.fail(pending, { ...pending, status: 'failed', version: 2 });
    await refunds.create(refundOf('re_2', 1000));
    const failed = (await refunds.get('re_1')) as Refund;

    // Act
    const revived = await refunds.revive(failed, { ...failed, status: 'succeeded', version: 3 }).catch((e: unknown) => e);

    // Assess
    expect(revived).toBeInstanceOf(ConcurrentModificationError);
    expect(await refunds.get('re_1')).toMatchObject({ status: 'failed' });
    expect((await payments.get(captured.paymentNo))?.amountRefunded).toBe(1000);
  });
});

describe('StrictIdempotencyStore', () => {
  it('claims only an absent or expired key, and lets only the lease owner complete or release it', async () => {
    // Prepare
    const keys = new StrictIdempotencyStore(clock.clock);
    const record = { id: 'k', parameters: {}, lease: { owner: 'a', expiresAt: 1 }, expiresAt: 100 };
    await keys.claim(record, 0);

    // Act
    const live = await keys.claim({ ...record, lease: { owner: 'b', expiresAt: 1 } }, 50);
    const byOther = await keys.complete('k', 'b', { status: 201, body: {} });
    await keys.release('k', 'b');
    const afterExpiry = await keys.claim({ ...record, lease: { owner: 'c', expiresAt: 1 } }, 100);

    // Assess
    expect(live?.lease?.owner).toBe('a');
    expect(byOther).toBe(false);
    expect(afterExpiry).toBeUndefined();
    expect((await keys.get('k'))?.lease?.owner).toBe('c');
  });

  it('keeps an expired record readable until the TTL deletes it', async () => {
    // Prepare
    const keys = new StrictIdempotencyStore(clock.clock);
    await keys.claim({ id: 'k', parameters: {}, expiresAt: clock.ms / 1000 + 10 }, 0);
    clock.advance(10_000);

    // Act
    const beforeSweep = await keys.get('k');
    keys.sweepExpired();

    // Assess
    expect(beforeSweep).toBeDefined();
    expect(await keys.get('k')).toBeUndefined();
  });
});

describe('StrictWorkflow', () => {
  it('starts a name once, and reports an execution past its timeout TIMED_OUT', async () => {
    // Prepare
    const started: string[] = [];
    const workflow = new StrictWorkflow(clock.clock, 3600, (execution) => started.push(execution.name));

    // Act
    await workflow.start('pay_1', 'pay_1');
    await workflow.start('pay_1', 'pay_1');
    clock.advance(3600 * 1000 + 1);

    // Assess
    expect(started).toEqual(['pay_1']);
    expect(await workflow.describe('pay_1')).toBe('TIMED_OUT');
    expect(await workflow.describe('pay_1-r1')).toBe('NOT_FOUND');
  });
});
