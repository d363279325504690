import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYOUT_SCRIPTS } from '../../../../local/fake-provider/payouts.ts';
import { startFakeProvider, type FakeProvider } from '../../../../local/fake-provider/server.ts';
import { authorizeParams, type RawResponse, stripeRequest } from './http.ts';

/**
 * Every kind of object the fake provider answers with, held to Stripe's own example of it
 * (`fixtures3.json`, the examples stripe-mock serves, MIT, kept outside the product): no field
 * Stripe's object does not have, and the same JSON type wherever both have a field, nested
 * objects compared the same way. An object carrying `object: <kind>` is compared with
 * Stripe's example of that kind wherever it appears (a list's data, an expanded charge, the
 * PaymentIntent in an error), so a kind the fake learns later (a payout, a balance
 * transaction, an event) is covered by one more line in `answers` below.
 *
 * One example per kind shows one value per field, so:
 * - Stripe's example null: the field is nullable and the example does not say of what; the
 *   fake may send null or anything (an object carrying `object` is still compared).
 * - The fake's null where Stripe's example has a value: only for fields Stripe's SDK types
 *   declare nullable, listed in `nullableBeyondTheExamples` (the compiler checks the list).
 * - A field the example lacks but Stripe's SDK types declare for the API version the product
 *   pins: listed in `documentedBeyondTheExamples`, which the compiler checks against those
 *   types, so nothing invented can be listed there.
 * - `{}` in an example is an object with no fields; `metadata` (strings under any keys) and
 *   `use_stripe_sdk` (Stripe: "only intended to be used by Stripe.js") are open by design.
 */

type JsonObject = Record<string, unknown>;
type DeepPartial<T> = T extends (infer Item)[] ? DeepPartial<Item>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
type NullableFields<T> = { [K in keyof T]-?: null extends T[K] ? K : never }[keyof T] & string;

/** Stripe's examples, from the nearest `shared/stripe/fixtures3.json` above the repository. */
function stripeExamples(): Record<string, JsonObject> {
  const repoRoot = path.resolve(import.meta.dirname, '../../../..');
  for (let dir = path.dirname(repoRoot); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'shared/stripe/fixtures3.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { resources: Record<string, JsonObject> }).resources;
    if (dir === path.dirname(dir)) throw new Error(`no shared/stripe/fixtures3.json above ${repoRoot}: Stripe's examples are needed to compare with`);
  }
}

/** Fields the examples lack that Stripe's types declare, each with a value of its type. */
const documentedBeyondTheExamples = {
  payment_intent: {
    // In the API since 2026-07-29.dahlia (stripe-node 22.4.0); the examples predate it.
    allowed_payment_method_types: ['card'],
    next_action: { use_stripe_sdk: {} },
    last_payment_error: {
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
      charge: 'ch_1',
      doc_url: 'https://stripe.com/docs/error-codes/card-declined',
      param: 'payment_method',
      payment_method: { object: 'payment_method' },
    },
  } satisfies DeepPartial<Stripe.PaymentIntent>,
  charge: { payment_method_details: { card: { capture_before: 1_234_567_890 } } } satisfies DeepPartial<Stripe.Charge>,
  refund: { failure_reason: 'declined', pending_reason: 'processing' } satisfies DeepPartial<Stripe.Refund>,
  search_result: { object: 'search_result', next_page: 'page_10' } satisfies DeepPartial<Stripe.ApiSearchResult<Stripe.PaymentIntent>>,
  error: { payment_intent: { object: 'payment_intent' } } satisfies DeepPartial<Stripe.StripeRawError>,
};

const nullableBeyondTheExamples: Record<string, readonly string[]> = {
  payment_intent: [
    'allowed_payment_method_types',
    'canceled_at',
    'last_payment_error',
    'next_action',
  ] satisfies NullableFields<Stripe.PaymentIntent>[],
  charge: ['description', 'payment_method'] satisfies NullableFields<Stripe.Charge>[],
  payout: ['description'] satisfies NullableFields<Stripe.Payout>[],
  balance_transaction: ['description'] satisfies NullableFields<Stripe.BalanceTransaction>[],
  search_result: ['next_page'] satisfies NullableFields<Stripe.ApiSearchResult<Stripe.PaymentIntent>>[],
};

