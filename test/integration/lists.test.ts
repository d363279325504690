import { beforeAll, describe, expect, it } from 'vitest';
import { newMerchantKey } from '../support/own-merchant.ts';
import { newAccount, openCart } from '../support/school.ts';
import { api, paymentBody, target, waitForRefunds, waitForTerminal } from '../support/target.ts';

const list = async (key: string, query = '') => api('GET', `/v1/payments${query}`, undefined, { key });
const listRefunds = async (key: string, query = '') => api('GET', `/v1/refunds${query}`, undefined, { key });
const numbers = (body: { data: { payment_no: string }[] }) => body.data.map((payment) => payment.payment_no);
const refundNumbers = (body: { data: { refund_no: string }[] }) => body.data.map((refund) => refund.refund_no);
const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

let key: string;
/** The merchant's payments, oldest first. */
let made: { payment_no: string; status: string; created_at: string }[];

beforeAll(async () => {
  key = await newMerchantKey('Lister');
  made = [];
  for (const card of ['pm_card_visa', 'pm_card_visa', 'pm_card_chargeDeclined', 'pm_card_visa', 'pm_card_visa']) {
    const created = await api('POST', '/v1/payments', paymentBody({ payment_method: card }), { key });
    expect(created.status).toBe(201);
    made.push(await waitForTerminal(created.body.payment_no, { key }));
  }
});

describe('GET /v1/payments', () => {
  it('lists the merchant’s payments newest first, each as GET shows it, without its refunds', async () => {
    // Act
    const { status, body } = await list(key);

    // Assess
    expect(status).toBe(200);
    expect(body).toMatchObject({ object: 'list', url: '/v1/payments', has_more: false });
    expect(numbers(body)).toEqual(made.map((payment) => payment.payment_no).reverse());
    const { refunds: _refunds, ...shown } = (await api('GET', `/v1/payments/${made[4]!.payment_no}`, undefined, { key })).body;
    expect(body.data[0]).toEqual(shown);
  });

  it('pages forward with starting_after and back with ending_before, the pages making up the whole list', async () => {
    // Act
    const first = await list(key, '?limit=2');
    const second = await list(key, `?limit=2&starting_after=${first.body.data[1].payment_no}`);
    const third = await list(key, `?limit=2&starting_after=${second.body.data[1].payment_no}`);
    const back = await list(key, `?limit=2&ending_before=${third.body.data[0].payment_no}`);

    // Assess
    expect([first, second, third].map((page) => page.body.has_more)).toEqual([true, true, false]);
    expect([...numbers(first.body), ...numbers(second.body), ...numbers(third.body)]).toEqual(made.map((p) => p.payment_no).reverse());
    expect(numbers(back.body)).toEqual(numbers(second.body));
    expect(back.body.has_more).toBe(true);
  });

  it('filters by status and by creation time in Unix seconds', async () => {
    // Prepare
    const oldest = seconds(made[0]!.created_at);
    const newest = seconds(made[4]!.created_at);

    // Act
    const failed = await list(key, '?status=failed');
    const all = await list(key, `?created[gte]=${oldest}&created[lte]=${newest}`);
    const later = await list(key, `?created[gt]=${newest}`);
    const earlier = await list(key, `?created[lt]=${oldest}`);
    const crossed = await list(key, `?created[gte]=${newest + 10}&created[lt]=${oldest}`);

    // Assess
    expect(numbers(failed.body)).toEqual([made[2]!.payment_no]);
    expect(failed.body.data[0].status).toBe('failed');
    expect(all.body.data).toHaveLength(5);
    expect([later, earlier, crossed].map((page) => [page.status, page.body.data.length])).toEqual([
      [200, 0],
      [200, 0],
      [200, 0],
    ]);
  });

  it('shows another merchant none of them, and takes none of them as its cursor', async () => {
    // Act
    const other = await list(target().otherApiKey, `?limit=100&created[gte]=${seconds(made[0]!.created_at)}`);
    const cursor = await list(target().otherApiKey, `?starting_after=${made[0]!.payment_no}`);

    // Assess
    expect(numbers(other.body)).not.toEqual(expect.arrayContaining([made[0]!.payment_no]));
    expect(cursor.status).toBe(400);
    expect(cursor.body.error).toMatchObject({ code: 'validation_failed', field: 'starting_after' });
  });

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=101', 'limit'],
    ['?limit=ten', 'limit'],
    ['?status=pending_forever', 'status'],
    ['?created[gte]=yesterday', 'created[gte]'],
    ['?created[lt]=99999999999999', 'created[lt]'],
    ['?created[after]=1', 'created[after]'],
    ['?order=asc', 'order'],
    ['?starting_after=', 'starting_after'],
    ['?starting_after=pay_x&ending_before=pay_y', 'ending_before'],
    ['?ending_before=pay_000000000000000000000000', 'ending_before'],
  ])('refuses %s naming %s', async (query, field) => {
    // Act
    const { status, body } = await list(key, query);

    // Assess
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'validation_failed', field });
  });
});

