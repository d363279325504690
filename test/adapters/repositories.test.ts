import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoIdempotencyStore } from '../../functions/adapters/dynamodb/idempotency-store.ts';
import { DynamoMerchantKeyStore } from '../../functions/adapters/dynamodb/merchant-key-store.ts';
import { DynamoPaymentRepository, keyOf } from '../../functions/adapters/dynamodb/payment-repository.ts';
import { touch, touchPatch } from '../../functions/domain/saga.ts';
import { DynamoRefundRepository } from '../../functions/adapters/dynamodb/refund-repository.ts';
import { type Contract, failingChecks, uniqueId } from '../contracts/contract.ts';
import { describeIdempotencyStoreContract, idempotencyStoreContract } from '../contracts/idempotency-store.contract.ts';
import { describeMerchantKeyStoreContract, merchantKeyStoreContract } from '../contracts/merchant-key-store.contract.ts';
import { describePaymentRepositoryContract, newPayment, paymentRepositoryContract } from '../contracts/payment-repository.contract.ts';
import { describeRefundRepositoryContract, type RefundPorts, refundRepositoryContract } from '../contracts/refund-repository.contract.ts';
import { localTableForThisFile } from './local-table.ts';
import { weakenedConditions } from './weakened-client.ts';

/**
 * Every DynamoDB repository held to its port's contract on DynamoDB Local, and each guarding
 * condition weakened once, on purpose, to see the contract notice.
 */
const table = localTableForThisFile();

const payments = (db: DynamoDBDocumentClient) => new DynamoPaymentRepository(db, table().name);
const refundPorts = (db: DynamoDBDocumentClient): RefundPorts => ({
  payments: payments(db),
  refunds: new DynamoRefundRepository(db, table().name),
});
const idempotencyStore = (db: DynamoDBDocumentClient) => new DynamoIdempotencyStore(db, table().name);
const merchantKeys = (db: DynamoDBDocumentClient) => new DynamoMerchantKeyStore(db, table().name);

describePaymentRepositoryContract('DynamoPaymentRepository on DynamoDB Local', () => payments(table().db));
describeRefundRepositoryContract('DynamoRefundRepository on DynamoDB Local', () => refundPorts(table().db));
describeIdempotencyStoreContract('DynamoIdempotencyStore on DynamoDB Local', () => idempotencyStore(table().db));
describeMerchantKeyStoreContract('DynamoMerchantKeyStore on DynamoDB Local', () => merchantKeys(table().db));

describe('a patch written without a read', () => {
  it('leaves the item exactly as a replace with the patched payment does, what is left to refund and the due index included', async () => {
    // Prepare: two payments alike but for their keys, authorized, leased and flagged for a person.
    const repository = payments(table().db);
    const authorized = (paymentNo: string) =>
      newPayment({
        paymentNo,
        orderNo: 'order-alike',
        status: 'authorized',
        chargeId: 'pi_alike',
        metadata: { cart: 'c-1' },
        lease: { owner: 'reconciler-1', expiresAt: '2026-11-23T10:03:00.000Z' },
        needsAttention: { reason: 'provider_unreachable', since: '2026-11-23T10:02:00.000Z' },
      });
    const [replaced, patched] = [authorized(uniqueId('pay')), authorized(uniqueId('pay'))];
    for (const payment of [replaced, patched]) await repository.create(payment);
    const deps = { clock: () => new Date('2026-11-23T10:04:00.000Z'), reconcileAfterSeconds: 300 };

    // Act: the same two writes each way, one that leaves the payment open and one that finishes it.
    for (const changes of [{ chargeId: 'pi_other', captureBefore: '2026-11-30T10:00:00.000Z' }, { status: 'succeeded' as const, amountCaptured: 900 }]) {
      const current = (await repository.get(replaced.paymentNo))!;
      await repository.replace(current, touch(deps, current, changes));
      const presumed = (await repository.get(patched.paymentNo))!;
      await repository.update(presumed, touchPatch(deps, presumed, changes));
    }

    // Assess
    const item = async (paymentNo: string) => {
      const { Item } = await table().db.send(new GetCommand({ TableName: table().name, Key: keyOf(paymentNo) }));
      const { pk: _pk, payment_no: _no, list_sk: _listed, due_shard: _shard, ...rest } = Item!;
      return rest;
    };
    expect(await item(patched.paymentNo)).toEqual(await item(replaced.paymentNo));
    expect(await item(patched.paymentNo)).toMatchObject({ amount_refundable: 900, status: 'succeeded' });
  });

  it('refuses a patch of a field it has no attribute for, writing nothing', async () => {
    const repository = payments(table().db);
    const payment = newPayment();
    await repository.create(payment);

    const patching = repository.update(payment, touchPatch({ clock: () => new Date(), reconcileAfterSeconds: 300 }, payment, { resumeCount: 1 }));

    await expect(patching).rejects.toThrow(/cannot set resumeCount/);
    expect(await repository.get(payment.paymentNo)).toEqual(payment);
  });
});

interface Mutant {
  /** What the careless edit does to the adapter's condition. */
  readonly edit: string;
  readonly from: string;
  readonly to: string;
  /** The contract's checks that must fail on the edited adapter. */
  readonly caughtBy: readonly string[];
  readonly run: (db: DynamoDBDocumentClient) => Promise<Record<string, string>>;
  readonly checks: readonly string[];
}

