import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger } from '../../../../local/fake-provider/ledger.ts';
import { AUTHORIZATION_WINDOW_SECONDS } from '../../../../local/fake-provider/payment-intents.ts';
import { startFakeProvider, type FakeProvider } from '../../../../local/fake-provider/server.ts';
import { authorizeParams, stripeRequest } from './http.ts';

let fake: FakeProvider;

beforeAll(async () => {
  fake = await startFakeProvider({});
});
afterAll(() => fake.close());

async function authorize(paymentMethod = 'pm_card_visa', paymentNo = 'P-api') {
  return stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: authorizeParams(paymentMethod, paymentNo) });
}

describe('fake provider API', () => {
  describe('authorization', () => {
    it('authorizes a manual-capture PaymentIntent with a capture deadline 7 days out', async () => {
      // Act
      const { status, json } = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', {
        params: { ...authorizeParams('pm_card_mastercard'), 'expand[0]': 'latest_charge' },
      });

      // Assess
      expect(status).toBe(200);
      expect(json).toMatchObject({ object: 'payment_intent', status: 'requires_capture', amount_capturable: 1500, amount_received: 0 });
      expect(json.latest_charge.payment_method_details.card).toMatchObject({ brand: 'mastercard', capture_before: json.created + AUTHORIZATION_WINDOW_SECONDS });
    });

    it.each([
      ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
      ['pm_card_visa_chargeDeclined', 'card_declined', 'generic_decline'],
      ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
      ['pm_card_chargeDeclinedLostCard', 'card_declined', 'lost_card'],
      ['pm_card_chargeDeclinedStolenCard', 'card_declined', 'stolen_card'],
      ['pm_card_chargeDeclinedFraudulent', 'card_declined', 'fraudulent'],
      ['pm_card_chargeDeclinedExpiredCard', 'expired_card', undefined],
      ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', undefined],
      ['pm_card_chargeDeclinedProcessingError', 'processing_error', undefined],
    ])('declines %s with 402 %s/%s and leaves the PaymentIntent awaiting a payment method', async (pm, code, declineCode) => {
      // Act
      const { status, json } = await authorize(pm);

      // Assess
      expect(status).toBe(402);
      expect(json.error).toMatchObject({ type: 'card_error', code });
      expect(json.error.decline_code).toBe(declineCode);
      expect(json.error.payment_intent).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code } });
    });

    it('leaves a card that needs 3-D Secure in requires_action', async () => {
      // Act
      const { status, json } = await authorize('pm_card_authenticationRequired');

      // Assess
      expect(status).toBe(200);
      expect(json).toMatchObject({ status: 'requires_action', next_action: { type: 'use_stripe_sdk' } });
    });

    it('answers resource_missing for an unknown payment method', async () => {
      // Act
      const { status, json } = await authorize('pm_card_nope');

      // Assess
      expect(status).toBe(404);
      expect(json.error).toMatchObject({ code: 'resource_missing', param: 'payment_method' });
    });

    it.each([
      ['an amount under the currency\'s minimum', { amount: '49' }, { code: 'amount_too_small', param: 'amount' }],
      ['a minimum in another currency', { amount: '29', currency: 'gbp' }, { code: 'amount_too_small', param: 'amount' }],
      ['an amount past eight digits', { amount: '100000000' }, { code: 'amount_too_large', param: 'amount' }],
      ['a currency Stripe does not charge in', { currency: 'xdr' }, { param: 'currency' }],
      ['a metadata key with brackets', { 'metadata[a[b]]': 'x' }, { param: 'metadata' }],
      ['a metadata key with a stray bracket', { 'metadata[x]]': 'x' }, { param: 'metadata' }],
    ])('refuses %s as Stripe does, before creating anything', async (_, change, error) => {
      // Act
      const before = fake.ledger().paymentIntents.length;
      const { status, json } = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: { ...authorizeParams('pm_card_visa'), ...change } });

      // Assess
      expect(status).toBe(400);
      expect(json.error).toMatchObject({ type: 'invalid_request_error', ...error });
      expect(fake.ledger().paymentIntents).toHaveLength(before);
    });

    it('charges the minimum itself, and the eight-digit maximum', async () => {
      for (const [amount, currency] of [['50', 'usd'], ['30', 'gbp'], ['99999999', 'usd'], ['1', 'xof']]) {
        const { status } = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: { ...authorizeParams('pm_card_visa'), amount: amount!, currency: currency! } });
        expect(status, `${amount} ${currency}`).toBe(200);
      }
    });

    it('refuses a server-side confirmation that could need a redirect', async () => {
      // Prepare
      const { 'allowed_payment_method_types[0]': _, ...params } = authorizeParams('pm_card_visa');

      // Act
      const { status, json } = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params });

      // Assess
      expect(status).toBe(400);
      expect(json.error.param).toBe('return_url');
    });

    it('refuses a parameter Stripe does not know', async () => {
      // Act
      const { status, json } = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', {
        params: { ...authorizeParams('pm_card_visa'), captur_method: 'manual' },
      });

      // Assess
      expect(status).toBe(400);
      expect(json.error).toMatchObject({ code: 'parameter_unknown', param: 'captur_method' });
    });
  });

  describe('authentication', () => {
    it.each([
      ['no key', null],
      ['a live key', 'sk_live_nope'],
    ])('answers 401 to a request with %s', async (_case, apiKey) => {
      // Act
      const { status, json } = await stripeRequest(fake.url, 'GET', '/v1/payment_intents', { apiKey });

      // Assess
      expect(status).toBe(401);
      expect(json.error.type).toBe('invalid_request_error');
    });
  });

  describe('state transitions', () => {
    it('refuses to capture a canceled PaymentIntent and says so in payment_intent_unexpected_state', async () => {
      // Prepare
      const { json: pi } = await authorize();
      await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.id}/cancel`);

      // Act
      const { status, json } = await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.id}/capture`);

      // Assess
      expect(status).toBe(400);
      expect(json.error).toMatchObject({ code: 'payment_intent_unexpected_state', payment_intent: { status: 'canceled' } });
    });

    it('cancels a lapsed authorization automatically', async () => {
      // Prepare
      const { json: pi } = await authorize();

      // Act
      await fake.expireAuthorization(pi.id);
      const { json } = await stripeRequest(fake.url, 'GET', `/v1/payment_intents/${pi.id}`);

      // Assess
      expect(json).toMatchObject({ status: 'canceled', cancellation_reason: 'automatic' });
    });

    it('records a partial capture and refuses to refund more than was captured', async () => {
      // Prepare
      const { json: pi } = await authorize();
      await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.id}/capture`, { params: { amount_to_capture: '1000' } });

      // Act
      const tooMuch = await stripeRequest(fake.url, 'POST', '/v1/refunds', { params: { payment_intent: pi.id, amount: '1200' } });
      const rest = await stripeRequest(fake.url, 'POST', '/v1/refunds', { params: { payment_intent: pi.id } });
      const again = await stripeRequest(fake.url, 'POST', '/v1/refunds', { params: { payment_intent: pi.id } });

      // Assess
      expect(tooMuch.json.error.code).toBe('amount_too_large');
      expect(rest.json).toMatchObject({ object: 'refund', amount: 1000, status: 'succeeded' });
      expect(again.json.error.code).toBe('charge_already_refunded');
      expect(fake.ledger().paymentIntents.find((p) => p.id === pi.id)?.captures).toEqual([{ amount: 1000, at: expect.any(Number) }]);
    });

    it('refuses to refund an authorization that was never captured', async () => {
      // Prepare
      const { json: pi } = await authorize();

      // Act
      const { status, json } = await stripeRequest(fake.url, 'POST', '/v1/refunds', { params: { payment_intent: pi.id } });

      // Assess
      expect(status).toBe(400);
      expect(json.error.code).toBe('charge_not_refundable');
    });
  });

  describe('reading', () => {
    it('searches by payment_no in metadata, newest first', async () => {
      // Prepare
      const older = (await authorize('pm_card_visa', "P-search-'1'")).json;
      const newer = (await authorize('pm_card_chargeDeclined', "P-search-'1'")).json.error.payment_intent;
      await authorize('pm_card_visa', 'P-search-other');

      // Act
      const { json } = await stripeRequest(fake.url, 'GET', '/v1/payment_intents/search', {
        params: { query: "metadata['payment_no']:'P-search-\\'1\\''" },
      });

      // Assess
      expect(json.object).toBe('search_result');
      expect(json.data.map((pi: { id: string }) => pi.id)).toEqual([newer.id, older.id]);
    });

    it('negates a clause led by -: a metadata key of another value, or none', async () => {
      // Prepare
      const plain = (await authorize('pm_card_visa', 'P-search-negated')).json;
      const tagged = await stripeRequest(fake.url, 'POST', '/v1/payment_intents', {
        params: { ...authorizeParams('pm_card_visa', 'P-search-negated'), 'metadata[tag]': 'manual' },
      });
      const query = (clause: string) => `metadata['payment_no']:'P-search-negated' AND ${clause}`;

      // Act
      const without = await stripeRequest(fake.url, 'GET', '/v1/payment_intents/search', { params: { query: query("-metadata['tag']:'manual'") } });
      const withTag = await stripeRequest(fake.url, 'GET', '/v1/payment_intents/search', { params: { query: query("metadata['tag']:'manual'") } });

      // Assess
      expect(without.json.data.map((pi: { id: string }) => pi.id)).toEqual([plain.id]);
      expect(withTag.json.data.map((pi: { id: string }) => pi.id)).toEqual([tagged.json.id]);
    });

    it('pages through searches with next_page', async () => {
      // Prepare
      for (let i = 0; i < 3; i += 1) await authorize('pm_card_visa', 'P-search-pages');
      const query = "metadata['payment_no']:\"P-search-pages\" AND status:'requires_capture'";

      // Act
      const first = await stripeRequest(fake.url, 'GET', '/v1/payment_intents/search', { params: { query, limit: '2' } });
      const second = await stripeRequest(fake.url, 'GET', '/v1/payment_intents/search', { params: { query, limit: '2', page: first.json.next_page } });

      // Assess
      expect(first.json).toMatchObject({ has_more: true, data: [{}, {}] });
      expect(second.json).toMatchObject({ has_more: false, next_page: null, data: [{}] });
    });

    it('refuses a search query it cannot read', async () => {
      // Act
      const { status, json } = await stripeRequest(fake.url, 'GET', '/v1/payment_intents/search', { params: { query: 'customer OR x' } });

      // Assess
      expect(status).toBe(400);
      expect(json.error.param).toBe('query');
    });

    it('lists PaymentIntents newest first with starting_after', async () => {
      // Prepare
      const a = (await authorize()).json;
      const b = (await authorize()).json;

      // Act
      const first = await stripeRequest(fake.url, 'GET', '/v1/payment_intents', { params: { limit: '1' } });
      const next = await stripeRequest(fake.url, 'GET', '/v1/payment_intents', { params: { limit: '1', starting_after: b.id } });

      // Assess
      expect(first.json).toMatchObject({ object: 'list', has_more: true, data: [{ id: b.id }] });
      expect(next.json.data).toEqual([expect.objectContaining({ id: a.id })]);
    });

    it('lists and retrieves refunds of one PaymentIntent', async () => {
      // Prepare
      const { json: pi } = await authorize();
      await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${pi.id}/capture`);
      const refund = (await stripeRequest(fake.url, 'POST', '/v1/refunds', { params: { payment_intent: pi.id, amount: '500' } })).json;

      // Act
      const listed = await stripeRequest(fake.url, 'GET', '/v1/refunds', { params: { payment_intent: pi.id } });
      const retrieved = await stripeRequest(fake.url, 'GET', `/v1/refunds/${refund.id}`);

      // Assess
      expect(listed.json.data).toEqual([retrieved.json]);
      expect(retrieved.json).toMatchObject({ id: refund.id, payment_intent: pi.id, amount: 500 });
    });

    it('answers 404 resource_missing for an unknown PaymentIntent', async () => {
      // Act
      const { status, json } = await stripeRequest(fake.url, 'GET', '/v1/payment_intents/pi_nope');

      // Assess
      expect(status).toBe(404);
      expect(json.error.code).toBe('resource_missing');
    });

    it('serves the ledger over HTTP', async () => {
      // Prepare
      const { json: pi } = await authorize();

      // Act
      const ledger = (await (await fetch(`${fake.url}/_fake/ledger`)).json()) as Ledger;

      // Assess
      expect(ledger.paymentIntents.map((p) => p.id)).toContain(pi.id);
    });
  });
});

