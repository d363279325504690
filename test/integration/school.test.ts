import { describe, expect, it } from 'vitest';
import { checkSchoolAfterEach } from '../support/school-invariants.ts';
import {
  expectError,
  getAccount,
  getClass,
  grantPoints,
  newAccount,
  newClass,
  newSwimmer,
  purchasesOf,
  uniqueId,
} from '../support/school.ts';
import { api, target } from '../support/target.ts';

const track = checkSchoolAfterEach();

const other = () => ({ key: target().otherApiKey });

async function trackedClass(fields: Record<string, unknown> = {}) {
  const swimClass = await newClass(fields);
  track({ classId: swimClass.class_id });
  return swimClass;
}

async function trackedAccount(fields: Record<string, unknown> = {}) {
  const account = await newAccount(fields);
  track({ accountId: account.account_id });
  return account;
}

describe('POST /v1/classes', () => {
  it('answers 201 with the class, every seat remaining, and GET shows the same with its seats counted', async () => {
    const classId = uniqueId('cls');

    const created = await api('POST', '/v1/classes', { class_id: classId, name: 'Seals', seats_total: 8, price: 4500, currency: 'eur' });
    track({ classId });
    const fetched = await api('GET', `/v1/classes/${classId}`);

    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      class_id: classId,
      name: 'Seals',
      seats_total: 8,
      seats_remain: 8,
      held: 0,
      students: 0,
      price: 4500,
      currency: 'EUR',
      created_at: expect.any(String),
    });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual({ ...created.body, seats_counted: { held: 0, students: 0 } });
  });

  it('gives a class without a class_id an id of its own', async () => {
    const created = await api('POST', '/v1/classes', { name: 'Otters', seats_total: 3, price: 0, currency: 'USD' });
    track({ classId: created.body.class_id });

    expect(created.status).toBe(201);
    expect(created.body.class_id).toMatch(/^cls_[0-9a-f]{24}$/);
  });

  it('answers a repeated class_id with the same fields 200 and the first class; with other fields 409, unchanged', async () => {
    const first = await trackedClass({ seats_total: 4, price: 2000 });
    const same = { class_id: first.class_id, name: first.name, seats_total: 4, price: 2000, currency: 'usd' };

    const repeat = await api('POST', '/v1/classes', same);
    const otherSeats = await api('POST', '/v1/classes', { ...same, seats_total: 5 });
    const otherPrice = await api('POST', '/v1/classes', { ...same, price: 2100 });

    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first);
    expectError(otherSeats, 409, 'already_exists', 'class_id');
    expectError(otherPrice, 409, 'already_exists', 'class_id');
    expect(await getClass(first.class_id)).toMatchObject({ seats_total: 4, price: 2000 });
  });

  it('keeps each merchant to its own classes: the same class_id names another class for another merchant', async () => {
    const mine = await trackedClass({ seats_total: 2 });
    const body = { class_id: mine.class_id, name: 'Theirs', seats_total: 9, price: 1, currency: 'GBP' };

    const theirs = await api('POST', '/v1/classes', body, other());
    track({ classId: mine.class_id }, target().otherApiKey);

    expect(theirs.status).toBe(201);
    expect(theirs.body).toMatchObject({ class_id: mine.class_id, name: 'Theirs', seats_total: 9 });
    expect(await getClass(mine.class_id)).toMatchObject({ name: mine.name, seats_total: 2 });
    expect(await getClass(mine.class_id, other())).toMatchObject({ name: 'Theirs', seats_total: 9 });
  });

  it.each([
    [{ seats_total: 1, price: 1, currency: 'USD' }, 'name'],
    [{ name: '   ', seats_total: 1, price: 1, currency: 'USD' }, 'name'],
    [{ name: 'x'.repeat(201), seats_total: 1, price: 1, currency: 'USD' }, 'name'],
    [{ name: 'A', seats_total: 0, price: 1, currency: 'USD' }, 'seats_total'],
    [{ name: 'A', seats_total: 1.5, price: 1, currency: 'USD' }, 'seats_total'],
    [{ name: 'A', seats_total: '3', price: 1, currency: 'USD' }, 'seats_total'],
    [{ name: 'A', seats_total: 1, price: -1, currency: 'USD' }, 'price'],
    [{ name: 'A', seats_total: 1, price: 10.5, currency: 'USD' }, 'price'],
    [{ name: 'A', seats_total: 1, price: 1, currency: 'XYZ' }, 'currency'],
    [{ name: 'A', seats_total: 1, price: 1 }, 'currency'],
    [{ class_id: 'has space', name: 'A', seats_total: 1, price: 1, currency: 'USD' }, 'class_id'],
    [{ class_id: 'x'.repeat(65), name: 'A', seats_total: 1, price: 1, currency: 'USD' }, 'class_id'],
    [{ name: 'A', seats_total: 1, price: 1, currency: 'USD', seats_remain: 0 }, 'seats_remain'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const answer = await api('POST', '/v1/classes', body);

    expectError(answer, 400, 'validation_failed', field);
  });
});

