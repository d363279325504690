import fc from 'fast-check';
import type * as z from 'zod/mini';
import { apiRoutes } from '../../functions/catalog.ts';
import { addItemBody, checkoutBody } from '../../functions/handlers/api/carts/schemas.ts';
import { parseBody } from '../../functions/handlers/api/parse-body.ts';
import { capturePaymentBody, createPaymentBody } from '../../functions/handlers/api/payment-schema.ts';
import { createPayoutBody } from '../../functions/handlers/api/payouts/payout-schema.ts';
import { createRefundBody } from '../../functions/handlers/api/refund-schema.ts';
import { updateSettingsBody } from '../../functions/handlers/api/settings/schemas.ts';
import { createEndpointBody } from '../../functions/handlers/api/webhooks/endpoint-schema.ts';
import {
  addSwimmerBody,
  createAccountBody,
  createClassBody,
  grantPointsBody,
} from '../../functions/handlers/api/school/schemas.ts';
import { type Json, jsonText } from './json-text.ts';
import { type Hints, type Mutation, fieldNames, mutations, validBodies } from './schema-arbitrary.ts';
import { Fresh, Ref, type RefKind, type Template } from './template.ts';

/**
 * How the fuzzer drives each route of the catalog: the schema its handler parses, what each
 * path parameter names, whether it takes an Idempotency-Key, and what a corrected retry of a
 * refused request must get.
 */
export interface RouteSpec {
  /** The handler's body schema; `empty` for routes that take no body (or `{}`); absent for reads. */
  readonly body?: { readonly schema: z.ZodMiniType; readonly hints: Hints } | 'empty';
  /** Path parameter -> the kind of thing it names, and what an id of that kind looks like. */
  readonly params: Readonly<Record<string, { readonly kind: RefKind; readonly looksLike: RegExp }>>;
  readonly key: 'required' | 'optional' | 'none';
  /**
   * After a 4xx, the valid request with the same key and business ids: `created` must succeed
   * with 201 (its ids are new), `unblocked` must at least not be refused for its key.
   */
  readonly corrected?: 'created' | 'unblocked';
}

const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ID = {
  payment: { kind: 'payment', looksLike: /^pay_[0-9a-f]{24}$/ },
  refund: { kind: 'refund', looksLike: /^re_[0-9a-f]{24}$/ },
  payout: { kind: 'payout', looksLike: /^po_[0-9a-f]{24}$/ },
  class: { kind: 'class', looksLike: CLIENT_ID },
  account: { kind: 'account', looksLike: CLIENT_ID },
  cart: { kind: 'cart', looksLike: /^cart_[0-9a-f]{24}$/ },
  item: { kind: 'item', looksLike: /^itm_[0-9a-f]{16}$/ },
  settlement: { kind: 'settlement', looksLike: /^stl_[A-Za-z0-9_-]{8,64}$/ },
  event: { kind: 'event', looksLike: /^evt_[0-9a-f]{24}$/ },
  endpoint: { kind: 'endpoint', looksLike: /^we_[0-9a-f]{24}$/ },
} as const;

const ref = (kind: RefKind) => fc.nat(50).map((index) => new Ref(kind, index));
const fresh = (kind: Fresh['kind']) => fc.constant(null).map(() => new Fresh(kind));
/** Currencies the way clients write them; the schema decides which it knows. */
const currency = fc.oneof(
  { arbitrary: fc.constantFrom('USD', 'usd', 'EUR', 'GBP', 'JPY', 'CAD', 'CHF', 'HUF', 'KWD'), weight: 6 },
  { arbitrary: fc.constantFrom(...Intl.supportedValuesOf('currency')), weight: 1 },
);
const cards = fc.oneof(
  { arbitrary: fc.constant('pm_card_visa'), weight: 6 },
  { arbitrary: fc.constantFrom('pm_card_chargeDeclined', 'pm_card_chargeDeclinedInsufficientFunds', 'pm_card_unknown'), weight: 1 },
);

