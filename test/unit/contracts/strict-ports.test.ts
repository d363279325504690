import { describe, expect, it } from 'vitest';
import type { IdempotencyRecord } from '../../../functions/domain/idempotency.ts';
import type { Merchant } from '../../../functions/domain/merchant.ts';
import type { Payment } from '../../../functions/domain/payment.ts';
import type { Refund } from '../../../functions/domain/refund.ts';
import { failingChecks } from '../../contracts/contract.ts';
import { describeIdempotencyStoreContract, idempotencyStoreContract } from '../../contracts/idempotency-store.contract.ts';
import { describeMerchantKeyStoreContract, merchantKeyStoreContract } from '../../contracts/merchant-key-store.contract.ts';
import { describePaymentRepositoryContract, paymentRepositoryContract } from '../../contracts/payment-repository.contract.ts';
import { describeRefundRepositoryContract, refundRepositoryContract } from '../../contracts/refund-repository.contract.ts';
import { StrictIdempotencyStore } from '../../support/strict/idempotency-store.ts';
import type { NewApiKey } from '../../../functions/domain/api-keys.ts';
import { StrictMerchantKeyStore } from '../../support/strict/merchant-key-store.ts';
import { type StoredPayment, StrictPaymentRepository } from '../../support/strict/payments.ts';
import { StrictRefundRepository } from '../../support/strict/refunds.ts';

/**
 * The in-memory ports the simulation and the domain's tests run on, held to the same contracts
 * as the DynamoDB adapters on DynamoDB Local (test/adapters/repositories.test.ts): where they
 * pass the same checks, they are as strict as DynamoDB; and each weakened on purpose fails them.
 */
const clock = () => new Date();

describePaymentRepositoryContract('StrictPaymentRepository', () => new StrictPaymentRepository({ clock }));
describeRefundRepositoryContract('StrictRefundRepository', () => {
  const payments = new StrictPaymentRepository({ clock });
  return { payments, refunds: new StrictRefundRepository(payments, { clock }) };
});
describeIdempotencyStoreContract('StrictIdempotencyStore', () => new StrictIdempotencyStore(clock));
describeMerchantKeyStoreContract('StrictMerchantKeyStore', () => new StrictMerchantKeyStore());

/** A careless edit of a strict port, and the checks of its contract that must then fail. */
interface Mutant {
  readonly edit: string;
  readonly failing: () => Promise<Record<string, string>>;
  readonly caughtBy: readonly string[];
}

const mutants: readonly Mutant[] = [
  {
    edit: "the payment's replace writes over whatever is stored",
    failing: () =>
      failingChecks(paymentRepositoryContract, () =>
        new (class extends StrictPaymentRepository {
          override async replace(current: Payment, next: Payment): Promise<Payment> {
            const stored = (await this.get(current.paymentNo)) ?? current;
            return super.replace(stored, { ...next, version: stored.version + 1 });
          }
        })({ clock }),
      ),
    caughtBy: ['refuses a replace from a stale read (an older version, same status), leaving the payment as stored'],
  },
  {
    edit: "the refund's transaction no longer checks what is left to refund",
    failing: () =>
      failingChecks(refundRepositoryContract, () => {
        const payments = new StrictPaymentRepository({ clock });
        const refunds = new (class extends StrictRefundRepository {
          protected override acceptsRefund(item: StoredPayment, refund: Refund): boolean {
            return super.acceptsRefund({ ...item, refundable: Number.MAX_SAFE_INTEGER }, refund);
          }
        })(payments, { clock });
        return { payments, refunds };
      }),
    caughtBy: ['refuses a refund over what is left to refund, writing nothing, and takes exactly what is left'],
  },
  {
    edit: 'a claim takes a key whose record is live',
    failing: () =>
      failingChecks(idempotencyStoreContract, () =>
        new (class extends StrictIdempotencyStore {
          override async claim(record: IdempotencyRecord): Promise<IdempotencyRecord | undefined> {
            return super.claim(record, Number.POSITIVE_INFINITY);
          }
        })(clock),
      ),
    caughtBy: ['refuses to claim a key whose record is live, answering that record and keeping it'],
  },
  {
    edit: 'a key is given again to whichever merchant asks',
    failing: () =>
      failingChecks(merchantKeyStoreContract, () =>
        new (class extends StrictMerchantKeyStore {
          override async addMerchantKey(merchant: Merchant, key: NewApiKey): Promise<void> {
            this.keys.delete(key.keyHash);
            return super.addMerchantKey(merchant, key);
          }
        })(),
      ),
    caughtBy: ['refuses to give a key that names one merchant to another, writing nothing of the other'],
  },
  {
    edit: 'a revoked key is revoked again, later',
    failing: () =>
      failingChecks(merchantKeyStoreContract, () =>
        new (class extends StrictMerchantKeyStore {
          override async revokeKey(keyHash: string, at: string): Promise<void> {
            const key = this.keys.get(keyHash);
            if (key === undefined) return super.revokeKey(keyHash, at);
            this.keys.set(keyHash, { ...key, revokedAt: at });
          }
        })(),
      ),
    caughtBy: ['keeps a key’s first revocation, and only ever moves its expiry sooner'],
  },
];

describe('the contracts, on strict ports weakened on purpose', () => {
  it.each(mutants)('notice when $edit', async ({ failing, caughtBy }) => {
    // Act
    const failures = await failing();

    // Assess
    expect(Object.keys(failures)).toEqual(expect.arrayContaining([...caughtBy]));
  });
});
