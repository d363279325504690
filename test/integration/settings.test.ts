import { describe, expect, it } from 'vitest';
import { newMerchantId } from '../../bin/merchants.ts';
import { newMerchantKey } from '../support/own-merchant.ts';
import { api } from '../support/target.ts';

const settingsOf = (key: string) => api('GET', '/v1/settings', undefined, { key });
const change = (key: string, body: unknown) => api('POST', '/v1/settings', body, { key });

describe('GET/POST /v1/settings', () => {
  it('shows a new merchant one minor unit per point and the deployment’s hold window', async () => {
    // Prepare
    const key = await newMerchantKey('Settings');

    // Act
    const { status, body } = await settingsOf(key);

    // Assess
    expect(status).toBe(200);
    expect(body).toEqual({ object: 'settings', point_value: 1, cart_hold_seconds: expect.any(Number) });
  });

  it('changes only the settings named, and only the caller’s', async () => {
    // Prepare
    const key = await newMerchantKey('Settings');
    const other = await newMerchantKey('Settings');
    const before = (await settingsOf(key)).body;

    // Act
    const points = await change(key, { point_value: 5 });
    const hold = await change(key, { cart_hold_seconds: 600 });
    const nothing = await change(key, {});

    // Assess
    expect(points.body).toEqual({ ...before, point_value: 5 });
    expect(hold.body).toEqual({ object: 'settings', point_value: 5, cart_hold_seconds: 600 });
    expect(nothing.body).toEqual(hold.body);
    expect((await settingsOf(key)).body).toEqual(hold.body);
    expect((await settingsOf(other)).body).toEqual(before);
  });

  it('prices a checkout’s points at the point value set', async () => {
    // Prepare
    const key = await newMerchantKey('Settings');
    await change(key, { point_value: 10 });
    const swimClass = (await api('POST', '/v1/classes', { name: 'Seals', seats_total: 2, price: 3000, currency: 'USD' }, { key })).body;
    const account = (await api('POST', '/v1/accounts', {}, { key })).body;
    const swimmer = (await api('POST', `/v1/accounts/${account.account_id}/swimmers`, { name: 'Ada' }, { key })).body;
    await api('POST', `/v1/accounts/${account.account_id}/points`, { amount: 100, reason: 'welcome' }, { key, headers: { 'Idempotency-Key': newMerchantId() } });
    const cart = (await api('POST', `/v1/accounts/${account.account_id}/cart`, undefined, { key })).body;
    await api('POST', `/v1/carts/${cart.cart_id}/items`, { action: 'register', swimmer_id: swimmer.swimmer_id, class_id: swimClass.class_id }, { key });

    // Act
    const checkout = await api('POST', `/v1/carts/${cart.cart_id}/checkout`, { payment_mode: 'pay_in_store', points: 100 }, { key, headers: { 'Idempotency-Key': newMerchantId() } });

    // Assess
    expect(checkout.status).toBe(202);
    expect(checkout.body.totals).toMatchObject({ price: 3000, points: 100, points_value: 1000, card: 2000 });
  });

  it.each([
    [{ point_value: 0 }, 'point_value'],
    [{ point_value: 1.5 }, 'point_value'],
    [{ point_value: 100_000_000 }, 'point_value'],
    [{ cart_hold_seconds: 59 }, 'cart_hold_seconds'],
    [{ cart_hold_seconds: 86_401 }, 'cart_hold_seconds'],
    [{ cart_hold_seconds: '600' }, 'cart_hold_seconds'],
    [{ fee_bps: 10 }, 'fee_bps'],
  ])('refuses %j naming %s, changing nothing', async (body, field) => {
    // Prepare
    const key = await newMerchantKey('Settings');
    const before = (await settingsOf(key)).body;

    // Act
    const { status, body: answer } = await change(key, body);

    // Assess
    expect(status).toBe(400);
    expect(answer.error).toMatchObject({ code: 'validation_failed', field });
    expect((await settingsOf(key)).body).toEqual(before);
  });

  it('refuses both without an API key', async () => {
    // Act
    const read = await api('GET', '/v1/settings', undefined, { key: null });
    const write = await api('POST', '/v1/settings', { point_value: 2 }, { key: null });

    // Assess
    expect([read.status, write.status]).toEqual([401, 401]);
  });
});

describe('GET /v1/openapi.json', () => {
  it('serves the committed contract to anyone, without an API key', async () => {
    // Prepare
    const { openApiDocument } = await import('../../functions/contract/openapi.ts');

    // Act
    const { status, body, headers } = await api('GET', '/v1/openapi.json', undefined, { key: null });

    // Assess
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(body).toEqual(openApiDocument());
  });
});