export const routeSpecs: Readonly<Record<string, RouteSpec>> = {
  CreatePayment: {
    body: {
      schema: createPaymentBody,
      hints: { order_no: fresh('order'), currency, payment_method: cards, amount: fc.integer({ min: 50, max: 2_000_000 }) },
    },
    params: {},
    key: 'optional',
    corrected: 'created',
  },
  // Its query parameters are not generated (the integration suite holds their 400s).
  ListPayments: { params: {}, key: 'none' },
  GetPayment: { params: { payment_no: ID.payment }, key: 'none' },
  // Mostly refused (most payments are automatic, or already decided); a manual one taken must end as asked.
  CapturePayment: {
    body: { schema: capturePaymentBody, hints: { amount_to_capture: fc.option(fc.integer({ min: 1, max: 3000 }), { nil: undefined }) as unknown as fc.Arbitrary<Template> } },
    params: { payment_no: ID.payment },
    key: 'optional',
    corrected: 'unblocked',
  },
  CancelPayment: { body: 'empty', params: { payment_no: ID.payment }, key: 'optional', corrected: 'unblocked' },
  CreateRefund: {
    body: {
      schema: createRefundBody,
      // Small refunds of large payments: a valid refund is never refused for want of money.
      hints: { payment_no: ref('payment'), amount: fc.integer({ min: 1, max: 100 }), operator_id: fresh('operator'), expected_amount_refunded: fc.constant(undefined as unknown as Template) },
    },
    params: {},
    key: 'optional',
    corrected: 'created',
  },
  // Its query parameters are not generated (the integration suite holds their 400s).
  ListRefunds: { params: {}, key: 'none' },
  GetRefund: { params: { refund_no: ID.refund }, key: 'none' },
  // The ledger's reads: their query parameters are not generated (the integration suite holds their 400s).
  GetBalance: { params: {}, key: 'none' },
  ListBalanceTransactions: { params: {}, key: 'none' },
  ListSettlements: { params: {}, key: 'none' },
  GetSettlement: { params: { settlement_id: ID.settlement }, key: 'none' },
  GetSettlementCsv: { params: { settlement_id: ID.settlement }, key: 'none' },
  // The fuzzing merchant's balance may not cover a payout: a corrected one may be refused for want of funds, never for its key.
  CreatePayout: {
    body: { schema: createPayoutBody, hints: { amount: fc.integer({ min: 1, max: 100 }), currency } },
    params: {},
    key: 'required',
    corrected: 'unblocked',
  },
  GetPayout: { params: { payout_no: ID.payout }, key: 'none' },
  ListPayouts: { params: {}, key: 'none' },
  CreateClass: {
    body: { schema: createClassBody, hints: { class_id: fresh('id'), currency, seats_total: fc.integer({ min: 1, max: 40 }) } },
    params: {},
    key: 'none',
    corrected: 'created',
  },
  GetClass: { params: { class_id: ID.class }, key: 'none' },
  CreateAccount: { body: { schema: createAccountBody, hints: { account_id: fresh('id') } }, params: {}, key: 'none', corrected: 'created' },
  GetAccount: { params: { account_id: ID.account }, key: 'none' },
  GrantPoints: {
    body: { schema: grantPointsBody, hints: { amount: fc.integer({ min: 1, max: 10_000 }) } },
    params: { account_id: ID.account },
    key: 'required',
    corrected: 'created',
  },
  AddSwimmer: { body: { schema: addSwimmerBody, hints: { swimmer_id: fresh('id') } }, params: { account_id: ID.account }, key: 'none', corrected: 'created' },
  ListPurchases: { params: { account_id: ID.account }, key: 'none' },
  OpenCart: { body: 'empty', params: { account_id: ID.account }, key: 'none' },
  GetCart: { params: { cart_id: ID.cart }, key: 'none' },
  AddCartItem: {
    body: {
      schema: addItemBody,
      hints: { swimmer_id: ref('swimmer'), class_id: ref('class'), from_class_id: ref('class'), to_class_id: ref('class') },
    },
    params: { cart_id: ID.cart },
    key: 'none',
  },
  RemoveCartItem: { params: { cart_id: ID.cart, item_id: ID.item }, key: 'none' },
  Checkout: {
    body: {
      schema: checkoutBody,
      hints: {
        payment_method: cards,
        // None, some, all of a 3000 seat, or all but a few cents: a card part under the provider's minimum.
        points: fc.oneof(
          { arbitrary: fc.constant(0), weight: 3 },
          { arbitrary: fc.integer({ min: 0, max: 3000 }), weight: 1 },
          { arbitrary: fc.constantFrom(2951, 2990, 2999, 3000, 3001), weight: 1 },
        ),
      },
    },
    params: { cart_id: ID.cart },
    key: 'required',
    corrected: 'unblocked',
  },
  // An endpoint that takes only expired carts (a fuzz run's carts hold for 30 minutes), on a port nothing listens on:
  // no delivery is ever started to it, so none retries for days behind the run.
  CreateWebhookEndpoint: {
    body: {
      schema: createEndpointBody,
      hints: { url: fc.constant('http://127.0.0.1:9/fuzz'), enabled_events: fc.constant(['cart.expired'] as unknown as Template) },
    },
    params: {},
    key: 'optional',
    corrected: 'unblocked',
  },
  ListWebhookEndpoints: { params: {}, key: 'none' },
  DeleteWebhookEndpoint: { params: { endpoint_id: ID.endpoint }, key: 'none' },
  // Its query parameters are not generated (the integration suite holds their 400s).
  ListEvents: { params: {}, key: 'none' },
  GetEvent: { params: { event_id: ID.event }, key: 'none' },
  RedeliverEvent: { body: 'empty', params: { event_id: ID.event }, key: 'none' },
  ConfirmInStore: { body: 'empty', params: { cart_id: ID.cart }, key: 'none' },
  // Its query parameters are not generated (the integration suite holds their 400s).
  ListCarts: { params: {}, key: 'none' },
  GetSettings: { params: {}, key: 'none' },
  // A valid change sets what the fuzzing merchant has already (a point worth 1, the deployment's hold left alone): its checkouts price points as before.
  UpdateSettings: {
    body: { schema: updateSettingsBody, hints: { point_value: fc.constant(1), cart_hold_seconds: fc.constant(undefined as unknown as Template) } },
    params: {},
    key: 'none',
  },
  GetOpenApi: { params: {}, key: 'none' },
  CancelCart: { body: 'empty', params: { cart_id: ID.cart }, key: 'none' },
};

