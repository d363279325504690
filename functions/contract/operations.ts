/**
 * What each route of the catalog takes and answers, by the schemas its handler parses with and
 * its views are typed by: the OpenAPI document (`openapi.ts`) is generated from this, so it
 * cannot describe a request the code refuses or an answer it does not give. Keyed by route id:
 * a route added to the catalog does not compile until it is described here.
 */
import type { ApiRouteId } from '../catalog.ts';
import { CartStatus } from '../domain/carts/model.ts';
import { PaymentStatus } from '../domain/payment.ts';
import { addItemBody, cartObject, checkoutBody, purchaseObject } from '../handlers/api/carts/schemas.ts';
import { PRINTABLE } from '../handlers/api/idempotent-route.ts';
import { balanceObject, balanceTransactionObject, settlementObject } from '../handlers/api/ledger/schemas.ts';
import { CREATED_BOUNDS, DEFAULT_LIMIT, MAX_LIMIT, MAX_UNIX_SECONDS } from '../handlers/api/list-query.ts';
import { capturePaymentBody, createPaymentBody, paymentObject } from '../handlers/api/payment-schema.ts';
import { createPayoutBody, payoutObject } from '../handlers/api/payouts/payout-schema.ts';
import { createRefundBody, paymentWithRefunds, refundObject } from '../handlers/api/refund-schema.ts';
import { errorResponse, listOf } from '../handlers/api/response-schema.ts';
import {
  accountObject,
  accountSwimmer,
  accountWithSwimmers,
  addSwimmerBody,
  classObject,
  classWithCounts,
  createAccountBody,
  createClassBody,
  grantObject,
  grantPointsBody,
} from '../handlers/api/school/schemas.ts';
import { settingsObject, updateSettingsBody } from '../handlers/api/settings/schemas.ts';
import { eventObject, eventWithDeliveries, redeliveryObject } from '../handlers/api/events/event-schema.ts';
import { createEndpointBody, createdEndpointObject, deletedEndpointObject, endpointObject } from '../handlers/api/webhooks/endpoint-schema.ts';
import { eventTypes } from '../domain/events.ts';
import * as z from '../handlers/shared/zod.ts';

/** A success answer: a JSON body of a named schema, or a CSV download. */
export type Answer = z.ZodMiniType | 'csv' | 'openapi';

export interface Operation {
  readonly summary: string;
  /** The query parameters it takes (any other is a 400 naming it). */
  readonly query?: Readonly<Record<string, z.ZodMiniType>>;
  /** Its JSON body; `empty`: none, or `{}`. */
  readonly body?: z.ZodMiniType | 'empty';
  /** Whether it takes an `Idempotency-Key` header, and must have one. */
  readonly idempotencyKey?: 'required' | 'optional';
  /** Its answers by status, besides the errors every route may give. */
  readonly answers: Readonly<Record<number, Answer>>;
}

/** The named schemas of the answers, each a component of the document. */
export const answerSchemas = {
  Error: errorResponse,
  Payment: paymentObject,
  PaymentWithRefunds: paymentWithRefunds,
  PaymentList: listOf('/v1/payments', paymentObject),
  Refund: refundObject,
  RefundList: listOf('/v1/refunds', refundObject),
  Class: classObject,
  ClassWithCounts: classWithCounts,
  Account: accountObject,
  AccountWithSwimmers: accountWithSwimmers,
  AccountSwimmer: accountSwimmer,
  PointsGrant: grantObject,
  Purchases: z.strictObject({ purchases: z.array(purchaseObject) }),
  Cart: cartObject,
  CartList: listOf('/v1/carts', cartObject),
  Balance: balanceObject,
  BalanceTransactionList: listOf('/v1/balance_transactions', balanceTransactionObject),
  Settlement: settlementObject,
  SettlementList: listOf('/v1/settlements', settlementObject),
  Payout: payoutObject,
  PayoutList: listOf('/v1/payouts', payoutObject),
  Settings: settingsObject,
  WebhookEndpoint: endpointObject,
  CreatedWebhookEndpoint: createdEndpointObject,
  DeletedWebhookEndpoint: deletedEndpointObject,
  WebhookEndpointList: listOf('/v1/webhook_endpoints', endpointObject),
  Event: eventObject,
  EventWithDeliveries: eventWithDeliveries,
  EventList: listOf('/v1/events', eventObject),
  Redelivery: redeliveryObject,
} as const satisfies Record<string, z.ZodMiniType>;

