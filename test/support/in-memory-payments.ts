import type { Payment } from '../../functions/domain/payment.ts';
import { type PaymentRepository, StaleWriteError } from '../../functions/domain/ports.ts';
import { isTerminal } from '../../functions/domain/payment.ts';

/** The repository's contract in memory: the same conditions the DynamoDB adapter writes. */
export class InMemoryPayments implements PaymentRepository {
  readonly items = new Map<string, Payment>();
  writes = 0;

  async get(paymentNo: string) {
    return this.items.get(paymentNo);
  }

  async create(payment: Payment) {
    const existing = this.items.get(payment.paymentNo);
    if (existing) return { created: false as const, payment: existing };
    this.writes++;
    this.items.set(payment.paymentNo, payment);
    return { created: true as const, payment };
  }

  async replace(current: Payment, next: Payment) {
    const stored = this.items.get(current.paymentNo);
    if (!stored || stored.status !== current.status || stored.version !== current.version) {
      throw new StaleWriteError(stored);
    }
    this.writes++;
    this.items.set(next.paymentNo, next);
    return next;
  }

  async listDue(now: Date, limit: number) {
    return [...this.items.values()]
      .filter((p) => !isTerminal(p.status) && p.reconcileAt !== undefined && p.reconcileAt <= now.toISOString())
      .sort((a, b) => a.reconcileAt!.localeCompare(b.reconcileAt!))
      .slice(0, limit);
  }

  /** Moves a payment behind the caller's back, as another actor would. */
  tamper(paymentNo: string, changes: Partial<Payment>) {
    const stored = this.items.get(paymentNo)!;
    this.items.set(paymentNo, { ...stored, ...changes, version: stored.version + 1 });
  }
}