/** Fields whose keys are the caller's (`metadata`) or left open by Stripe (`use_stripe_sdk`). */
const openFields: Record<string, (value: unknown, at: string) => string[]> = {
  metadata: (value, at) =>
    Object.entries(value as JsonObject).flatMap(([key, item]) => (typeof item === 'string' ? [] : [`${at}.${key}: metadata values are strings`])),
  use_stripe_sdk: () => [],
};

function merged(example: unknown, documented: unknown): unknown {
  if (!isObject(example) || !isObject(documented)) return documented;
  const result: JsonObject = { ...example };
  for (const [field, value] of Object.entries(documented)) result[field] = field in example ? merged(example[field], value) : value;
  return result;
}

/** Stripe's example of each kind of object, by the value of its `object` field; `error` is the envelope. */
function references(): Record<string, unknown> {
  const examples = stripeExamples();
  const list = (examples['charge']!['refunds'] as JsonObject);
  const withDocumented: Record<string, unknown> = { ...examples, list };
  for (const [kind, documented] of Object.entries(documentedBeyondTheExamples)) {
    if (kind !== 'search_result' && kind !== 'error') withDocumented[kind] = merged(examples[kind], documented);
  }
  withDocumented['search_result'] = merged(list, documentedBeyondTheExamples.search_result);
  const lastPaymentError = (withDocumented['payment_intent'] as JsonObject)['last_payment_error'];
  withDocumented['error'] = { error: merged(lastPaymentError, documentedBeyondTheExamples.error) };
  return withDocumented;
}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const jsonType = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/** What in `actual` Stripe's object of its kind would not have: `[]` when it keeps Stripe's shape. */
function shapeDifferences(actual: unknown, known: Record<string, unknown>): string[] {
  const kind = isObject(actual) ? (typeof actual['object'] === 'string' ? actual['object'] : 'error' in actual ? 'error' : undefined) : undefined;
  if (kind === undefined) return ['the answer is not an object of the API'];
  return compare(actual, known[kind], kind, kind, known);
}

function compare(actual: unknown, reference: unknown, at: string, kind: string, known: Record<string, unknown>): string[] {
  if (isObject(actual) && typeof actual['object'] === 'string') {
    const ownKind = actual['object'];
    if (!(ownKind in known)) return [`${at}: Stripe has no example of an object "${ownKind}"`];
    if (reference !== known[ownKind]) return compare(actual, known[ownKind], at, ownKind, known);
  }
  if (reference === null) return [];
  const field = at.slice(at.lastIndexOf('.') + 1);
  if (actual === null) {
    return (nullableBeyondTheExamples[kind] ?? []).includes(field) ? [] : [`${at}: null, where Stripe's example has a ${jsonType(reference)}`];
  }
  if (jsonType(actual) !== jsonType(reference)) return [`${at}: a ${jsonType(actual)}, where Stripe's example has a ${jsonType(reference)}`];
  if (Array.isArray(actual)) {
    const [itemReference] = reference as unknown[];
    return actual.flatMap((item, index) =>
      itemReference === undefined && !(isObject(item) && typeof item['object'] === 'string')
        ? [`${at}[${index}]: Stripe's example of this list is empty`]
        : compare(item, itemReference, `${at}[${index}]`, kind, known),
    );
  }
  if (!isObject(actual)) return [];
  const open = openFields[field];
  if (open !== undefined) return open(actual, at);
  const expected = reference as JsonObject;
  return Object.entries(actual).flatMap(([name, value]) =>
    name in expected ? compare(value, expected[name], `${at}.${name}`, kind, known) : [`${at}.${name}: Stripe's ${kind} has no such field`],
  );
}

let fake: FakeProvider;
let known: Record<string, unknown>;

beforeAll(async () => {
  known = references();
  fake = await startFakeProvider({ requireIdempotencyKey: true });
});
afterAll(() => fake.close());

const post = (route: string, params: Record<string, string> = {}) =>
  stripeRequest(fake.url, 'POST', route, { params, idempotencyKey: randomUUID() });