function mutant<Subject>(
  contract: Contract<Subject>,
  build: (db: DynamoDBDocumentClient) => Subject,
  edit: string,
  [from, to]: readonly [string, string],
  caughtBy: readonly string[],
): Mutant {
  return { edit, from, to, caughtBy, run: (db) => failingChecks(contract, () => build(db)), checks: Object.keys(contract) };
}

const mutants: readonly Mutant[] = [
  mutant(
    paymentRepositoryContract,
    payments,
    "the payment's replace checks only that the payment exists",
    ['#status = :status AND #version = :version', 'attribute_exists(pk)'],
    [
      'refuses a replace from a stale read (an older version, same status), leaving the payment as stored',
      'refuses a replace from a read at the stored version but another status, leaving the payment as stored',
      'lets exactly one of two replaces from the same read win',
    ],
  ),
  mutant(
    paymentRepositoryContract,
    payments,
    "the payment's replace forgets its version",
    [' AND #version = :version', ''],
    ['refuses a replace from a stale read (an older version, same status), leaving the payment as stored'],
  ),
  mutant(
    paymentRepositoryContract,
    payments,
    "the payment's patch forgets the version presumed",
    ['#status = :expectedStatus AND #version = :expectedVersion', '#status = :expectedStatus'],
    ['refuses a patch over a version the payment moved on from, saying what is stored and leaving it so'],
  ),
  mutant(
    paymentRepositoryContract,
    payments,
    "the payment's patch checks only that the payment exists",
    ['#status = :expectedStatus AND #version = :expectedVersion', 'attribute_exists(pk)'],
    [
      'refuses a patch over a version the payment moved on from, saying what is stored and leaving it so',
      'refuses a patch over a status the payment no longer has, at the version presumed',
    ],
  ),
  mutant(
    paymentRepositoryContract,
    payments,
    "the payment's create overwrites a payment_no that exists",
    ['attribute_not_exists(pk)', ''],
    ['creates a payment_no once: a second create answers the stored payment and writes nothing'],
  ),
  mutant(
    refundRepositoryContract,
    refundPorts,
    "the refund's create forgets what is left to refund",
    [' AND amount_refundable >= :amount', ''],
    ['refuses a refund over what is left to refund, writing nothing, and takes exactly what is left'],
  ),
  mutant(
    refundRepositoryContract,
    refundPorts,
    "the refund's create forgets the payment's merchant",
    [' AND merchant_id = :merchant', ''],
    ["refuses a refund of another merchant's payment, writing nothing"],
  ),
  mutant(
    refundRepositoryContract,
    refundPorts,
    "the refund's create forgets the refunded total the caller saw",
    [' AND amount_refunded = :expected', ''],
    ['refuses a refund whose expected refunded total is no longer the payment’s, writing nothing'],
  ),
  mutant(
    refundRepositoryContract,
    refundPorts,
    "the refund's moves after a stale read: replace, fail and revive check only that the refund exists",
    ['#status = :status AND #version = :version', 'attribute_exists(pk)'],
    [
      'refuses a replace from a stale read (an older version, same status), leaving refund and payment as stored',
      'refuses a replace from a read at the stored version but another status, leaving refund and payment as stored',
      'refuses to fail a refund from a stale read: its amount is given back once',
      'refuses to revive a refund from a stale read: its amount is taken once',
    ],
  ),
  mutant(
    refundRepositoryContract,
    refundPorts,
    "the refund's revive forgets what is left to refund",
    ['amount_refundable >= :amount', 'attribute_exists(pk)'],
    [
      'refuses to revive a refund whose amount another refund took meanwhile, leaving both as stored',
      'refuses a refund over what is left to refund, writing nothing, and takes exactly what is left',
    ],
  ),
  mutant(
    idempotencyStoreContract,
    idempotencyStore,
    "complete and release check only that the key exists, not who holds it",
    ['lease_owner = :owner', 'attribute_exists(pk)'],
    [
      'refuses to complete a key for a request that does not hold it, leaving it unfinished',
      'refuses the first owner’s completion once its lease was taken over',
      'keeps a key another request holds when asked to release it',
      'keeps a finished key when asked to release it',
    ],
  ),
  mutant(
    idempotencyStoreContract,
    idempotencyStore,
    'a take-over checks only that the key is unfinished',
    ['lease_owner = :lapsedOwner AND lease_expires_at = :lapsedExpires AND ', ''],
    [
      'refuses a take-over from a stale lease, one another request already took over',
      'refuses a take-over by the lapsed owner’s name with another expiry',
    ],
  ),
  mutant(
    idempotencyStoreContract,
    idempotencyStore,
    'a claim overwrites a live record',
    ['attribute_not_exists(pk) OR expires_at <= :now', ''],
    ['refuses to claim a key whose record is live, answering that record and keeping it'],
  ),
  mutant(
    merchantKeyStoreContract,
    merchantKeys,
    "adding a key overwrites a key that names another merchant",
    ['attribute_not_exists(pk)', ''],
    ['refuses to give a key that names one merchant to another, writing nothing of the other'],
  ),
];

describe('each guarding condition, weakened on purpose, fails its contract on DynamoDB Local', () => {
  it.each(mutants)('$edit', async ({ from, to, caughtBy, run, checks }) => {
    // Prepare
    expect(checks, 'every check named must be in the contract').toEqual(expect.arrayContaining([...caughtBy]));
    const weakened = weakenedConditions(table().db, from, to);

    // Act
    const failures = await run(weakened.db);

    // Assess
    expect(weakened.strikes(), 'the edit must reach a write the contract makes').toBeGreaterThan(0);
    expect(Object.keys(failures)).toEqual(expect.arrayContaining([...caughtBy]));
  });
});
