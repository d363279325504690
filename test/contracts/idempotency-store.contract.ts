import { expect } from 'vitest';
import type { IdempotencyRecord, IdempotencyStore, KeyLease } from '../../functions/domain/idempotency.ts';
import { type Contract, describeContract, uniqueId } from './contract.ts';

const NOW_SECONDS = Date.parse('2026-11-23T10:00:00Z') / 1000;
const LEASE_MS = 10_000;

const leaseOf = (owner: string, expiresAt = NOW_SECONDS * 1000 + LEASE_MS): KeyLease => ({ owner, expiresAt });

/** A fresh key's record as its first request claims it, held by `owner`. */
function claimOf(owner: string, changes: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return {
    id: uniqueId('key'),
    parameters: { order_no: 'digest-1', amount: 'digest-2' },
    lease: leaseOf(owner),
    expiresAt: NOW_SECONDS + 86_400,
    ...changes,
  };
}

/** `store` with `record` claimed in it. */
async function claimed(store: IdempotencyStore, record: IdempotencyRecord): Promise<IdempotencyRecord> {
  expect(await store.claim(record, NOW_SECONDS)).toBeUndefined();
  return record;
}

const ANSWER = { status: 201, body: { payment_no: 'pay_1', amount: 1000 } };

/**
 * What every {@link IdempotencyStore} must do, by behaviour: a key is claimed by one request
 * at a time, a lapsed claim is taken over by one request only, and only the lease's holder
 * finishes or frees the key.
 */
export const idempotencyStoreContract: Contract<IdempotencyStore> = {
  'claims a key nobody holds; get reads the record back as written': async (store) => {
    const record = claimOf('owner-1');

    const existing = await store.claim(record, NOW_SECONDS);

    expect(existing).toBeUndefined();
    expect(await store.get(record.id)).toEqual(record);
  },

  'refuses to claim a key whose record is live, answering that record and keeping it': async (store) => {
    const first = await claimed(store, claimOf('owner-1'));

    const existing = await store.claim({ ...first, lease: leaseOf('owner-2'), parameters: { order_no: 'other' } }, NOW_SECONDS);

    expect(existing).toEqual(first);
    expect(await store.get(first.id)).toEqual(first);
  },

  'claims a key whose record has expired, replacing it': async (store) => {
    const expired = await claimed(store, claimOf('owner-1', { expiresAt: NOW_SECONDS - 1 }));
    const fresh: IdempotencyRecord = { ...claimOf('owner-2'), id: expired.id };

    const existing = await store.claim(fresh, NOW_SECONDS);

    expect(existing).toBeUndefined();
    expect(await store.get(expired.id)).toEqual(fresh);
  },

  'moves a lapsed lease to a new owner, with the parameters of the request taking it over': async (store) => {
    const record = await claimed(store, claimOf('owner-1'));
    const mine = leaseOf('owner-2', NOW_SECONDS * 1000 + 3 * LEASE_MS);
    const corrected = { ...record.parameters, amount: 'digest-of-1250' };

    const tookOver = await store.takeOver(record.id, record.lease!, mine, corrected);

    expect(tookOver).toBe(true);
    expect(await store.get(record.id)).toEqual({ ...record, parameters: corrected, lease: mine });
  },

  'refuses a take-over from a stale lease, one another request already took over': async (store) => {
    const record = await claimed(store, claimOf('owner-1'));
    const winner = leaseOf('owner-2', NOW_SECONDS * 1000 + 3 * LEASE_MS);
    await store.takeOver(record.id, record.lease!, winner, record.parameters);

    const tookOver = await store.takeOver(record.id, record.lease!, leaseOf('owner-3', NOW_SECONDS * 1000 + 4 * LEASE_MS), record.parameters);

    expect(tookOver).toBe(false);
    expect(await store.get(record.id)).toEqual({ ...record, lease: winner });
  },

  'refuses a take-over by the lapsed owner’s name with another expiry': async (store) => {
    const record = await claimed(store, claimOf('owner-1'));
    const renewed = leaseOf('owner-1', record.lease!.expiresAt + LEASE_MS);

    const tookOver = await store.takeOver(record.id, renewed, leaseOf('owner-2'), record.parameters);

    expect(tookOver).toBe(false);
    expect(await store.get(record.id)).toEqual(record);
  },

  'refuses to take over a key whose first request finished': async (store) => {
    const record = await claimed(store, claimOf('owner-1'));
    await store.complete(record.id, 'owner-1', ANSWER);
    const finished = await store.get(record.id);

    const tookOver = await store.takeOver(record.id, record.lease!, leaseOf('owner-2'), record.parameters);

    expect(tookOver).toBe(false);
    expect(await store.get(record.id)).toEqual(finished);
  },

  'completes a key for its owner: the answer stored, the lease ended': async (store) => {
    const record = await claimed(store, claimOf('owner-1'));

    const completed = await store.complete(record.id, 'owner-1', ANSWER);

    const { lease: _, ...rest } = record;
    expect(completed).toBe(true);
    expect(await store.get(record.id)).toEqual({ ...rest, response: ANSWER });
  },

  'refuses to complete a key for a request that does not hold it, leaving it unfinished': async (store) => {
    const record = await claimed(store, claimOf('owner-1'));

    const completed = await store.complete(record.id, 'owner-2', { status: 500, body: { error: 'not mine' } });

    expect(completed).toBe(false);
    expect(await store.get(record.id)).toEqual(record);
  },

  'refuses the first owner’s completion once its lease was taken over': async (store) => {
    const record = await claimed(store, claimOf('owner-1'));
    const mine = leaseOf('owner-2', NOW_SECONDS * 1000 + 3 * LEASE_MS);
    await store.takeOver(record.id, record.lease!, mine, record.parameters);

    const completed = await store.complete(record.id, 'owner-1', ANSWER);

    expect(completed).toBe(false);
    expect(await store.get(record.id)).toEqual({ ...record, lease: mine });
  },

  'releases a key for its owner, which frees it for the next claim': async (store) => {
    const record = await claimed(store, claimOf('owner-1'));

    await store.release(record.id, 'owner-1');

    expect(await store.get(record.id)).toBeUndefined();
    await claimed(store, { ...claimOf('owner-2'), id: record.id });
  },

  'keeps a key another request holds when asked to release it': async (store) => {
    const record = await claimed(store, claimOf('owner-1'));

    await store.release(record.id, 'owner-2');

    expect(await store.get(record.id)).toEqual(record);
  },

  'keeps a finished key when asked to release it': async (store) => {
    const record = await claimed(store, claimOf('owner-1'));
    await store.complete(record.id, 'owner-1', ANSWER);
    const finished = await store.get(record.id);

    await store.release(record.id, 'owner-1');

    expect(await store.get(record.id)).toEqual(finished);
  },

  'stores an answer of any JSON shape and gives it back as written': async (store) => {
    const record = await claimed(store, claimOf('owner-1'));
    const body = { payment_no: 'pay_1', metadata: { cart: 'c-9', note: 'crème brûlée' }, decline_code: null, tags: ['a', 'b'], amount: 0 };

    await store.complete(record.id, 'owner-1', { status: 200, body });

    expect((await store.get(record.id))?.response).toEqual({ status: 200, body });
  },
};

/** Registers {@link idempotencyStoreContract} as tests of the stores `makeStore` builds. */
export function describeIdempotencyStoreContract(
  name: string,
  makeStore: () => IdempotencyStore | Promise<IdempotencyStore>,
): void {
  describeContract(`${name}: the IdempotencyStore contract`, idempotencyStoreContract, makeStore);
}