describe('GET /v1/classes/{class_id}', () => {
  it("answers 404 naming class_id for an unknown class and for another merchant's", async () => {
    const mine = await trackedClass();

    const unknown = await api('GET', `/v1/classes/${uniqueId('cls')}`);
    const theirs = await api('GET', `/v1/classes/${mine.class_id}`, undefined, other());

    for (const answer of [unknown, theirs]) {
      expectError(answer, 404, 'not_found', 'class_id');
    }
  });

  it.each(['bad%20id', 'x'.repeat(65), 'caf%C3%A9'])('answers 400 naming class_id for the malformed id %s', async (classId) => {
    const answer = await api('GET', `/v1/classes/${classId}`);

    expectError(answer, 400, 'validation_failed', 'class_id');
  });
});

describe('POST /v1/accounts and GET /v1/accounts/{account_id}', () => {
  it('answers 201 with a new account without points; GET adds its (no) swimmers', async () => {
    const accountId = uniqueId('acc');

    const created = await api('POST', '/v1/accounts', { account_id: accountId, email: 'ada@example.com' });
    track({ accountId });
    const fetched = await api('GET', `/v1/accounts/${accountId}`);

    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      account_id: accountId,
      email: 'ada@example.com',
      points_balance: 0,
      points_granted: 0,
      points_spent: 0,
      points_returned: 0,
      created_at: expect.any(String),
    });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual({ ...created.body, swimmers: [] });
  });

  it('gives an account without an account_id (and without a body field at all) an id of its own', async () => {
    const created = await api('POST', '/v1/accounts', {});
    track({ accountId: created.body.account_id });

    expect(created.status).toBe(201);
    expect(created.body.account_id).toMatch(/^acc_[0-9a-f]{24}$/);
    expect(created.body).not.toHaveProperty('email');
  });

  it('answers a repeated account_id with the same email 200, with another 409 already_exists', async () => {
    const first = await trackedAccount({ email: 'bo@example.com' });

    const repeat = await api('POST', '/v1/accounts', { account_id: first.account_id, email: 'bo@example.com' });
    const otherEmail = await api('POST', '/v1/accounts', { account_id: first.account_id, email: 'cy@example.com' });

    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first);
    expectError(otherEmail, 409, 'already_exists', 'account_id');
    expect((await getAccount(first.account_id)).email).toBe('bo@example.com');
  });

  it.each([
    [{ email: 'not-an-email' }, 'email'],
    [{ account_id: 'a/b' }, 'account_id'],
    [{ account_id: '' }, 'account_id'],
    [{ account_id: 7 }, 'account_id'],
    [{ points_balance: 100 }, 'points_balance'],
    [[], 'body'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const answer = await api('POST', '/v1/accounts', body);

    expectError(answer, 400, 'validation_failed', field);
  });

  it("answers 404 naming account_id for an unknown account and another merchant's; 400 for a malformed id", async () => {
    const mine = await trackedAccount();

    const unknown = await api('GET', `/v1/accounts/${uniqueId('acc')}`);
    const theirs = await api('GET', `/v1/accounts/${mine.account_id}`, undefined, other());
    const malformed = await api('GET', '/v1/accounts/no%20spaces');

    for (const answer of [unknown, theirs]) {
      expectError(answer, 404, 'not_found', 'account_id');
    }
    expectError(malformed, 400, 'validation_failed', 'account_id');
  });
});