describe('GET /v1/refunds', () => {
  /** The merchant's refunds, oldest first: two of the newest payment, one of the one before. */
  let refunds: string[];

  beforeAll(async () => {
    refunds = [];
    for (const [payment, amount] of [[made[4]!, 100], [made[3]!, 200], [made[4]!, 300]] as const) {
      const created = await api('POST', '/v1/refunds', { payment_no: payment.payment_no, amount, operator_id: 'lists' }, { key });
      expect(created.status).toBe(201);
      refunds.push(created.body.refund_no);
    }
    // Settled, so that a refund reads the same in the list and on its own.
    for (const payment of [made[3]!, made[4]!]) await waitForRefunds(payment.payment_no, { key });
  });

  it('lists the merchant’s refunds newest first, each as GET shows it, and pages them', async () => {
    // Act
    const all = await listRefunds(key);
    const first = await listRefunds(key, '?limit=2');
    const rest = await listRefunds(key, `?limit=2&starting_after=${first.body.data[1].refund_no}`);

    // Assess
    expect(all.body).toMatchObject({ object: 'list', url: '/v1/refunds', has_more: false });
    expect(refundNumbers(all.body)).toEqual([...refunds].reverse());
    const shown = (await api('GET', `/v1/refunds/${refunds[2]}`, undefined, { key })).body;
    expect(all.body.data[0]).toEqual(shown);
    expect([...refundNumbers(first.body), ...refundNumbers(rest.body)]).toEqual([...refunds].reverse());
    expect([first.body.has_more, rest.body.has_more]).toEqual([true, false]);
  });

  it('lists one payment’s refunds with payment_no, and another merchant none of them', async () => {
    // Act
    const ofNewest = await listRefunds(key, `?payment_no=${made[4]!.payment_no}`);
    const ofOther = await listRefunds(target().otherApiKey, `?payment_no=${made[4]!.payment_no}`);
    const cursor = await listRefunds(target().otherApiKey, `?ending_before=${refunds[0]}`);

    // Assess
    expect(refundNumbers(ofNewest.body)).toEqual([refunds[2], refunds[0]]);
    expect(ofOther.body.data).toEqual([]);
    expect(cursor.status).toBe(400);
    expect(cursor.body.error).toMatchObject({ code: 'validation_failed', field: 'ending_before' });
  });

  it.each([
    ['?payment_no=not-a-payment', 'payment_no'],
    ['?status=succeeded', 'status'],
    ['?limit=1000', 'limit'],
  ])('refuses %s naming %s', async (query, field) => {
    // Act
    const { status, body } = await listRefunds(key, query);

    // Assess
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'validation_failed', field });
  });
});

describe('GET /v1/carts', () => {
  const listCarts = async (merchantKey: string, query = '') => api('GET', `/v1/carts${query}`, undefined, { key: merchantKey });
  const cartIds = (body: { data: { cart_id: string }[] }) => body.data.map((cart) => cart.cart_id);
  /** The merchant's carts, oldest first: three accounts' carts, the middle one canceled. */
  let carts: string[];

  beforeAll(async () => {
    carts = [];
    for (let i = 0; i < 3; i++) {
      const account = await newAccount({}, { key });
      const opened = await openCart(account.account_id, { key });
      expect(opened.status).toBe(201);
      carts.push(opened.body.cart_id);
    }
    expect((await api('POST', `/v1/carts/${carts[1]}/cancel`, undefined, { key })).status).toBe(200);
  });

  it('lists the merchant’s carts newest first, each as GET shows it, and pages them both ways', async () => {
    // Act
    const all = await listCarts(key);
    const first = await listCarts(key, '?limit=2');
    const rest = await listCarts(key, `?limit=2&starting_after=${first.body.data[1].cart_id}`);
    const back = await listCarts(key, `?ending_before=${carts[0]}`);

    // Assess
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ object: 'list', url: '/v1/carts', has_more: false });
    expect(cartIds(all.body)).toEqual([...carts].reverse());
    expect(all.body.data[0]).toEqual((await api('GET', `/v1/carts/${carts[2]}`, undefined, { key })).body);
    expect([...cartIds(first.body), ...cartIds(rest.body)]).toEqual([...carts].reverse());
    expect([first.body.has_more, rest.body.has_more]).toEqual([true, false]);
    expect(cartIds(back.body)).toEqual([carts[2], carts[1]]);
  });

  it('filters by status and by creation time', async () => {
    // Act
    const canceled = await listCarts(key, '?status=canceled');
    const active = await listCarts(key, '?status=active');
    const later = await listCarts(key, `?created[gt]=${Math.floor(Date.now() / 1000) + 60}`);

    // Assess
    expect(cartIds(canceled.body)).toEqual([carts[1]]);
    expect(cartIds(active.body)).toEqual([carts[2], carts[0]]);
    expect(later.body.data).toEqual([]);
  });

  it('shows another merchant none of them, and takes none of them as its cursor', async () => {
    // Act
    const other = await listCarts(target().otherApiKey, '?limit=100');
    const cursor = await listCarts(target().otherApiKey, `?starting_after=${carts[0]}`);

    // Assess
    expect(cartIds(other.body)).not.toEqual(expect.arrayContaining([carts[0]]));
    expect(cursor.status).toBe(400);
    expect(cursor.body.error).toMatchObject({ code: 'validation_failed', field: 'starting_after' });
  });

  it.each([
    ['?status=open', 'status'],
    ['?limit=0', 'limit'],
    ['?account_id=acc', 'account_id'],
    ['?ending_before=cart_000000000000000000000000', 'ending_before'],
    ['?starting_after=not-a-cart', 'starting_after'],
  ])('refuses %s naming %s', async (query, field) => {
    // Act
    const { status, body } = await listCarts(key, query);

    // Assess
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'validation_failed', field });
  });
});
