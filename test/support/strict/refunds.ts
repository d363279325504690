import { ConcurrentModificationError } from '../../../functions/domain/errors.ts';
import type { Payment } from '../../../functions/domain/payment.ts';
import type { Refund, RefundCreation, RefundRepository } from '../../../functions/domain/refund.ts';
import type { StoredPayment, StrictPaymentRepository, StrictStoreOptions } from './payments.ts';
import { DueIndex, frozen } from './trailing-view.ts';

/** TransactGetItems reads at most 100 items: the payment and its first 99 refunds. */
const TRANSACT_GET_LIMIT = 100;

/**
 * The refund repository with the DynamoDB adapter's transactions, in memory, over the same
 * payments: `create` puts the refund unless its refund_no exists and, in the same transaction,
 * moves the amount on a payment that is this merchant's, succeeded, has that much refundable
 * (and, if asked, still the refunded total the caller saw); `fail` gives the amount back and
 * `revive` takes it again (only while that much is refundable), each with the refund's own
 * status-and-version condition; any refused transaction changes nothing.
 */
export class StrictRefundRepository implements RefundRepository {
  private readonly items = new Map<string, Refund>();
  private readonly dueIndex: DueIndex<Refund>;

  constructor(
    private readonly payments: StrictPaymentRepository,
    private readonly options: StrictStoreOptions,
  ) {
    this.dueIndex = new DueIndex(
      () => [...this.items.values()].filter((refund) => refund.reconcileAt !== undefined),
      () => options.clock().getTime(),
      options.indexLagMs,
    );
  }

  async get(refundNo: string): Promise<Refund | undefined> {
    return this.items.get(refundNo);
  }

  async create(refund: Refund): Promise<RefundCreation> {
    // The refund's condition is read first: a repeat also fails the payment's (its amount is taken).
    const existing = this.items.get(refund.refundNo);
    if (existing !== undefined) return { outcome: 'exists', refund: existing };
    const item = this.payments.item(refund.paymentNo);
    if (item === undefined || !this.acceptsRefund(item, refund)) return { outcome: 'refused', payment: item?.payment };
    this.store(refund);
    this.payments.moveRefunded(refund.paymentNo, refund.amount, refund.createdAt, refund.refundNo);
    return { outcome: 'created' };
  }

  async replace(current: Refund, next: Refund): Promise<Refund> {
    this.requireUnchanged(current);
    this.store(next);
    return next;
  }

  async fail(current: Refund, next: Refund): Promise<Refund> {
    return this.moveAmount(current, next, -current.amount);
  }

  async revive(current: Refund, next: Refund): Promise<Refund> {
    return this.moveAmount(current, next, current.amount);
  }

  async listForPayment(payment: Payment): Promise<{ payment: Payment; refunds: Refund[] }> {
    const refundNos = payment.refundNos ?? [];
    if (refundNos.length === 0) return { payment, refunds: [] };
    return {
      payment: this.payments.item(payment.paymentNo)?.payment ?? payment,
      refunds: refundNos
        .slice(0, TRANSACT_GET_LIMIT - 1)
        .map((refundNo) => this.items.get(refundNo))
        .filter((refund) => refund !== undefined),
    };
  }

  async listDue(now: Date, limit: number): Promise<Refund[]> {
    return this.dueIndex.due(now, limit);
  }

  catchUpIndex(): void {
    this.dueIndex.catchUp();
  }

  /** Every refund as stored, in the order written first. */
  all(): Refund[] {
    return [...this.items.values()];
  }

  /**
   * The payment side of `create`'s condition: `status = succeeded AND merchant_id = :merchant
   * AND amount_refundable >= :amount [AND amount_refunded = :expected]`.
   */
  protected acceptsRefund({ payment, refundable }: StoredPayment, refund: Refund): boolean {
    return (
      payment.status === 'succeeded' &&
      payment.merchantId === refund.merchantId &&
      refundable >= refund.amount &&
      (refund.expectedAmountRefunded === undefined || payment.amountRefunded === refund.expectedAmountRefunded)
    );
  }

  /** The refund replaced and `amount` moved onto its payment, if `amount_refundable >= :amount` holds. */
  private moveAmount(current: Refund, next: Refund, amount: number): Refund {
    this.requireUnchanged(current);
    const item = this.payments.item(current.paymentNo);
    // Every cancelled transaction (the refund moved on, the payment missing or without room) reads as stale.
    if (item === undefined || item.refundable < amount) throw stale(current);
    this.store(next);
    this.payments.moveRefunded(current.paymentNo, amount, next.updatedAt);
    return next;
  }

  private requireUnchanged(current: Refund): void {
    const stored = this.items.get(current.refundNo);
    if (stored === undefined || stored.status !== current.status || stored.version !== current.version) throw stale(current);
  }

  private store(refund: Refund): void {
    const before = this.items.get(refund.refundNo);
    this.items.set(refund.refundNo, frozen(structuredClone(refund)));
    this.options.stream?.append(`REFUND#${refund.refundNo}`, { kind: 'refund', ...(before !== undefined && { before }), after: refund });
  }
}

function stale(current: Refund): ConcurrentModificationError {
  return new ConcurrentModificationError(`refund ${current.refundNo} moved on from version ${current.version}`);
}