describe('POST /v1/accounts/{account_id}/swimmers', () => {
  it('adds a swimmer (201), answers its repeat 200, and GET account lists it without classes', async () => {
    const account = await trackedAccount();
    const swimmerId = uniqueId('swm');

    const created = await api('POST', `/v1/accounts/${account.account_id}/swimmers`, { swimmer_id: swimmerId, name: 'Ada' });
    const repeat = await api('POST', `/v1/accounts/${account.account_id}/swimmers`, { swimmer_id: swimmerId, name: 'Ada' });
    const renamed = await api('POST', `/v1/accounts/${account.account_id}/swimmers`, { swimmer_id: swimmerId, name: 'Bea' });
    const generated = await api('POST', `/v1/accounts/${account.account_id}/swimmers`, { name: 'Cy' });

    expect(created.status).toBe(201);
    expect(created.body).toEqual({ account_id: account.account_id, swimmer_id: swimmerId, name: 'Ada', class_ids: [], created_at: expect.any(String) });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(created.body);
    expectError(renamed, 409, 'already_exists', 'swimmer_id');
    expect(generated.status).toBe(201);
    expect(generated.body.swimmer_id).toMatch(/^swm_[0-9a-f]{24}$/);
    const { swimmers } = await getAccount(account.account_id);
    expect(swimmers).toHaveLength(2);
    expect(swimmers).toContainEqual({ swimmer_id: swimmerId, name: 'Ada', class_ids: [], created_at: created.body.created_at });
  });

  it("answers 404 naming account_id for an unknown account and another merchant's", async () => {
    const mine = await trackedAccount();

    const unknown = await api('POST', `/v1/accounts/${uniqueId('acc')}/swimmers`, { name: 'Ada' });
    const theirs = await api('POST', `/v1/accounts/${mine.account_id}/swimmers`, { name: 'Ada' }, other());

    for (const answer of [unknown, theirs]) {
      expectError(answer, 404, 'not_found', 'account_id');
    }
    expect((await getAccount(mine.account_id)).swimmers).toEqual([]);
  });

  it.each([
    ['ok', {}, 'name'],
    ['ok', { name: '' }, 'name'],
    ['ok', { name: 'Ada', swimmer_id: 'sp ace' }, 'swimmer_id'],
    ['ok', { name: 'Ada', age: 7 }, 'age'],
    ['bad%20id', { name: 'Ada' }, 'account_id'],
  ])('answers 400 naming the field (account %s, body %j)', async (account, body, field) => {
    const accountId = account === 'ok' ? (await trackedAccount()).account_id : account;

    const answer = await api('POST', `/v1/accounts/${accountId}/swimmers`, body);

    expectError(answer, 400, 'validation_failed', field);
  });
});

