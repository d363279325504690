import { ConcurrentModificationError } from '../../functions/domain/errors.ts';
import type { Payment } from '../../functions/domain/payment.ts';
import type { Refund, RefundCreation, RefundRepository } from '../../functions/domain/refund.ts';
import type { InMemoryPayments } from './in-memory-payments.ts';

/** The refund repository's contract in memory, moving its payment's totals as the DynamoDB transaction does. */
export class InMemoryRefunds implements RefundRepository {
  readonly items = new Map<string, Refund>();

  constructor(private readonly payments: InMemoryPayments) {}

  async get(refundNo: string) {
    return this.items.get(refundNo);
  }

  async create(refund: Refund): Promise<RefundCreation> {
    const existing = this.items.get(refund.refundNo);
    if (existing) return { outcome: 'exists', refund: existing };
    const payment = this.payments.items.get(refund.paymentNo);
    const refusable =
      !payment ||
      payment.status !== 'succeeded' ||
      payment.merchantId !== refund.merchantId ||
      payment.amountCaptured - payment.amountRefunded < refund.amount ||
      (refund.expectedAmountRefunded !== undefined && payment.amountRefunded !== refund.expectedAmountRefunded);
    if (refusable) return { outcome: 'refused', payment };
    this.items.set(refund.refundNo, refund);
    this.movePayment(payment, refund.amount, [...(payment.refundNos ?? []), refund.refundNo]);
    return { outcome: 'created' };
  }

  async replace(current: Refund, next: Refund) {
    this.check(current);
    this.items.set(next.refundNo, next);
    return next;
  }

  async fail(current: Refund, next: Refund) {
    this.check(current);
    this.items.set(next.refundNo, next);
    const payment = this.payments.items.get(current.paymentNo)!;
    this.movePayment(payment, -current.amount, payment.refundNos ?? []);
    return next;
  }

  async revive(current: Refund, next: Refund) {
    this.check(current);
    const payment = this.payments.items.get(current.paymentNo)!;
    if (payment.amountCaptured - payment.amountRefunded < current.amount) {
      throw new ConcurrentModificationError(`payment ${payment.paymentNo} has no room for refund ${current.refundNo}`);
    }
    this.items.set(next.refundNo, next);
    this.movePayment(payment, current.amount, payment.refundNos ?? []);
    return next;
  }

  async listForPayment(payment: Payment) {
    return { payment, refunds: (payment.refundNos ?? []).map((no) => this.items.get(no)!).filter(Boolean) };
  }

  async listDue(now: Date, limit: number) {
    return [...this.items.values()]
      .filter((r) => r.reconcileAt !== undefined && r.reconcileAt <= now.toISOString())
      .slice(0, limit);
  }

  private check(current: Refund) {
    const stored = this.items.get(current.refundNo);
    if (!stored || stored.version !== current.version || stored.status !== current.status) {
      throw new ConcurrentModificationError(`refund ${current.refundNo} moved on`);
    }
  }

  private movePayment(payment: Payment, amount: number, refundNos: readonly string[]) {
    this.payments.items.set(payment.paymentNo, {
      ...payment,
      amountRefunded: payment.amountRefunded + amount,
      refundNos,
      version: payment.version + 1,
    });
  }
}
