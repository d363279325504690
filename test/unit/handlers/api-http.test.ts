import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { CardDeclinedError, DatabaseUnavailableError, NotFoundError } from '../../../functions/domain/errors.ts';
import { apiHandler } from '../../../functions/handlers/api/http.ts';
import { parseBody } from '../../../functions/handlers/api/parse-body.ts';
import { createPaymentBody } from '../../../functions/handlers/api/payment-schema.ts';
import { createRefundBody } from '../../../functions/handlers/api/refund-schema.ts';

function event(body: unknown, merchantId: string | null = 'm_1'): APIGatewayProxyEvent {
  return {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: 'r-1', authorizer: merchantId ? { merchant_id: merchantId } : undefined },
  } as unknown as APIGatewayProxyEvent;
}

const valid = { order_no: 'o-1', amount: 1250, currency: 'usd', payment_method: 'pm_card_visa' };

function fieldAtFault(body: unknown): string | undefined {
  try {
    parseBody(event(body), createPaymentBody);
    return undefined;
  } catch (error) {
    return (error as { field?: string }).field;
  }
}

describe('the create-payment body', () => {
  it('accepts a valid body and upper-cases the currency', () => {
    expect(parseBody(event(valid), createPaymentBody)).toMatchObject({ currency: 'USD', amount: 1250 });
  });

  it.each([
    ['a fractional amount', { ...valid, amount: 12.5 }, 'amount'],
    ['a zero amount', { ...valid, amount: 0 }, 'amount'],
    ['an amount as a string', { ...valid, amount: '1250' }, 'amount'],
    ['an amount past eight digits', { ...valid, amount: 100_000_000 }, 'amount'],
    ['an unknown currency', { ...valid, currency: 'XYZ' }, 'currency'],
    ['a missing order_no', { ...valid, order_no: undefined }, 'order_no'],
    ['an order_no with spaces', { ...valid, order_no: 'a b' }, 'order_no'],
    ['a payment method that is not an id', { ...valid, payment_method: '4242424242424242' }, 'payment_method'],
    ['a bad email', { ...valid, customer_email: 'nope' }, 'customer_email'],
    ['a reserved metadata key', { ...valid, metadata: { payment_no: 'x' } }, 'metadata.payment_no'],
    ['a field the API does not know', { ...valid, merchant_id: 'm_2' }, 'merchant_id'],
    ['an amount under the provider\'s minimum for the currency', { ...valid, amount: 49 }, 'amount'],
    ['an amount under the provider\'s minimum in pounds', { ...valid, amount: 29, currency: 'GBP' }, 'amount'],
    ['a metadata key with brackets, which the provider refuses', { ...valid, metadata: { 'a[b]': 'x' } }, 'metadata.a[b]'],
    ['a lone surrogate in the description', { ...valid, description: 'caf\ud800' }, 'description'],
    ['a lone surrogate in a metadata value', { ...valid, metadata: { note: '\udc00' } }, 'metadata.note'],
    ['a lone surrogate in a metadata key', { ...valid, metadata: { ['k\ud800']: 'v' } }, 'metadata'],
    ['a metadata key __proto__, which the parsed map would drop', { ...valid, metadata: JSON.parse('{"__proto__":"x"}') }, 'metadata.__proto__'],
    ['a body key __proto__', JSON.parse(`{"__proto__":{},${JSON.stringify(valid).slice(1)}`), '__proto__'],
  ])('refuses %s, naming the field', (_, body, field) => {
    expect(fieldAtFault(body)).toBe(field);
  });

  it('accepts the provider\'s minimum itself, and any positive amount where it has none', () => {
    for (const [amount, currency] of [[50, 'USD'], [30, 'GBP'], [1, 'XOF']] as const) {
      expect(parseBody(event({ ...valid, amount, currency }), createPaymentBody)).toMatchObject({ amount, currency });
    }
  });

  it('accepts text in any script, emoji (surrogate pairs) included', () => {
    const metadata = { ['k😀']: 'נ\u200f😀', 'ключ': 'ß' };
    expect(parseBody(event({ ...valid, description: '🏊 swim', metadata }), createPaymentBody)).toMatchObject({ metadata });
  });

  it('refuses a body nested 200,000 deep with a 400, without running out of stack', () => {
    const depth = 200_000;
    const nested = `${'{"a":'.repeat(depth)}"\udc00"${'}'.repeat(depth)}`;

    expect(() => parseBody(event(nested), createPaymentBody)).toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });

  it('refuses a body that is not JSON with invalid_json', () => {
    expect(() => parseBody(event('{nope'), createPaymentBody)).toThrow(expect.objectContaining({ code: 'invalid_json' }));
  });
});

describe('the create-refund body', () => {
  const refund = { payment_no: 'pay_000000000000000000000001', amount: 100, operator_id: 'op-1' };

  it('refuses the operator_id the carts use for their own refunds, whose failure comes back as points', () => {
    // Act
    const refused = () => parseBody(event({ ...refund, operator_id: 'chargeonce-cart' }), createRefundBody);

    // Assess
    expect(parseBody(event(refund), createRefundBody)).toMatchObject({ operator_id: 'op-1' });
    expect(refused).toThrow(expect.objectContaining({ code: 'validation_failed', field: 'operator_id' }));
  });
});

describe('apiHandler', () => {
  it('maps a typed error to its status, code and field', async () => {
    const handler = apiHandler('GetPayment', async () => {
      throw new NotFoundError('no payment', { field: 'payment_no' });
    });

    const result = await handler(event({}));

    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body)).toEqual({ error: { code: 'not_found', message: 'no payment', field: 'payment_no' } });
  });

  it('asks for a retry when the database is unavailable', async () => {
    const handler = apiHandler('GetPayment', async () => {
      throw new DatabaseUnavailableError('down');
    });

    const result = await handler(event({}));

    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ 'Retry-After': '1' });
  });

  it('answers 402 with the decline code family for a card error', async () => {
    const handler = apiHandler('GetPayment', async () => {
      throw new CardDeclinedError('insufficient_funds', 'declined');
    });

    expect((await handler(event({}))).statusCode).toBe(402);
  });

  it('hides an unexpected error behind a 500 with a stable code', async () => {
    const handler = apiHandler('GetPayment', async () => {
      throw new TypeError('boom');
    });

    const result = await handler(event({}));

    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body).error.code).toBe('internal_error');
  });

  it('refuses a request that reached it without a merchant', async () => {
    const handler = apiHandler('GetPayment', async () => ({ status: 200, body: {} }));

    expect((await handler(event({}, null))).statusCode).toBe(401);
  });
});