const a = answerSchemas;

const limit = z.int().check(z.gte(1), z.lte(MAX_LIMIT), z.meta({ description: `A page's size; ${DEFAULT_LIMIT} when absent.` }));
const cursor = (what: string) => z.string().check(z.minLength(1), z.meta({ description: `The ${what} of the list the page starts after.` }));
const pageParameters = (what: string) => ({ limit, starting_after: cursor(what) });

/** Stripe's list parameters: a page, a cursor either way, and a range of creation times in Unix seconds. */
const listParameters = (what: string) => ({
  ...pageParameters(what),
  ending_before: z.string().check(z.minLength(1), z.meta({ description: `The ${what} of the list the page ends before.` })),
  ...Object.fromEntries(CREATED_BOUNDS.map((bound) => [`created[${bound}]`, z.int().check(z.gte(0), z.lte(MAX_UNIX_SECONDS))])),
});

/** 201 with what it made; 200 with what the same request made before. */
const both = (schema: z.ZodMiniType) => ({ 201: schema, 200: schema });

export const operations: { readonly [K in ApiRouteId]: Operation } = {
  CreatePayment: { summary: 'Creates a payment; a repeat answers the first payment.', body: createPaymentBody, idempotencyKey: 'optional', answers: both(a.Payment) },
  ListPayments: { summary: "The merchant's payments, newest first.", query: { ...listParameters('payment_no'), status: z.enum(Object.values(PaymentStatus)) }, answers: { 200: a.PaymentList } },
  GetPayment: { summary: 'A payment with its refunds.', answers: { 200: a.PaymentWithRefunds } },
  CapturePayment: {
    summary: "Captures a manual payment waiting at authorized, all of it or amount_to_capture (the rest released): accepted, then captured by the payment's saga.",
    body: capturePaymentBody,
    idempotencyKey: 'optional',
    answers: { 202: a.Payment, 200: a.Payment },
  },
  CancelPayment: {
    summary: "Cancels a manual payment waiting at authorized: accepted, then its authorization released by the payment's saga.",
    body: 'empty',
    idempotencyKey: 'optional',
    answers: { 202: a.Payment, 200: a.Payment },
  },
  CreateRefund: { summary: 'Refunds part or all of a captured payment.', body: createRefundBody, idempotencyKey: 'optional', answers: both(a.Refund) },
  ListRefunds: {
    summary: "The merchant's refunds, newest first.",
    query: { ...listParameters('refund_no'), payment_no: z.string().check(z.regex(/^pay_[0-9a-f]{24}$/)) },
    answers: { 200: a.RefundList },
  },
  GetRefund: { summary: 'A refund.', answers: { 200: a.Refund } },
  CreateClass: { summary: 'Creates a class; the same class_id and fields again answers it.', body: createClassBody, answers: both(a.Class) },
  GetClass: { summary: 'A class and its seats.', answers: { 200: a.ClassWithCounts } },
  CreateAccount: { summary: 'Creates a customer account; the same account_id again answers it.', body: createAccountBody, answers: both(a.Account) },
  GetAccount: { summary: 'An account, its points and its swimmers.', answers: { 200: a.AccountWithSwimmers } },
  GrantPoints: { summary: 'Grants loyalty points to an account.', body: grantPointsBody, idempotencyKey: 'required', answers: both(a.PointsGrant) },
  AddSwimmer: { summary: 'Adds a swimmer to an account.', body: addSwimmerBody, answers: both(a.AccountSwimmer) },
  ListPurchases: { summary: "What each of the account's paid checkouts bought.", answers: { 200: a.Purchases } },
  OpenCart: { summary: "Opens a cart for the account, or answers its unfinished one.", body: 'empty', answers: both(a.Cart) },
  ListCarts: { summary: "The merchant's carts, newest first.", query: { ...listParameters('cart_id'), status: z.enum(Object.values(CartStatus)) }, answers: { 200: a.CartList } },
  GetCart: { summary: 'A cart.', answers: { 200: a.Cart } },
  AddCartItem: { summary: 'Registers, cancels or changes a class in the cart.', body: addItemBody, answers: { 200: a.Cart } },
  RemoveCartItem: { summary: 'Removes an item from the cart, its held seat given back.', answers: { 200: a.Cart } },
  // 202 with the cart checking out; a repeat with its key, 200 with the first answer's body.
  Checkout: { summary: 'Checks the cart out: points spent, the card part charged.', body: checkoutBody, idempotencyKey: 'required', answers: { 202: a.Cart, 200: a.Cart } },
  ConfirmInStore: { summary: 'The shop took the money of a pay-in-store cart.', body: 'empty', answers: { 200: a.Cart } },
  CancelCart: { summary: 'Gives the cart up, its seats and points back.', body: 'empty', answers: { 200: a.Cart } },
  GetBalance: { summary: "The merchant's funds per currency.", answers: { 200: a.Balance } },
  ListBalanceTransactions: { summary: "The merchant's balance transactions, newest first.", query: pageParameters('balance transaction id'), answers: { 200: a.BalanceTransactionList } },
  ListSettlements: {
    summary: "The merchant's daily statements, newest first.",
    query: { ...pageParameters('settlement id'), date: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/)) },
    answers: { 200: a.SettlementList },
  },
  GetSettlement: { summary: 'A daily statement.', answers: { 200: a.Settlement } },
  GetSettlementCsv: { summary: 'A daily statement as a CSV download.', answers: { 200: 'csv' } },
  CreatePayout: { summary: 'Pays out available funds to the bank account.', body: createPayoutBody, idempotencyKey: 'required', answers: both(a.Payout) },
  GetPayout: { summary: 'A payout.', answers: { 200: a.Payout } },
  ListPayouts: { summary: "The merchant's payouts, newest first.", query: pageParameters('payout_no'), answers: { 200: a.PayoutList } },
  GetSettings: { summary: "The merchant's settings.", answers: { 200: a.Settings } },
  UpdateSettings: { summary: "Changes the settings named; the others keep their value.", body: updateSettingsBody, answers: { 200: a.Settings } },
  GetOpenApi: { summary: 'This document.', answers: { 200: 'openapi' } },
  CreateWebhookEndpoint: {
    summary: 'Registers an endpoint for events; the answer (and its replays) shows its signing secret, no other does.',
    body: createEndpointBody,
    idempotencyKey: 'optional',
    answers: both(a.CreatedWebhookEndpoint),
  },
  ListWebhookEndpoints: { summary: "The merchant's webhook endpoints, without their secrets.", answers: { 200: a.WebhookEndpointList } },
  DeleteWebhookEndpoint: { summary: 'Deletes an endpoint: no delivery goes to it from then on.', answers: { 200: a.DeletedWebhookEndpoint } },
  ListEvents: { summary: "The merchant's events, newest first.", query: { ...listParameters('event id'), type: z.enum(eventTypes) }, answers: { 200: a.EventList } },
  GetEvent: { summary: 'An event, its delivery attempts and how each delivery ended.', answers: { 200: a.EventWithDeliveries } },
  RedeliverEvent: { summary: 'Delivers the event again to each endpoint that takes its type now.', body: 'empty', answers: { 202: a.Redelivery } },
};

/** The `Idempotency-Key` header's values. */
export const idempotencyKeySchema = z.string().check(z.regex(PRINTABLE));