describe('fake provider balance transactions', () => {
  async function capturedAndRefunded() {
    const { json } = await authorize('pm_card_visa', `P-bt-${Date.now()}`);
    await stripeRequest(fake.url, 'POST', `/v1/payment_intents/${json.id}/capture`);
    const refund = await stripeRequest(fake.url, 'POST', '/v1/refunds', { params: { payment_intent: json.id, amount: '300' } });
    return { paymentIntent: json.id as string, chargeId: json.latest_charge as string, refundId: refund.json.id as string };
  }

  it('lists a capture and a refund, newest first, by type and created range, a page after another', async () => {
    // Prepare
    const { chargeId, refundId } = await capturedAndRefunded();
    const now = Math.floor(Date.now() / 1000);
    const range = { 'created[gte]': String(now - 5), 'created[lt]': String(now + 5) };

    // Act
    const charges = await stripeRequest(fake.url, 'GET', '/v1/balance_transactions', { params: { ...range, type: 'charge', limit: '100' } });
    const refunds = await stripeRequest(fake.url, 'GET', '/v1/balance_transactions', { params: { ...range, type: 'refund', limit: '100' } });
    const first = await stripeRequest(fake.url, 'GET', '/v1/balance_transactions', { params: { ...range, limit: '1' } });
    const next = await stripeRequest(fake.url, 'GET', '/v1/balance_transactions', { params: { ...range, limit: '1', starting_after: first.json.data[0].id } });
    const later = await stripeRequest(fake.url, 'GET', '/v1/balance_transactions', { params: { 'created[gte]': String(now + 5) } });

    // Assess
    expect(charges.json.data.map((t: { source: string }) => t.source)).toContain(chargeId);
    expect(charges.json.data.find((t: { source: string }) => t.source === chargeId)).toMatchObject({ object: 'balance_transaction', type: 'charge', amount: 1500, net: 1500 });
    expect(refunds.json.data.find((t: { source: string }) => t.source === refundId)).toMatchObject({ type: 'refund', amount: -300 });
    expect(first.json.has_more).toBe(true);
    expect(next.json.data[0].id).not.toBe(first.json.data[0].id);
    expect(later.json.data).toEqual([]);
  });

  it('refuses a created range it does not know, naming the parameter', async () => {
    // Act
    const { status, json } = await stripeRequest(fake.url, 'GET', '/v1/balance_transactions', { params: { 'created[after]': '1' } });

    // Assess
    expect(status).toBe(400);
    expect(json.error.param).toBe('created[after]');
  });
});