/** Every route of the catalog, and nothing else, has a spec: a new route is fuzzed or this fails. */
export function checkEveryRouteSpecified(): void {
  const catalog = apiRoutes.map((route) => route.id).sort();
  const specified = Object.keys(routeSpecs).sort();
  if (JSON.stringify(catalog) !== JSON.stringify(specified)) {
    throw new Error(`routes without a fuzz spec or specs without a route: catalog ${catalog.join(',')}; specs ${specified.join(',')}`);
  }
}

/** Whether the route's own handler parser accepts this body. */
export function accepts(schema: z.ZodMiniType): (body: Json) => boolean {
  return (body) => {
    try {
      parseBody({ body: jsonText(body), isBase64Encoded: false } as Parameters<typeof parseBody>[0], schema);
      return true;
    } catch {
      return false;
    }
  };
}

/** The body of a route: valid, or valid then changed in one to three ways. */
export function bodiesOf(spec: RouteSpec): { valid: fc.Arbitrary<Template>; changes: fc.Arbitrary<Mutation[]> } | undefined {
  if (spec.body === undefined || spec.body === 'empty') return undefined;
  const { schema, hints } = spec.body;
  return {
    valid: validBodies(schema, hints, accepts(schema)),
    changes: fc.array(mutations(fieldNames(schema)), { minLength: 1, maxLength: 3 }),
  };
}
