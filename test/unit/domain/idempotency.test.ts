import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DatabaseUnavailableError,
  IdempotencyKeyMismatchError,
  PROCESS_EXIT_ERROR_NAME,
  RequestInProgressError,
  ValidationError,
} from '../../../functions/domain/errors.ts';
import {
  type IdempotencyDeps,
  type IdempotencyRecord,
  type IdempotencyRequest,
  KEY_RETENTION_SECONDS,
  type StoredResponse,
  idempotencyId,
  runIdempotently,
} from '../../../functions/domain/idempotency.ts';
import { SpiedIdempotencyStore } from '../../support/spied-idempotency-store.ts';
import { ManualClock } from '../../support/manual-clock.ts';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const LEASE_MS = 10_000;
const WAIT_MS = 4_000;

const request: IdempotencyRequest = {
  merchantId: 'm_1',
  scope: 'payments',
  key: 'header:key-1',
  keyName: 'this Idempotency-Key',
  keyField: 'Idempotency-Key',
  parameters: { order_no: 'o-1', amount: 1000, currency: 'USD', description: undefined, metadata: { a: '1', b: '2' } },
};
const id = idempotencyId(request.merchantId, request.scope, request.key);
const created: StoredResponse = { status: 201, body: { payment_no: 'pay_1', amount: 1000, status: 'pending' } };

let store: SpiedIdempotencyStore;
let time: ManualClock;
let deps: IdempotencyDeps;

beforeEach(() => {
  time = new ManualClock(T0);
  store = new SpiedIdempotencyStore(time.clock);
  let owners = 0;
  deps = {
    store,
    clock: time.clock,
    leaseMs: LEASE_MS,
    waitMs: WAIT_MS,
    newOwner: () => `owner-${++owners}`,
    sleep: time.sleep,
  };
});

const operation = (response: StoredResponse = created) => vi.fn(async () => response);

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A request whose operation has started and runs until the test finishes or fails it. */
async function inFlight(req: IdempotencyRequest = request) {
  const gate = deferred<StoredResponse>();
  const started = deferred<void>();
  const run = runIdempotently(deps, req, () => {
    started.resolve();
    return gate.promise;
  });
  // Keeps an expected rejection from being reported before the test awaits it.
  run.catch(() => undefined);
  await started.promise;
  return { run, finish: gate.resolve, fail: gate.reject };
}

/** What a killed Lambda reports, by name only: the domain knows no crash injection. */
class ProcessExit extends Error {
  override readonly name = PROCESS_EXIT_ERROR_NAME;
}

/** A first request that claimed the key and died without an answer, as a killed Lambda does. */
async function crashed(req: IdempotencyRequest = request) {
  await expect(
    runIdempotently(deps, req, async () => {
      throw new ProcessExit('killed');
    }),
  ).rejects.toBeInstanceOf(ProcessExit);
}

const withParameters = (changes: Record<string, unknown>): IdempotencyRequest => ({
  ...request,
  parameters: { ...request.parameters, ...changes },
});

