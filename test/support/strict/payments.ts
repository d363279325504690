import { type Payment, type PaymentPatch, applyPatch, isTerminal } from '../../../functions/domain/payment.ts';
import { type Clock, type PaymentRepository, StaleWriteError } from '../../../functions/domain/ports.ts';
import type { StrictStream } from './stream.ts';
import { DueIndex, frozen } from './trailing-view.ts';

/** What the table holds for a payment: the payment, and what is left to refund (its own attribute). */
export interface StoredPayment {
  readonly payment: Payment;
  /** `amount_refundable`: what a refund's transaction checks and decrements. */
  readonly refundable: number;
}

export interface StrictStoreOptions {
  readonly clock: Clock;
  /**
   * How far the `by_due` index (a global secondary index, read eventually consistent) may trail
   * the table; unset, it never does.
   */
  readonly indexLagMs?: number;
  /** The table's stream, which every write of a payment or refund adds a record to. */
  readonly stream?: StrictStream;
}

/**
 * The payment repository with the DynamoDB adapter's semantics, in memory: a put unless the
 * payment_no exists (answering the stored one, as `ALL_OLD` does), a replacement only of the
 * status and version read (else {@link StaleWriteError} carrying the record as stored), and
 * `listDue` from a sparse index of unfinished payments that may trail the writes. What it
 * stores is a frozen copy, so no caller can change a record except by writing it.
 */
export class StrictPaymentRepository implements PaymentRepository {
  private readonly items = new Map<string, StoredPayment>();
  private readonly dueIndex: DueIndex<Payment>;

  constructor(private readonly options: StrictStoreOptions) {
    this.dueIndex = new DueIndex(
      () => [...this.items.values()].map((item) => item.payment).filter(isDue),
      () => options.clock().getTime(),
      options.indexLagMs,
    );
  }

  async get(paymentNo: string): Promise<Payment | undefined> {
    return this.items.get(paymentNo)?.payment;
  }

  async create(payment: Payment) {
    const existing = this.items.get(payment.paymentNo);
    if (existing) return { created: false as const, payment: existing.payment };
    this.store(payment);
    return { created: true as const, payment };
  }

  async replace(current: Payment, next: Payment): Promise<Payment> {
    if (next.version !== current.version + 1 || next.paymentNo !== current.paymentNo) {
      throw new Error('a replacement must be the next version of the same payment');
    }
    const stored = this.items.get(current.paymentNo)?.payment;
    if (stored === undefined || stored.status !== current.status || stored.version !== current.version) {
      throw new StaleWriteError(stored);
    }
    this.store(next);
    return next;
  }

  async update(expected: Pick<Payment, 'paymentNo' | 'status' | 'version'>, patch: PaymentPatch): Promise<Payment> {
    if (patch.set.version !== expected.version + 1) throw new Error('a patch must write the next version of the payment');
    const stored = this.items.get(expected.paymentNo)?.payment;
    if (stored === undefined || stored.status !== expected.status || stored.version !== expected.version) {
      throw new StaleWriteError(stored);
    }
    const next = applyPatch(stored, patch);
    this.store(next);
    return next;
  }

  async listDue(now: Date, limit: number): Promise<Payment[]> {
    return this.dueIndex.due(now, limit);
  }

  /**
   * Another actor's write, past the conditions a replace checks: the payment moved on behind
   * its readers' backs, its version up one, as a write of theirs would leave it.
   */
  tamper(paymentNo: string, changes: Partial<Payment>): Payment {
    const stored = this.items.get(paymentNo)?.payment;
    if (stored === undefined) throw new Error(`no payment ${paymentNo} to tamper with`);
    const next = { ...stored, ...changes, version: stored.version + 1 };
    this.store(next);
    return next;
  }

  /** The index catches up with the table. */
  catchUpIndex(): void {
    this.dueIndex.catchUp();
  }

  /** Every payment as stored, in the order written first. */
  all(): Payment[] {
    return [...this.items.values()].map((item) => item.payment);
  }

  /** The item with its refundable amount: what a refund's transaction reads. */
  item(paymentNo: string): StoredPayment | undefined {
    return this.items.get(paymentNo);
  }

  /**
   * A refund transaction's update of the payment: `amount` added to the refunded total and taken
   * from the refundable one, the version bumped, nothing else touched.
   */
  moveRefunded(paymentNo: string, amount: number, updatedAt: string, refundNo?: string): void {
    const stored = this.items.get(paymentNo);
    if (stored === undefined) throw new Error(`no payment ${paymentNo} to move a refund on`);
    const { payment } = stored;
    const next = frozen({
      payment: structuredClone({
        ...payment,
        amountRefunded: payment.amountRefunded + amount,
        version: payment.version + 1,
        updatedAt,
        ...(refundNo !== undefined && { refundNos: [...(payment.refundNos ?? []), refundNo] }),
      }),
      refundable: stored.refundable - amount,
    });
    this.items.set(paymentNo, next);
    this.options.stream?.append(`PAYMENT#${paymentNo}`, { kind: 'payment', before: payment, after: next.payment });
  }

  private store(payment: Payment): void {
    const before = this.items.get(payment.paymentNo)?.payment;
    // A whole-item put writes `amount_refundable` from the payment, as the adapter's `toItem` does.
    this.items.set(
      payment.paymentNo,
      frozen({ payment: structuredClone(payment), refundable: payment.amountCaptured - payment.amountRefunded }),
    );
    this.options.stream?.append(`PAYMENT#${payment.paymentNo}`, { kind: 'payment', ...(before !== undefined && { before }), after: payment });
  }
}

/** What the adapter writes into the sparse `by_due` index: an unfinished payment with a due time. */
function isDue(payment: Payment): boolean {
  return !isTerminal(payment.status) && payment.reconcileAt !== undefined;
}