describe('POST /v1/accounts/{account_id}/points', () => {
  it('grants points once per Idempotency-Key: 201 with the balance, a repeat replayed, another key adds more', async () => {
    const account = await trackedAccount();
    const key = uniqueId('grant');

    const first = await grantPoints(account.account_id, { amount: 300, reason: 'welcome' }, key);
    const replay = await grantPoints(account.account_id, { amount: 300, reason: 'welcome' }, key);
    const second = await grantPoints(account.account_id, { amount: 200, reason: 'birthday' }, uniqueId('grant'));

    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      grant_no: expect.stringMatching(/^pts_[0-9a-f]{24}$/),
      account_id: account.account_id,
      amount: 300,
      reason: 'welcome',
      created_at: expect.any(String),
      points_balance: 300,
    });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(second.status).toBe(201);
    expect(second.body.grant_no).not.toBe(first.body.grant_no);
    expect(second.body.points_balance).toBe(500);
    expect(await getAccount(account.account_id)).toMatchObject({ points_balance: 500, points_granted: 500, points_spent: 0 });
  });

  it('refuses a key reused with another amount, reason or account, naming the field, and grants nothing more', async () => {
    const account = await trackedAccount();
    const another = await trackedAccount();
    const key = uniqueId('grant');
    await grantPoints(account.account_id, { amount: 100, reason: 'welcome' }, key);

    const amount = await grantPoints(account.account_id, { amount: 101, reason: 'welcome' }, key);
    const reason = await grantPoints(account.account_id, { amount: 100, reason: 'other' }, key);
    const elsewhere = await grantPoints(another.account_id, { amount: 100, reason: 'welcome' }, key);

    expectError(amount, 409, 'idempotency_key_mismatch', 'amount');
    expectError(reason, 409, 'idempotency_key_mismatch', 'reason');
    expectError(elsewhere, 409, 'idempotency_key_mismatch', 'account_id');
    expect((await getAccount(account.account_id)).points_balance).toBe(100);
    expect((await getAccount(another.account_id)).points_balance).toBe(0);
  });

  it('requires the Idempotency-Key header: 400 naming it, nothing granted', async () => {
    const account = await trackedAccount();

    const answer = await grantPoints(account.account_id, { amount: 100, reason: 'welcome' });

    expectError(answer, 400, 'validation_failed', 'Idempotency-Key');
    expect((await getAccount(account.account_id)).points_balance).toBe(0);
  });

  it('grants once to ten concurrent requests with one key', async () => {
    const account = await trackedAccount();
    const key = uniqueId('grant');

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => grantPoints(account.account_id, { amount: 70, reason: 'storm' }, key)),
    );

    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.map((a) => a.status).every((s) => s === 201 || s === 200 || s === 409)).toBe(true);
    for (const answer of answers.filter((a) => a.status === 409)) expect(answer.body.error.code).toBe('request_in_progress');
    expect(new Set(answers.filter((a) => a.status < 300).map((a) => a.body.grant_no)).size).toBe(1);
    expect(await getAccount(account.account_id)).toMatchObject({ points_balance: 70, points_granted: 70 });
  });

  it.each([
    [{ reason: 'x' }, 'amount'],
    [{ amount: 0, reason: 'x' }, 'amount'],
    [{ amount: -5, reason: 'x' }, 'amount'],
    [{ amount: 1.5, reason: 'x' }, 'amount'],
    [{ amount: '10', reason: 'x' }, 'amount'],
    [{ amount: 10 }, 'reason'],
    [{ amount: 10, reason: '' }, 'reason'],
    [{ amount: 10, reason: 'r'.repeat(201) }, 'reason'],
    [{ amount: 10, reason: 'x', account_id: 'acc' }, 'account_id'],
  ])('answers 400 naming the field for %j, grants nothing', async (body, field) => {
    const account = await trackedAccount();

    const answer = await grantPoints(account.account_id, body, uniqueId('grant'));

    expectError(answer, 400, 'validation_failed', field);
    expect((await getAccount(account.account_id)).points_balance).toBe(0);
  });

  it("answers 404 for an unknown account and another merchant's, 400 for a malformed one", async () => {
    const mine = await trackedAccount();

    const unknown = await grantPoints(uniqueId('acc'), { amount: 10, reason: 'x' }, uniqueId('grant'));
    const theirs = await grantPoints(mine.account_id, { amount: 10, reason: 'x' }, uniqueId('grant'), other());
    const malformed = await grantPoints('x%2Fy', { amount: 10, reason: 'x' }, uniqueId('grant'));

    for (const answer of [unknown, theirs]) {
      expectError(answer, 404, 'not_found', 'account_id');
    }
    expectError(malformed, 400, 'validation_failed', 'account_id');
    expect((await getAccount(mine.account_id)).points_balance).toBe(0);
  });
});

describe('GET /v1/accounts/{account_id}/purchases', () => {
  it('lists no purchases for a new account', async () => {
    const account = await trackedAccount();
    await newSwimmer(account.account_id);

    expect(await purchasesOf(account.account_id)).toEqual([]);
  });

  it("answers 404 for an unknown account and another merchant's, 400 for a malformed one", async () => {
    const mine = await trackedAccount();

    const unknown = await api('GET', `/v1/accounts/${uniqueId('acc')}/purchases`);
    const theirs = await api('GET', `/v1/accounts/${mine.account_id}/purchases`, undefined, other());
    const malformed = await api('GET', '/v1/accounts/%2A/purchases');

    for (const answer of [unknown, theirs]) {
      expectError(answer, 404, 'not_found', 'account_id');
    }
    expectError(malformed, 400, 'validation_failed', 'account_id');
  });
});
