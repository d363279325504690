import { describe, expect, it } from 'vitest';
import { checkPaymentsAfterEach } from '../support/ledger-check.ts';
import { expectError } from '../support/school.ts';
import { api, paymentBody, waitForTerminal } from '../support/target.ts';

/**
 * What the HTTP fuzzer (test/fuzz) found, each kept as the plain request that showed it: the
 * answer the API owes, and a corrected retry that is not blocked by the refused request.
 */
const track = checkPaymentsAfterEach();

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

  it('answers a body over 10 MB with 413 in the error format, as the deployed gateway response does', async () => {
    const response = await api('POST', '/v1/payments', undefined, { rawBody: JSON.stringify({ description: 'a'.repeat(10 * 1024 * 1024) }) });

    expectError(response, 413, 'request_rejected');
  });
});