const get = (route: string, params: Record<string, string> = {}) => stripeRequest(fake.url, 'GET', route, { params });
const expanded = { 'expand[0]': 'latest_charge' };

async function capturedIntent(): Promise<string> {
  const { json } = await post('/v1/payment_intents', authorizeParams('pm_card_visa', `P-${randomUUID()}`));
  await post(`/v1/payment_intents/${json.id}/capture`);
  return json.id as string;
}

/** One line per kind of answer: each must keep Stripe's shape. */
const answers: Record<string, () => Promise<RawResponse>> = {
  'an authorized PaymentIntent, its charge expanded': () => post('/v1/payment_intents', { ...authorizeParams('pm_card_visa'), ...expanded }),
  'a PaymentIntent without a payment method': () => post('/v1/payment_intents', { amount: '500', currency: 'usd' }),
  'a PaymentIntent waiting for 3-D Secure': () => post('/v1/payment_intents', authorizeParams('pm_card_authenticationRequired')),
  'a captured PaymentIntent, its charge expanded': async () => {
    const { json } = await post('/v1/payment_intents', authorizeParams('pm_card_visa'));
    return post(`/v1/payment_intents/${json.id}/capture`, expanded);
  },
  'a canceled PaymentIntent': async () => {
    const { json } = await post('/v1/payment_intents', authorizeParams('pm_card_visa'));
    return post(`/v1/payment_intents/${json.id}/cancel`, { cancellation_reason: 'abandoned' });
  },
  'a declined PaymentIntent, its failed charge expanded': async () => {
    const declined = await post('/v1/payment_intents', authorizeParams('pm_card_chargeDeclined'));
    return get(`/v1/payment_intents/${declined.json.error.payment_intent.id}`, expanded);
  },
  'a refund': async () => post('/v1/refunds', { payment_intent: await capturedIntent(), amount: '100', 'metadata[refund_no]': 'R-1' }),
  'a refund, retrieved': async () => {
    const refund = await post('/v1/refunds', { payment_intent: await capturedIntent() });
    return get(`/v1/refunds/${refund.json.id}`);
  },
  'a list of PaymentIntents, charges expanded': async () => {
    await capturedIntent();
    return get('/v1/payment_intents', { limit: '3', 'expand[0]': 'data.latest_charge' });
  },
  'a list of refunds': async () => {
    await post('/v1/refunds', { payment_intent: await capturedIntent(), amount: '100' });
    return get('/v1/refunds', { limit: '2' });
  },
  'a search result': async () => {
    const paymentNo = `P-${randomUUID()}`;
    await post('/v1/payment_intents', authorizeParams('pm_card_visa', paymentNo));
    return get('/v1/payment_intents/search', { query: `metadata['payment_no']:'${paymentNo}'`, limit: '1', 'expand[0]': 'data.latest_charge' });
  },
  'a list of balance transactions, sources expanded': async () => {
    const paymentIntent = await capturedIntent();
    await post('/v1/refunds', { payment_intent: paymentIntent, amount: '100' });
    return get('/v1/balance_transactions', { limit: '2', 'expand[0]': 'data.source' });
  },
  'a list of balance transactions': async () => {
    await capturedIntent();
    return get('/v1/balance_transactions', { limit: '1' });
  },
  'a payout, its balance transaction expanded': () => post('/v1/payouts', { amount: '700', currency: 'usd', 'expand[0]': 'balance_transaction' }),
  'a payout without a description, retrieved': async () => {
    const { json } = await post('/v1/payouts', { amount: '700', currency: 'usd', 'metadata[payout_no]': 'po_1' });
    return get(`/v1/payouts/${json.id}`);
  },
  'a failed payout, in a list': async () => {
    const { json } = await post('/v1/payouts', { amount: '700', currency: 'usd', description: PAYOUT_SCRIPTS.held });
    await fake.settlePayout(json.id, 'failed');
    return get('/v1/payouts', { limit: '1' });
  },
  'a card decline': () => post('/v1/payment_intents', authorizeParams('pm_card_chargeDeclinedInsufficientFunds')),
  'a capture refused in the PaymentIntent’s state': async () => {
    const { json } = await post('/v1/payment_intents', authorizeParams('pm_card_visa'));
    await post(`/v1/payment_intents/${json.id}/cancel`);
    return post(`/v1/payment_intents/${json.id}/capture`);
  },
  'a refund over what was captured': async () => post('/v1/refunds', { payment_intent: await capturedIntent(), amount: '999999' }),
  'an unknown PaymentIntent': () => get('/v1/payment_intents/pi_missing'),
  'an unknown parameter': () => post('/v1/payment_intents', { amount: '500', currency: 'usd', color: 'blue' }),
  'an idempotency key reused with other parameters': async () => {
    const idempotencyKey = randomUUID();
    await stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa'), idempotencyKey });
    return stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: { ...authorizeParams('pm_card_visa'), amount: '1' }, idempotencyKey });
  },
  'a POST without an idempotency key, which this fake requires': () =>
    stripeRequest(fake.url, 'POST', '/v1/payment_intents', { params: authorizeParams('pm_card_visa') }),
  'a request without an API key': () => stripeRequest(fake.url, 'GET', '/v1/payment_intents', { apiKey: null }),
  'an injected 503': () => {
    fake.faults.failNext(1, 503);
    return get('/v1/payment_intents');
  },
  'an injected 429': () => {
    fake.faults.failNext(1, 429);
    return get('/v1/payment_intents');
  },
};

