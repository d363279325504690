import { createHash } from 'node:crypto';
import { AlreadyExistsError, IdempotencyKeyMismatchError, NotFoundError } from '../errors.ts';
import type { Currency } from '../money.ts';
import type { Clock } from '../ports.ts';
import { type CommitDeps, commit } from './commit.ts';
import { type Account, type SwimClass, type Swimmer, newId } from './model.ts';
import { noAccount, unexplained } from './refusals.ts';
import type { Created, PointsGrant } from './store.ts';

export interface CatalogDeps extends CommitDeps {
  readonly clock: Clock;
  /** Makes the ids the school makes itself; {@link newId} (random) unless a simulation wants them repeatable. */
  readonly newId?: typeof newId;
}

export interface ClassRequest {
  readonly classId?: string;
  readonly name: string;
  readonly seatsTotal: number;
  readonly price: number;
  readonly currency: Currency;
}

/**
 * A class with all its seats remaining. A repeat with the same class_id and the same fields
 * answers with the class (whatever its seats now); with other fields it is refused.
 */
export async function createClass(deps: CatalogDeps, merchantId: string, request: ClassRequest): Promise<Created<SwimClass>> {
  const candidate: SwimClass = {
    merchantId,
    classId: request.classId ?? (deps.newId ?? newId)('cls'),
    name: request.name,
    seatsTotal: request.seatsTotal,
    seatsRemain: request.seatsTotal,
    seatsHeld: 0,
    students: 0,
    price: request.price,
    currency: request.currency,
    createdAt: deps.clock().toISOString(),
  };
  const what = `class ${candidate.classId}`;
  const refused = await commit(deps, what, { class: { kind: 'putClass', swimClass: candidate } });
  if (!refused) return { created: true, value: candidate };
  const existing = refused.class?.current;
  if (!existing) throw unexplained(what, refused);
  const differing = (['name', 'seatsTotal', 'price', 'currency'] as const).find((f) => existing[f] !== candidate[f]);
  if (differing !== undefined) {
    throw new AlreadyExistsError('class_id', `class ${candidate.classId} exists with another ${snake(differing)}`);
  }
  return { created: false, value: existing };
}

export async function createAccount(
  deps: CatalogDeps,
  merchantId: string,
  request: { accountId?: string; email?: string },
): Promise<Created<Account>> {
  const candidate: Account = {
    merchantId,
    accountId: request.accountId ?? (deps.newId ?? newId)('acc'),
    ...(request.email !== undefined && { email: request.email }),
    pointsBalance: 0,
    pointsGranted: 0,
    pointsSpent: 0,
    pointsReturned: 0,
    createdAt: deps.clock().toISOString(),
  };
  const what = `account ${candidate.accountId}`;
  const refused = await commit(deps, what, { account: { kind: 'putAccount', account: candidate } });
  if (!refused) return { created: true, value: candidate };
  const existing = refused.account?.current;
  if (!existing) throw unexplained(what, refused);
  if (existing.email !== candidate.email) {
    throw new AlreadyExistsError('account_id', `account ${candidate.accountId} exists with another email`);
  }
  return { created: false, value: existing };
}

export async function addSwimmer(
  deps: CatalogDeps,
  merchantId: string,
  accountId: string,
  request: { swimmerId?: string; name: string },
): Promise<Created<Swimmer>> {
  const candidate: Swimmer = {
    accountId,
    swimmerId: request.swimmerId ?? (deps.newId ?? newId)('swm'),
    name: request.name,
    classIds: [],
    createdAt: deps.clock().toISOString(),
  };
  const what = `swimmer ${candidate.swimmerId}`;
  const refused = await commit(deps, what, {
    swimmer: { kind: 'putSwimmer', merchantId, swimmer: candidate },
    account: { kind: 'requireAccount', merchantId, accountId },
  });
  if (!refused) return { created: true, value: candidate };
  const existing = refused.swimmer?.current;
  if (!existing) throw refused.account ? noAccount(accountId) : unexplained(what, refused);
  if (existing.name !== candidate.name) {
    throw new AlreadyExistsError('swimmer_id', `swimmer ${candidate.swimmerId} exists with another name`);
  }
  return { created: false, value: existing };
}

/** One key is one grant for good: the grant_no is derived from it, as a refund_no is. */
export function grantNoFor(merchantId: string, accountId: string, key: string): string {
  const digest = createHash('sha256').update(`${merchantId}\u0000${accountId}\u0000points\u0000${key}`).digest('hex');
  return `pts_${digest.slice(0, 24)}`;
}

/** Adds points to an account's balance (granted, or bought), once per key. */
export async function grantPoints(
  deps: CatalogDeps,
  merchantId: string,
  accountId: string,
  request: { amount: number; reason: string },
  key: string,
): Promise<Created<PointsGrant>> {
  const grant: PointsGrant = {
    grantNo: grantNoFor(merchantId, accountId, key),
    accountId,
    amount: request.amount,
    reason: request.reason,
    createdAt: deps.clock().toISOString(),
  };
  const what = `points grant ${grant.grantNo}`;
  const refused = await commit(deps, what, {
    grant: { kind: 'putGrant', merchantId, grant },
    account: { kind: 'points', merchantId, accountId, change: 'grant', points: grant.amount },
  });
  if (!refused) return { created: true, value: grant };
  const existing = refused.grant?.current;
  if (!existing) throw refused.account ? noAccount(accountId) : unexplained(what, refused);
  const differing = (['amount', 'reason'] as const).find((f) => existing[f] !== grant[f]);
  if (differing !== undefined) {
    throw new IdempotencyKeyMismatchError(differing, `this key granted points with another ${differing}`);
  }
  return { created: false, value: existing };
}

/** Another merchant's account is as absent as a missing one. */
export async function accountOf(deps: CatalogDeps, merchantId: string, accountId: string): Promise<Account> {
  const account = await deps.store.getAccount(merchantId, accountId);
  if (!account) throw noAccount(accountId);
  return account;
}

export async function classOf(deps: CatalogDeps, merchantId: string, classId: string, field = 'class_id'): Promise<SwimClass> {
  const swimClass = await deps.store.getClass(merchantId, classId);
  if (!swimClass) throw new NotFoundError(`no class ${classId}`, { field });
  return swimClass;
}

/** A class with its hold and student items counted: what its counters must always agree with. */
export async function classWithSeatsCounted(
  deps: CatalogDeps,
  merchantId: string,
  classId: string,
): Promise<{ swimClass: SwimClass; counted: { held: number; students: number } }> {
  const swimClass = await classOf(deps, merchantId, classId);
  return { swimClass, counted: await deps.store.countSeats(merchantId, classId) };
}

function snake(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
