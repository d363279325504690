import type { Refund } from '../../functions/domain/refund.ts';
import type { StoredPayment } from '../support/strict/payments.ts';
import { StrictRefundRepository } from '../support/strict/refunds.ts';
import type { Variant } from './history.ts';

/**
 * The product with one rule broken on purpose, for the tests of the simulator itself: a
 * simulator that cannot tell these from the product checks nothing.
 */
export const brokenVariants = {
  /**
   * The refund saga as it was before a failed refund could be revived: a refund another
   * execution failed stays failed, whatever this execution's provider refund did (every path
   * that brings it back, to pending or succeeded, goes through the repository's `revive`).
   */
  'refund not revived': {
    refundRepository: (payments, options) =>
      new (class extends StrictRefundRepository {
        override async revive(current: Refund): Promise<Refund> {
          return current;
        }
      })(payments, options),
  },
  /** A refund repository whose transaction no longer checks what is left to refund. */
  'refund cap removed': {
    refundRepository: (payments, options) =>
      new (class extends StrictRefundRepository {
        protected override acceptsRefund(item: StoredPayment, refund: Refund): boolean {
          return super.acceptsRefund({ ...item, refundable: Number.MAX_SAFE_INTEGER }, refund);
        }
      })(payments, options),
  },
} as const satisfies Record<string, Variant>;

export type BrokenVariant = keyof typeof brokenVariants;
