import { beforeEach, describe, expect, it, vi } from 'vitest';
import { IdempotencyKeyMismatchError } from '../../../functions/domain/errors.ts';
import { withFinishedKeyCache } from '../../../functions/domain/finished-key-cache.ts';
import {
  type IdempotencyDeps,
  type IdempotencyRequest,
  KEY_RETENTION_SECONDS,
  type StoredResponse,
  runIdempotently,
} from '../../../functions/domain/idempotency.ts';
import { SpiedIdempotencyStore } from '../../support/spied-idempotency-store.ts';
import { ManualClock } from '../../support/manual-clock.ts';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const request: IdempotencyRequest = {
  merchantId: 'm_1',
  scope: 'payments',
  key: 'header:key-1',
  keyName: 'this Idempotency-Key',
  keyField: 'Idempotency-Key',
  parameters: { order_no: 'o-1', amount: 1000 },
};
const created: StoredResponse = { status: 201, body: { payment_no: 'pay_1' } };

let store: SpiedIdempotencyStore;
let time: ManualClock;

beforeEach(() => {
  store = new SpiedIdempotencyStore();
  time = new ManualClock(T0);
});

function depsWith(maxEntries: number): IdempotencyDeps {
  let owners = 0;
  return {
    store: withFinishedKeyCache(store, maxEntries),
    clock: time.clock,
    leaseMs: 10_000,
    waitMs: 4_000,
    newOwner: () => `owner-${++owners}`,
    sleep: time.sleep,
  };
}

describe('the finished-key cache', () => {
  it('answers a repeat of a finished key without asking the store', async () => {
    const deps = depsWith(10);
    await runIdempotently(deps, request, async () => created);
    // The first request's own record was unfinished when stored: the cache learns it from the first repeat.
    await runIdempotently(deps, request, async () => created);
    store.calls.length = 0;

    const answer = await runIdempotently(deps, request, vi.fn());

    expect(answer).toMatchObject({ response: created, replayed: true });
    expect(store.calls).toEqual([]);
  });

  it('still refuses a repeat with other parameters', async () => {
    const deps = depsWith(10);
    await runIdempotently(deps, request, async () => created);
    await runIdempotently(deps, request, async () => created);

    const other = { ...request, parameters: { ...request.parameters, amount: 5 } };
    await expect(runIdempotently(deps, other, vi.fn())).rejects.toBeInstanceOf(IdempotencyKeyMismatchError);
  });

  it('never keeps an unfinished record: a repeat in flight asks the store each time', async () => {
    const cached = withFinishedKeyCache(store, 10);
    await store.claim({ id: 'k', parameters: {}, lease: { owner: 'o', expiresAt: T0 + 10_000 }, expiresAt: T0 / 1000 + 60 }, T0 / 1000);

    await cached.get('k');
    await cached.get('k');

    expect(store.calls.filter((call) => call === 'get')).toHaveLength(2);
  });

  it('lets an expired key be claimed again at the store', async () => {
    const deps = depsWith(10);
    await runIdempotently(deps, request, async () => created);
    await runIdempotently(deps, request, async () => created);
    time.advance((KEY_RETENTION_SECONDS + 1) * 1000);
    const again = vi.fn(async () => ({ status: 201, body: { payment_no: 'pay_2' } }));

    const answer = await runIdempotently(deps, request, again);

    expect(answer).toMatchObject({ replayed: false, response: { body: { payment_no: 'pay_2' } } });
    expect(again).toHaveBeenCalledTimes(1);
  });

  it('forgets the key used longest ago once full', async () => {
    const cached = withFinishedKeyCache(store, 2);
    for (const id of ['a', 'b', 'c']) {
      await store.claim({ id, parameters: {}, lease: { owner: id, expiresAt: T0 + 10_000 }, expiresAt: T0 / 1000 + 60 }, T0 / 1000);
      await store.complete(id, id, created);
      await cached.get(id);
    }
    store.calls.length = 0;

    await cached.get('c');
    await cached.get('b');
    await cached.get('a');

    expect(store.calls).toEqual(['get']);
  });
});
