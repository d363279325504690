import type { IdempotencyRecord, KeyLease, StoredResponse } from '../../functions/domain/idempotency.ts';
import { StrictIdempotencyStore } from './strict/idempotency-store.ts';

type Call = 'get' | 'claim' | 'takeOver' | 'complete' | 'release';

/**
 * The strict idempotency store, watched for the idempotency layer's tests: every call listed,
 * calls made to fail as an unreachable table does, and a hook that runs before each call
 * answers (a slow store, or another request acting meanwhile).
 */
export class SpiedIdempotencyStore extends StrictIdempotencyStore {
  /** Every call, by method name, in order. */
  readonly calls: Call[] = [];
  /** Runs before every call answers. */
  beforeAnswer: (() => void | Promise<void>) | undefined;
  private readonly failures = new Map<Call, Error>();

  constructor(clock: () => Date = () => new Date()) {
    super(clock);
  }

  override async get(id: string) {
    await this.enter('get');
    return super.get(id);
  }

  override async claim(record: IdempotencyRecord, nowSeconds: number) {
    await this.enter('claim');
    return super.claim(record, nowSeconds);
  }

  override async takeOver(id: string, lapsed: KeyLease, lease: KeyLease, parameters: Readonly<Record<string, string>>) {
    await this.enter('takeOver');
    return super.takeOver(id, lapsed, lease, parameters);
  }

  override async complete(id: string, owner: string, response: StoredResponse) {
    await this.enter('complete');
    return super.complete(id, owner, response);
  }

  override async release(id: string, owner: string) {
    await this.enter('release');
    return super.release(id, owner);
  }

  /** Makes `calls` (every call, unless named) throw `error` from now on. */
  failOn(error: Error, calls: Call[] = ['get', 'claim', 'takeOver', 'complete', 'release']): void {
    for (const call of calls) this.failures.set(call, error);
  }

  /** The record as stored now, unwatched. */
  copyOf(id: string): IdempotencyRecord | undefined {
    return this.all().find((record) => record.id === id);
  }

  private async enter(call: Call) {
    this.calls.push(call);
    await this.beforeAnswer?.();
    const failure = this.failures.get(call);
    if (failure !== undefined) throw failure;
  }
}
