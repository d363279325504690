import { expect } from 'vitest';
import { type ApiResponse, api, target } from './target.ts';

let seq = 0;
/** An id no other test (or earlier run against a deployed stack) used: letters, digits, `_`, `-`. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${++seq}`;
}

type Key = { key?: string };

/** Throws with the answer when it is not one of `expected`: a fixture that failed says why. */
function expectStatus<T extends ApiResponse>(response: T, expected: number[], what: string): T {
  if (!expected.includes(response.status)) throw new Error(`${what} answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response;
}

export async function newClass(fields: Record<string, unknown> = {}, { key }: Key = {}) {
  const body = { class_id: uniqueId('cls'), name: 'Dolphins', seats_total: 5, price: 3000, currency: 'USD', ...fields };
  return expectStatus(await api('POST', '/v1/classes', body, { key }), [201], 'POST /v1/classes').body;
}

export async function getClass(classId: string, { key }: Key = {}) {
  return expectStatus(await api('GET', `/v1/classes/${classId}`, undefined, { key }), [200], `GET class ${classId}`).body;
}

export async function newAccount(fields: Record<string, unknown> = {}, { key }: Key = {}) {
  const body = { account_id: uniqueId('acc'), ...fields };
  return expectStatus(await api('POST', '/v1/accounts', body, { key }), [201], 'POST /v1/accounts').body;
}

export async function getAccount(accountId: string, { key }: Key = {}) {
  return expectStatus(await api('GET', `/v1/accounts/${accountId}`, undefined, { key }), [200], `GET account ${accountId}`).body;
}

export async function newSwimmer(accountId: string, name = 'Ada', { key }: Key = {}) {
  const body = { swimmer_id: uniqueId('swm'), name };
  return expectStatus(await api('POST', `/v1/accounts/${accountId}/swimmers`, body, { key }), [201], 'POST swimmers').body;
}

/** The Idempotency-Key header, or none. */
const keyHeader = (idempotencyKey: string | null | undefined): Record<string, string> =>
  idempotencyKey === null || idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey };

export function grantPoints(accountId: string, body: Record<string, unknown>, idempotencyKey?: string, { key }: Key = {}) {
  return api('POST', `/v1/accounts/${accountId}/points`, body, { key, headers: keyHeader(idempotencyKey) });
}

export async function givePoints(accountId: string, amount: number, { key }: Key = {}) {
  expectStatus(await grantPoints(accountId, { amount, reason: 'welcome' }, uniqueId('grant'), { key }), [201], 'POST points');
}

export function openCart(accountId: string, { key }: Key = {}) {
  return api('POST', `/v1/accounts/${accountId}/cart`, undefined, { key });
}

export function addItem(cartId: string, item: Record<string, unknown>, { key }: Key = {}) {
  return api('POST', `/v1/carts/${cartId}/items`, item, { key });
}

export const register = (cartId: string, swimmerId: string, classId: string, options: Key = {}) =>
  addItem(cartId, { action: 'register', swimmer_id: swimmerId, class_id: classId }, options);

export const changeClass = (cartId: string, swimmerId: string, fromClassId: string, toClassId: string) =>
  addItem(cartId, { action: 'change', swimmer_id: swimmerId, from_class_id: fromClassId, to_class_id: toClassId });

export function checkout(cartId: string, body: Record<string, unknown>, idempotencyKey: string | null = uniqueId('co'), { key }: Key = {}) {
  return api('POST', `/v1/carts/${cartId}/checkout`, body, { key, headers: keyHeader(idempotencyKey) });
}

export async function getCart(cartId: string, { key }: Key = {}) {
  return expectStatus(await api('GET', `/v1/carts/${cartId}`, undefined, { key }), [200], `GET cart ${cartId}`).body;
}

export async function purchasesOf(accountId: string, { key }: Key = {}) {
  const response = await api('GET', `/v1/accounts/${accountId}/purchases`, undefined, { key });
  return expectStatus(response, [200], `GET purchases of ${accountId}`).body.purchases as any[];
}

/** Polls the cart until its status is one of `statuses`. */
export async function waitForCart(cartId: string, statuses: string[], { timeoutMs = 30_000, key = target().apiKey } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cart = await getCart(cartId, { key });
    if (statuses.includes(cart.status)) return cart;
    if (Date.now() > deadline) throw new Error(`cart ${cartId} still ${cart.status} after ${timeoutMs} ms, not ${statuses.join('/')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Statuses a cart rests in: finished, or back to `pending` after a checkout was undone. */
export const SETTLED = ['done', 'pending', 'expired', 'canceled'];

/** The answer is the API's error: this status and code, naming `field` when given. */
export function expectError(response: ApiResponse, status: number, code: string, field?: string, message?: string) {
  expect(response.status, message).toBe(status);
  expect(response.body?.error, message).toMatchObject({ code, ...(field !== undefined && { field }) });
}
