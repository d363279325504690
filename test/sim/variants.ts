import type { RefundSagaDeps, RefundSagaState } from '../../functions/domain/refund-saga.ts';
import { RefundStatus } from '../../functions/domain/refund.ts';
import type { Refund } from '../../functions/domain/refund.ts';
import { next } from '../../functions/domain/refund-saga.ts';
import { ErrorCode, NotFoundError } from '../../functions/domain/errors.ts';
import type { StoredPayment } from '../support/strict/payments.ts';
import { StrictRefundRepository } from '../support/strict/refunds.ts';
import { productSteps } from './sagas.ts';
import type { Variant } from './history.ts';

/**
 * The product with one rule broken on purpose, for the tests of the simulator itself: a
 * simulator that cannot tell these from the product checks nothing.
 */
export const brokenVariants = {
  /**
   * The refund saga as it was before a failed refund could be revived: RecordRefund leaves a
   * refund another execution failed as it is, even when this execution's provider refund went
   * through, and MarkRefundFailed leaves nothing for the reconciler to look at again.
   */
  'refund not revived': {
    steps: {
      ...productSteps,
      refund: {
        ...productSteps.refund,
        async RecordRefund(deps: RefundSagaDeps, state: RefundSagaState) {
          const refund = await loaded(deps, state.refund_no);
          if (refund.status !== RefundStatus.Pending) return state;
          if (state.provider_refund_id === undefined) throw new Error('RecordRefund needs provider_refund_id from SubmitRefund');
          await deps.refunds.replace(refund, next(deps, refund, { status: RefundStatus.Succeeded, providerRefundId: state.provider_refund_id }));
          return state;
        },
        async MarkRefundFailed(deps: RefundSagaDeps, state: RefundSagaState) {
          const refund = await loaded(deps, state.refund_no);
          if (refund.status !== RefundStatus.Pending) return state;
          const failureReason = state.error?.Error === 'ProviderRejected' ? ErrorCode.ProviderRejected : ErrorCode.RefundDeclined;
          await deps.refunds.fail(refund, next(deps, refund, { status: RefundStatus.Failed, failureReason }));
          return state;
        },
      },
    },
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

async function loaded(deps: Pick<RefundSagaDeps, 'refunds'>, refundNo: string): Promise<Refund> {
  const refund = await deps.refunds.get(refundNo);
  if (refund === undefined) throw new NotFoundError(`refund ${refundNo} does not exist`);
  return refund;
}
