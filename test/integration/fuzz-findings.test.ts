import { describe, expect, it } from 'vitest';
import { checkPaymentsAfterEach } from '../support/ledger-check.ts';
import { checkSchoolAfterEach } from '../support/school-invariants.ts';
import { checkout, expectError, getAccount, getCart, givePoints, newAccount, newClass, newSwimmer, openCart, register } from '../support/school.ts';
import { api, paymentBody, waitForTerminal } from '../support/target.ts';

/**
 * What the HTTP fuzzer (test/fuzz) found, each kept as the plain request that showed it: the
 * answer the API owes, and a corrected retry that is not blocked by the refused request.
 */
const track = checkPaymentsAfterEach();
const trackSchool = checkSchoolAfterEach();

describe('requests the fuzzer found', () => {
  it.each([
    ['a lone surrogate in a metadata key', { ['\ud800']: '' }, 'metadata'],
    ['a lone surrogate in a metadata value', { note: 'caf\udc00' }, 'metadata.note'],
    ['a metadata key __proto__', JSON.parse('{"__proto__":"x"}'), 'metadata.__proto__'],
  ])('refuses %s with 400 naming the field; the corrected order then succeeds', async (_, metadata, field) => {
    // Prepare
    const body = paymentBody();

    // Act
    const refused = await api('POST', '/v1/payments', { ...body, metadata });
    const corrected = track(await api('POST', '/v1/payments', body));

    // Assess
    expectError(refused, 400, 'validation_failed', field);
    expect(corrected.status).toBe(201);
    expect(await waitForTerminal(corrected.body.payment_no)).toMatchObject({ status: 'succeeded' });
  });

  it('refuses a lone surrogate in a payment description, which the provider could never be sent', async () => {
    const refused = await api('POST', '/v1/payments', paymentBody({ description: 'swim \ud83d lessons' }));

    expectError(refused, 400, 'validation_failed', 'description');
  });

  it.each([
    ['under the minimum the API can check', { amount: 49 }],
    ['under the minimum in pounds', { amount: 29, currency: 'GBP' }],
  ])('refuses a payment %s with 400 naming the amount, before anything is charged', async (_, fields) => {
    const refused = await api('POST', '/v1/payments', paymentBody(fields));

    expectError(refused, 400, 'validation_failed', 'amount');
  });

  it('refuses a metadata key with brackets, which the provider refuses, with 400 naming it', async () => {
    const refused = await api('POST', '/v1/payments', paymentBody({ metadata: { 'size[cm]': '120' } }));

    expectError(refused, 400, 'validation_failed', 'metadata.size[cm]');
  });

  it('refuses at checkout a card part under the provider\'s minimum, before spending a point, instead of leaving the payment pending', async () => {
    // Prepare: points would pay all but 10 cents of a seat, under the provider's minimum.
    const swimClass = await newClass({ price: 3000 });
    const account = await newAccount();
    await givePoints(account.account_id, 2990);
    const swimmer = await newSwimmer(account.account_id);
    const cart = (await openCart(account.account_id)).body;
    await register(cart.cart_id, swimmer.swimmer_id, swimClass.class_id);
    trackSchool({ classId: swimClass.class_id, accountId: account.account_id, cartId: cart.cart_id });

    // Act
    const refused = await checkout(cart.cart_id, { payment_mode: 'pay_now', payment_method: 'pm_card_visa', points: 2990 });

    // Assess: nothing spent, nothing locked, nothing charged.
    expectError(refused, 400, 'validation_failed', 'points');
    expect(await getCart(cart.cart_id)).toMatchObject({ status: 'pending' });
    expect(await getAccount(account.account_id)).toMatchObject({ points_balance: 2990, points_spent: 0 });
  });

  it('answers arrays nested 100,000 deep with 400, not a 500 from a walk that ran out of stack', async () => {
    const depth = 100_000;
    const response = await api('POST', '/v1/classes', undefined, { rawBody: `${'['.repeat(depth)}${']'.repeat(depth)}` });

    expectError(response, 400, 'validation_failed', 'body');
  });

  it('answers a body over 10 MB with 413 in the error format, as the deployed gateway response does', async () => {
    const response = await api('POST', '/v1/payments', undefined, { rawBody: JSON.stringify({ description: 'a'.repeat(10 * 1024 * 1024) }) });

    expectError(response, 413, 'request_rejected');
  });
});
