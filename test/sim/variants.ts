import type { SchoolWrite } from '../../functions/domain/carts/store.ts';
import type { Refund } from '../../functions/domain/refund.ts';
import { capturePayment } from '../../functions/domain/saga.ts';
import { InMemorySchoolStore } from '../support/in-memory-school-store.ts';
import type { StoredPayment } from '../support/strict/payments.ts';
import { StrictLedgerStore } from '../support/strict/ledger.ts';
import { StrictRefundRepository } from '../support/strict/refunds.ts';
import type { Variant } from './history.ts';
import { productSteps } from './sagas.ts';

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
  /** A school store that takes points given back (a declined or undone checkout's, a credit) and adds them to nothing. */
  'points not returned': {
    schoolStore: () =>
      new (class extends InMemorySchoolStore {
        protected override plan(write: SchoolWrite) {
          const planned = super.plan(write);
          return write.kind === 'points' && write.change === 'return' && planned.next !== undefined ? { ...planned, next: 'keep' as const } : planned;
        }
      })(),
  },
  /**
   * A ledger store whose postings lost their `attribute_not_exists` condition: a stream record
   * delivered again (a poster that died after it wrote, an answer lost) is posted again.
   */
  'redelivery posted again': {
    ledgerStore: () =>
      new (class extends StrictLedgerStore {
        protected override isPosted(): boolean {
          return false;
        }
      })(),
  },
  /** The Capture step as if the merchant's amount were not passed on: a manual payment captured in full, whatever was asked. */
  'capture amount ignored': {
    steps: {
      ...productSteps,
      payment: {
        ...productSteps.payment,
        Capture: (deps, state) =>
          capturePayment(
            {
              ...deps,
              provider: new Proxy(deps.provider, {
                get: (provider, name) =>
                  name === 'captureCharge'
                    ? ({ chargeId, idempotencyKey }: { chargeId: string; idempotencyKey: string }) => provider.captureCharge({ chargeId, idempotencyKey })
                    : Reflect.get(provider, name, provider),
              }),
            },
            state,
          ),
      },
    },
  },
} as const satisfies Record<string, Variant>;

export type BrokenVariant = keyof typeof brokenVariants;