describe('runIdempotently', () => {
  it('runs the operation once and stores its answer for 24 hours, the key only as a digest', async () => {
    const run = operation();

    const answer = await runIdempotently(deps, request, run);

    expect(answer).toEqual({ response: created, replayed: false, tookOver: false });
    expect(run).toHaveBeenCalledTimes(1);
    const stored = store.copyOf(id);
    expect(stored).toMatchObject({ id, response: created, expiresAt: T0 / 1000 + KEY_RETENTION_SECONDS });
    expect(stored?.lease).toBeUndefined();
    expect(Object.keys(stored!.parameters).sort()).toEqual(['amount', 'currency', 'description', 'metadata', 'order_no']);
    expect(JSON.stringify(stored)).not.toContain('key-1');
    expect(JSON.stringify(stored)).not.toContain('o-1');
  });

  it('replays the stored answer to a repeat with the same parameters without running the operation', async () => {
    await runIdempotently(deps, request, operation());
    time.advance(60_000);
    const repeat = operation({ status: 201, body: { payment_no: 'pay_other' } });

    const answer = await runIdempotently(deps, request, repeat);

    expect(answer).toEqual({ response: created, replayed: true, tookOver: false });
    expect(repeat).not.toHaveBeenCalled();
  });

  it('treats object parameters as equal whatever the order of their keys', async () => {
    await runIdempotently(deps, request, operation());
    const reordered = { ...request, parameters: { ...request.parameters, metadata: { b: '2', a: '1' } } };

    const answer = await runIdempotently(deps, reordered, operation());

    expect(answer.replayed).toBe(true);
  });

  it.each([
    ['amount', { amount: 2000 }],
    ['currency', { currency: 'EUR' }],
    ['description', { description: 'a present that was absent' }],
    ['metadata', { metadata: { a: '1', b: '3' } }],
  ])('refuses a repeat with another %s, naming the field, and runs and changes nothing', async (field, changes) => {
    // Prepare
    await runIdempotently(deps, request, operation());
    const before = store.copyOf(id);
    const repeat = operation();

    // Act
    const attempt = runIdempotently(deps, { ...request, parameters: { ...request.parameters, ...changes } }, repeat);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(IdempotencyKeyMismatchError);
    await expect(attempt).rejects.toMatchObject({ code: 'idempotency_key_mismatch', field });
    expect(repeat).not.toHaveBeenCalled();
    expect(store.copyOf(id)).toEqual(before);
  });

  it.each([
    ['the header it sent', 'this Idempotency-Key', 'this Idempotency-Key was already used with another amount'],
    ['the business key its key was derived from', 'order_no o-1', 'order_no o-1 was already used with another amount'],
  ])('names %s in a refusal', async (_, keyName, message) => {
    await runIdempotently(deps, { ...request, keyName }, operation());

    const attempt = runIdempotently(deps, { ...withParameters({ amount: 2000 }), keyName }, operation());

    await expect(attempt).rejects.toThrow(message);
  });

  it('names a parameter the repeat leaves out', async () => {
    await runIdempotently(deps, request, operation());
    const { metadata: _, ...fewer } = request.parameters;

    await expect(runIdempotently(deps, { ...request, parameters: fewer }, operation())).rejects.toMatchObject({
      field: 'metadata',
    });
  });

  it('keeps the same key of two merchants, and of two routes, apart', async () => {
    await runIdempotently(deps, request, operation());
    const theirs = operation({ status: 201, body: { payment_no: 'pay_theirs' } });
    const refunds = operation({ status: 201, body: { refund_no: 'ref_1' } });

    const otherMerchant = await runIdempotently(deps, { ...request, merchantId: 'm_2' }, theirs);
    const otherRoute = await runIdempotently(deps, { ...request, scope: 'refunds' }, refunds);

    expect(otherMerchant).toMatchObject({ replayed: false, response: { body: { payment_no: 'pay_theirs' } } });
    expect(otherRoute).toMatchObject({ replayed: false, response: { body: { refund_no: 'ref_1' } } });
  });

  describe('a repeat while the first request runs', () => {
    it('waits for the first answer and returns it, saying how long it waited', async () => {
      // Prepare: the first request finishes while the repeat sleeps.
      const first = await inFlight();
      time.whileAsleep = async () => {
        time.whileAsleep = undefined;
        first.finish(created);
        await first.run;
      };
      const repeat = operation({ status: 201, body: { payment_no: 'pay_other' } });

      // Act
      const answer = await runIdempotently(deps, request, repeat);

      // Assess
      expect(answer).toMatchObject({ response: created, replayed: true, tookOver: false });
      expect(answer.waitedMs).toBeGreaterThan(0);
      expect(repeat).not.toHaveBeenCalled();
      expect(await first.run).toEqual({ response: created, replayed: false, tookOver: false });
    });

    it('reports no wait for a replay that found the answer at once, however slow the store', async () => {
      await runIdempotently(deps, request, operation());
      store.beforeAnswer = () => time.advance(30);

      const answer = await runIdempotently(deps, request, operation());

      expect(answer.replayed).toBe(true);
      expect(answer.waitedMs).toBeUndefined();
      expect(time.sleeps).toEqual([]);
    });

    it('holds a key whose claim landed although its answer was lost (the SDK retried it and found it taken)', async () => {
      // Prepare: the first attempt of the claim lands, its answer times out, and the retry finds the claim.
      const claim = store.claim.bind(store);
      store.claim = async (record, nowSeconds) => (await claim(record, nowSeconds)) ?? claim(record, nowSeconds);
      const op = operation();

      // Act
      const answer = await runIdempotently(deps, request, op);

      // Assess
      expect(op).toHaveBeenCalledOnce();
      expect(answer).toMatchObject({ response: created, replayed: false });
      expect(time.sleeps).toEqual([]);
    });

    it('holds a key whose take-over landed although its answer was lost', async () => {
      // Prepare: a claim that lapsed, then a take-over whose first attempt lands and whose retry is refused.
      const first = await inFlight();
      time.advance(LEASE_MS);
      const takeOver = store.takeOver.bind(store);
      store.takeOver = async (...args) => (await takeOver(...args)) && takeOver(...args);
      const op = operation();

      // Act
      const answer = await runIdempotently(deps, request, op);
      first.finish(created);

      // Assess
      expect(op).toHaveBeenCalledOnce();
      expect(answer).toMatchObject({ response: created, replayed: false, tookOver: true });
    });

    it('names the business key in request_in_progress when the client sent no Idempotency-Key', async () => {
      // Prepare
      const derived = { ...request, key: 'derived:o-1', keyName: 'order_no o-1', keyField: 'order_no' };
      await inFlight(derived);

      // Act
      const error = await runIdempotently(deps, derived, operation()).catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ code: 'request_in_progress', field: 'order_no', message: expect.stringContaining('order_no o-1') });
    });

    it('answers request_in_progress past the bounded wait, with a Retry-After of at least a second', async () => {
      // Prepare
      await inFlight();
      const repeat = operation();

      // Act
      const attempt = runIdempotently(deps, request, repeat);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(RequestInProgressError);
      const error = (await attempt.catch((e: unknown) => e)) as RequestInProgressError;
      expect(error).toMatchObject({ code: 'request_in_progress', httpStatus: 409, field: 'Idempotency-Key' });
      expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(error.retryAfterSeconds).toBeLessThanOrEqual(LEASE_MS / 1000);
      expect(time.sleeps.reduce((a, b) => a + b, 0)).toBe(WAIT_MS);
      expect(repeat).not.toHaveBeenCalled();
    });

    it('never lets a refused repeat release or answer for the first request', async () => {
      // Prepare
      const first = await inFlight();
      const claimed = store.copyOf(id);

      // Act: one repeat with other parameters, one that gives up waiting.
      const mismatch = runIdempotently(deps, { ...request, parameters: { ...request.parameters, amount: 1 } }, operation());
      await expect(mismatch).rejects.toBeInstanceOf(IdempotencyKeyMismatchError);
      await expect(runIdempotently(deps, request, operation())).rejects.toBeInstanceOf(RequestInProgressError);

      // Assess: the claim is still the first request's, and its answer is the one kept.
      expect(store.copyOf(id)).toEqual(claimed);
      expect(store.calls).not.toContain('release');
      expect(store.calls).not.toContain('complete');
      first.finish(created);
      expect(await first.run).toMatchObject({ response: created, replayed: false });
      expect(store.copyOf(id)?.response).toEqual(created);
    });
  });

  describe('a first request that never finished', () => {
    it('leaves its claim when the process dies: a repeat within the lease waits and runs nothing', async () => {
      // Prepare
      await crashed();
      const repeat = operation();

      // Act
      const attempt = runIdempotently(deps, request, repeat);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(RequestInProgressError);
      expect(store.calls).not.toContain('release');
      expect(repeat).not.toHaveBeenCalled();
      expect(store.copyOf(id)).toMatchObject({ lease: { owner: 'owner-1', expiresAt: T0 + LEASE_MS } });
      expect(store.copyOf(id)?.response).toBeUndefined();
    });

    it('is taken over once its lease lapsed, and the operation runs', async () => {
      // Prepare
      await crashed();
      time.advance(LEASE_MS);
      const retry = operation();

      // Act
      const answer = await runIdempotently(deps, request, retry);

      // Assess
      expect(answer).toEqual({ response: created, replayed: false, tookOver: true });
      expect(retry).toHaveBeenCalledTimes(1);
      const stored = store.copyOf(id);
      expect(stored?.response).toEqual(created);
      expect(stored?.lease).toBeUndefined();
    });

    it('refuses other parameters while its lease holds: it may still be running', async () => {
      await crashed();
      time.advance(LEASE_MS - 1);
      const corrected = operation();

      const attempt = runIdempotently(deps, withParameters({ amount: 2000 }), corrected);

      await expect(attempt).rejects.toMatchObject({ code: 'idempotency_key_mismatch', field: 'amount' });
      expect(corrected).not.toHaveBeenCalled();
    });

    it('is taken over by a request with other parameters once its lease lapsed: nobody was answered', async () => {
      // Prepare
      await crashed();
      time.advance(LEASE_MS);
      const corrected = operation({ status: 201, body: { payment_no: 'pay_1', amount: 2000 } });

      // Act
      const answer = await runIdempotently(deps, withParameters({ amount: 2000 }), corrected);

      // Assess: the key now stands for the corrected request, and refuses the dead one's parameters.
      expect(answer).toMatchObject({ replayed: false, tookOver: true });
      expect(corrected).toHaveBeenCalledTimes(1);
      expect((await runIdempotently(deps, withParameters({ amount: 2000 }), operation())).replayed).toBe(true);
      await expect(runIdempotently(deps, request, operation())).rejects.toMatchObject({ field: 'amount' });
    });

    it('is taken over by one of two retries; the other gets its answer', async () => {
      // Prepare
      await crashed();
      time.advance(LEASE_MS + 1);
      const run = operation();

      // Act
      const answers = await Promise.all([runIdempotently(deps, request, run), runIdempotently(deps, request, run)]);

      // Assess
      expect(run).toHaveBeenCalledTimes(1);
      expect(answers.map((a) => a.tookOver).sort()).toEqual([false, true]);
      expect(answers.map((a) => a.replayed).sort()).toEqual([false, true]);
      expect(answers.map((a) => a.response)).toEqual([created, created]);
    });

    it('cannot, having outlived its lease, free the claim of the request that took over', async () => {
      // Prepare: the first request is slow, past its lease; a retry takes over.
      const first = await inFlight();
      time.advance(LEASE_MS);
      const second = await inFlight();
      const takenOver = store.copyOf(id);
      expect(takenOver?.lease?.owner).toBe('owner-2');

      // Act: the first request fails now with one of our errors, which would free its key.
      first.fail(new ValidationError('amount', 'late'));
      await expect(first.run).rejects.toBeInstanceOf(ValidationError);

      // Assess
      expect(store.copyOf(id)).toEqual(takenOver);
      second.finish(created);
      expect(await second.run).toMatchObject({ response: created, replayed: false, tookOver: true });
      expect(store.copyOf(id)?.response).toEqual(created);
    });

    it('cannot, having outlived its lease, store its answer over the claim of the request that took over', async () => {
      // Prepare
      const first = await inFlight();
      time.advance(LEASE_MS);
      const second = await inFlight();

      // Act
      first.finish({ status: 201, body: { payment_no: 'pay_late' } });
      const late = await first.run;

      // Assess: its own client gets its answer; the key keeps the new owner's.
      expect(late.response.body).toEqual({ payment_no: 'pay_late' });
      expect(store.copyOf(id)?.response).toBeUndefined();
      expect(store.copyOf(id)?.lease?.owner).toBe('owner-2');
      second.finish(created);
      await second.run;
      expect(store.copyOf(id)?.response).toEqual(created);
    });
  });

  describe('a failure of ours', () => {
    it.each([
      ['a validation error', new ValidationError('amount', 'too large')],
      ['a business-key mismatch', new IdempotencyKeyMismatchError('amount', 'order_no o-1 was already used with another amount')],
    ])('frees the key on %s, so a retry with the same key runs again', async (_, failure) => {
      // Prepare
      const refused = runIdempotently(deps, request, async () => {
        throw failure;
      });
      await expect(refused).rejects.toBe(failure);
      const retry = operation();

      // Act
      const answer = await runIdempotently(deps, request, retry);

      // Assess
      expect(store.calls).toContain('release');
      expect(retry).toHaveBeenCalledTimes(1);
      expect(answer).toEqual({ response: created, replayed: false, tookOver: false });
    });

    it.each([
      ['an unexpected error (a 500)', new TypeError("Cannot read properties of undefined (reading 'amount')")],
      ['an outage (a 503)', new DatabaseUnavailableError('DynamoDB is unavailable')],
    ])('frees the key on %s, so a corrected retry with other parameters runs', async (_, failure) => {
      // Prepare
      await expect(
        runIdempotently(deps, request, async () => {
          throw failure;
        }),
      ).rejects.toBe(failure);
      const corrected = operation();

      // Act
      const answer = await runIdempotently(deps, withParameters({ amount: 2000 }), corrected);

      // Assess
      expect(store.calls).toContain('release');
      expect(corrected).toHaveBeenCalledTimes(1);
      expect(answer).toEqual({ response: created, replayed: false, tookOver: false });
    });

    it('dies when its process dies while freeing the key, leaving the claim to lapse', async () => {
      // Prepare: the release is where the process dies, after the operation failed.
      const failure = new ValidationError('amount', 'too large');
      store.failOn(new ProcessExit('killed while releasing'), ['release']);

      // Act
      const refused = runIdempotently(deps, request, async () => {
        throw failure;
      });

      // Assess: the death, not the failure the client would have been answered with.
      await expect(refused).rejects.toBeInstanceOf(ProcessExit);
      expect(store.copyOf(id)?.lease?.owner).toBe('owner-1');
    });

    it('frees the key for a retry with other parameters too', async () => {
      await expect(
        runIdempotently(deps, request, async () => {
          throw new ValidationError('amount', 'too large');
        }),
      ).rejects.toBeInstanceOf(ValidationError);

      const answer = await runIdempotently(deps, { ...request, parameters: { ...request.parameters, amount: 5 } }, operation());

      expect(answer.replayed).toBe(false);
    });
  });

  describe('expiry', () => {
    const expired = (expiresAt: number): IdempotencyRecord => ({
      id,
      parameters: { order_no: 'digest-of-another-order' },
      response: { status: 201, body: { payment_no: 'pay_old' } },
      expiresAt,
    });

    it.each([
      ['expired this very second', T0 / 1000],
      ['expired an hour ago', T0 / 1000 - 3600],
    ])('counts a record that %s but is not yet deleted as absent', async (_, expiresAt) => {
      // Prepare
      store.put(expired(expiresAt));
      const run = operation();

      // Act
      const answer = await runIdempotently(deps, request, run);

      // Assess: no mismatch with the old parameters, no replay of the old answer.
      expect(answer).toEqual({ response: created, replayed: false, tookOver: false });
      expect(run).toHaveBeenCalledTimes(1);
      expect(store.copyOf(id)).toMatchObject({ response: created, expiresAt: T0 / 1000 + KEY_RETENTION_SECONDS });
    });

    it('still holds a record a second before it expires', async () => {
      store.put(expired(T0 / 1000 + 1));

      await expect(runIdempotently(deps, request, operation())).rejects.toBeInstanceOf(IdempotencyKeyMismatchError);
    });
  });

  describe('an unreachable store', () => {
    it.each([['get'], ['claim']] as const)('fails closed when %s fails: the error propagates and nothing runs', async (call) => {
      // Prepare
      store.failOn(new DatabaseUnavailableError('DynamoDB is unavailable'), [call]);
      const run = operation();

      // Act
      const attempt = runIdempotently(deps, request, run);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(DatabaseUnavailableError);
      expect(run).not.toHaveBeenCalled();
    });
  });
});