describe('the fake provider keeps Stripe’s shapes', () => {
  it.each(Object.entries(answers))('%s', async (_, answer) => {
    // Act
    const { json } = await answer();

    // Assess
    expect(shapeDifferences(json, known)).toEqual([]);
  });

  it('answers with every kind of object it renders among the answers above', async () => {
    // Prepare
    const kinds = new Set<string>();
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      if (!isObject(value)) return;
      if (typeof value['object'] === 'string') kinds.add(value['object']);
      Object.values(value).forEach(collect);
    };

    // Act
    for (const answer of Object.values(answers)) collect((await answer()).json);

    // Assess
    expect([...kinds].sort()).toEqual(['balance_transaction', 'charge', 'list', 'payment_intent', 'payment_method', 'payout', 'refund', 'search_result']);
  });
});

describe('the comparison with Stripe’s examples', () => {
  const intent = () => post('/v1/payment_intents', { ...authorizeParams('pm_card_visa'), ...expanded }).then((answer) => answer.json as JsonObject);

  it.each([
    ['a field Stripe’s object does not have', (pi: JsonObject) => ({ ...pi, invented_field: true }), "payment_intent.invented_field: Stripe's payment_intent has no such field"],
    ['another JSON type', (pi: JsonObject) => ({ ...pi, amount: '1500' }), "payment_intent.amount: a string, where Stripe's example has a number"],
    ['null where Stripe’s field is not nullable', (pi: JsonObject) => ({ ...pi, amount: null }), "payment_intent.amount: null, where Stripe's example has a number"],
    [
      'a field invented deep inside an expanded charge',
      (pi: JsonObject) => {
        const charge = pi['latest_charge'] as JsonObject;
        const details = charge['payment_method_details'] as JsonObject;
        return { ...pi, latest_charge: { ...charge, payment_method_details: { ...details, card: { ...(details['card'] as JsonObject), pin: '1234' } } } };
      },
      "payment_intent.latest_charge.payment_method_details.card.pin: Stripe's charge has no such field",
    ],
    ['an object of a kind Stripe has no example of', (pi: JsonObject) => ({ ...pi, latest_charge: { object: 'charge_attempt' } }), 'payment_intent.latest_charge: Stripe has no example of an object "charge_attempt"'],
    ['metadata that is not strings', (pi: JsonObject) => ({ ...pi, metadata: { count: 3 } }), 'payment_intent.metadata.count: metadata values are strings'],
  ])('notices %s', async (_, mutate, difference) => {
    // Prepare
    const mutated = mutate(await intent());

    // Act
    const differences = shapeDifferences(mutated, known);

    // Assess
    expect(differences).toEqual([difference]);
  });
});
