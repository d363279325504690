/**
 * Every Lambda function of the product, named once. The CDK app deploys one function per
 * entry; the local stack binds the same modules to the same names, so the two can never
 * disagree about which code runs where. Paths are relative to `functions/`.
 */

/** The payment saga's Task states, in order, each its own function. */
export const sagaSteps = {
  Authorize: 'handlers/saga/authorize.ts',
  RecordAuthorization: 'handlers/saga/record-authorization.ts',
  Capture: 'handlers/saga/capture.ts',
  MarkSucceeded: 'handlers/saga/mark-succeeded.ts',
  VoidAuthorization: 'handlers/saga/void-authorization.ts',
  MarkFailed: 'handlers/saga/mark-failed.ts',
  /** A cart's payment (its metadata names the cart) ends by settling the cart, either way. */
  SettleCart: 'handlers/saga/settle-cart.ts',
} as const;
export type SagaStepName = keyof typeof sagaSteps;

/** The saga steps that call the payment provider and so need its secret. */
export const providerSteps: readonly SagaStepName[] = ['Authorize', 'Capture', 'VoidAuthorization'];

/**
 * The refund saga's Task states: the provider refunds, a refund it holds pending is looked at
 * again until it is final, then the refund is recorded (or failed).
 */
export const refundSteps = {
  SubmitRefund: 'handlers/refund-saga/submit-refund.ts',
  CheckRefund: 'handlers/refund-saga/check-refund.ts',
  RecordRefund: 'handlers/refund-saga/record-refund.ts',
  MarkRefundFailed: 'handlers/refund-saga/mark-refund-failed.ts',
} as const;
export type RefundStepName = keyof typeof refundSteps;

export const providerRefundSteps: readonly RefundStepName[] = ['SubmitRefund', 'CheckRefund'];

/**
 * The payout saga's Task states: the provider pays out, a payout still travelling is looked at
 * again until it is final, then it is recorded paid (or given back to the balance).
 */
export const payoutSteps = {
  SubmitPayout: 'handlers/payout-saga/submit-payout.ts',
  CheckPayout: 'handlers/payout-saga/check-payout.ts',
  RecordPayoutPaid: 'handlers/payout-saga/record-payout-paid.ts',
  MarkPayoutFailed: 'handlers/payout-saga/mark-payout-failed.ts',
} as const;
export type PayoutStepName = keyof typeof payoutSteps;

export const providerPayoutSteps: readonly PayoutStepName[] = ['SubmitPayout', 'CheckPayout'];

/**
 * The webhook delivery's Task states (lib/webhook-delivery.ts): one attempt of an event's POST to
 * an endpoint, retried by the state machine, and the delivery given up.
 */
export const webhookSteps = {
  DeliverWebhook: 'handlers/webhooks/deliver.ts',
  GiveUpWebhook: 'handlers/webhooks/give-up.ts',
} as const;
export type WebhookStepName = keyof typeof webhookSteps;

/** The sagas a route may start. */
export type SagaKind = 'payment' | 'refund' | 'payout';

export interface ApiRoute {
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway resource path, with `{param}` placeholders. */
  readonly path: string;
  readonly entry: string;
  /** The sagas whose executions the route starts, if any. */
  readonly starts?: readonly SagaKind[];
  /** A list: it queries the table's index of each merchant's records (`by_merchant`). */
  readonly lists?: true;
  /** It starts webhook deliveries (executions of the delivery state machine). */
  readonly delivers?: true;
  /** Open to anyone, no API key: it reads nothing of any merchant's. */
  readonly public?: true;
}

const routes = [
  { id: 'CreatePayment', method: 'POST', path: '/v1/payments', entry: 'handlers/api/create-payment.ts', starts: ['payment'] },
  { id: 'ListPayments', method: 'GET', path: '/v1/payments', entry: 'handlers/api/list-payments.ts', lists: true },
  { id: 'GetPayment', method: 'GET', path: '/v1/payments/{payment_no}', entry: 'handlers/api/get-payment.ts' },
  { id: 'CapturePayment', method: 'POST', path: '/v1/payments/{payment_no}/capture', entry: 'handlers/api/capture-payment.ts', starts: ['payment'] },
  { id: 'CancelPayment', method: 'POST', path: '/v1/payments/{payment_no}/cancel', entry: 'handlers/api/cancel-payment.ts', starts: ['payment'] },
  { id: 'CreateRefund', method: 'POST', path: '/v1/refunds', entry: 'handlers/api/create-refund.ts', starts: ['refund'] },
  { id: 'ListRefunds', method: 'GET', path: '/v1/refunds', entry: 'handlers/api/list-refunds.ts', lists: true },
  { id: 'GetRefund', method: 'GET', path: '/v1/refunds/{refund_no}', entry: 'handlers/api/get-refund.ts' },
  { id: 'CreateClass', method: 'POST', path: '/v1/classes', entry: 'handlers/api/school/create-class.ts' },
  { id: 'GetClass', method: 'GET', path: '/v1/classes/{class_id}', entry: 'handlers/api/school/get-class.ts' },
  { id: 'CreateAccount', method: 'POST', path: '/v1/accounts', entry: 'handlers/api/school/create-account.ts' },
  { id: 'GetAccount', method: 'GET', path: '/v1/accounts/{account_id}', entry: 'handlers/api/school/get-account.ts' },
  { id: 'GrantPoints', method: 'POST', path: '/v1/accounts/{account_id}/points', entry: 'handlers/api/school/grant-points.ts' },
  { id: 'AddSwimmer', method: 'POST', path: '/v1/accounts/{account_id}/swimmers', entry: 'handlers/api/school/add-swimmer.ts' },
  { id: 'ListPurchases', method: 'GET', path: '/v1/accounts/{account_id}/purchases', entry: 'handlers/api/school/list-purchases.ts' },
  { id: 'OpenCart', method: 'POST', path: '/v1/accounts/{account_id}/cart', entry: 'handlers/api/carts/open-cart.ts' },
  { id: 'ListCarts', method: 'GET', path: '/v1/carts', entry: 'handlers/api/carts/list-carts.ts', lists: true },
  { id: 'GetCart', method: 'GET', path: '/v1/carts/{cart_id}', entry: 'handlers/api/carts/get-cart.ts' },
  { id: 'AddCartItem', method: 'POST', path: '/v1/carts/{cart_id}/items', entry: 'handlers/api/carts/add-item.ts' },
  { id: 'RemoveCartItem', method: 'DELETE', path: '/v1/carts/{cart_id}/items/{item_id}', entry: 'handlers/api/carts/remove-item.ts' },
  { id: 'Checkout', method: 'POST', path: '/v1/carts/{cart_id}/checkout', entry: 'handlers/api/carts/checkout.ts', starts: ['payment', 'refund'] },
  { id: 'ConfirmInStore', method: 'POST', path: '/v1/carts/{cart_id}/confirm-in-store', entry: 'handlers/api/carts/confirm-in-store.ts' },
  { id: 'CancelCart', method: 'POST', path: '/v1/carts/{cart_id}/cancel', entry: 'handlers/api/carts/cancel-cart.ts' },
  { id: 'GetBalance', method: 'GET', path: '/v1/balance', entry: 'handlers/api/ledger/get-balance.ts' },
  { id: 'ListBalanceTransactions', method: 'GET', path: '/v1/balance_transactions', entry: 'handlers/api/ledger/list-balance-transactions.ts' },
  { id: 'ListSettlements', method: 'GET', path: '/v1/settlements', entry: 'handlers/api/ledger/list-settlements.ts' },
  { id: 'GetSettlement', method: 'GET', path: '/v1/settlements/{settlement_id}', entry: 'handlers/api/ledger/get-settlement.ts' },
  { id: 'GetSettlementCsv', method: 'GET', path: '/v1/settlements/{settlement_id}/csv', entry: 'handlers/api/ledger/get-settlement-csv.ts' },
  { id: 'CreatePayout', method: 'POST', path: '/v1/payouts', entry: 'handlers/api/payouts/create-payout.ts', starts: ['payout'] },
  { id: 'GetPayout', method: 'GET', path: '/v1/payouts/{payout_no}', entry: 'handlers/api/payouts/get-payout.ts' },
  { id: 'ListPayouts', method: 'GET', path: '/v1/payouts', entry: 'handlers/api/payouts/list-payouts.ts' },
  { id: 'CreateWebhookEndpoint', method: 'POST', path: '/v1/webhook_endpoints', entry: 'handlers/api/webhooks/create-endpoint.ts' },
  { id: 'ListWebhookEndpoints', method: 'GET', path: '/v1/webhook_endpoints', entry: 'handlers/api/webhooks/list-endpoints.ts' },
  { id: 'DeleteWebhookEndpoint', method: 'DELETE', path: '/v1/webhook_endpoints/{endpoint_id}', entry: 'handlers/api/webhooks/delete-endpoint.ts' },
  { id: 'ListEvents', method: 'GET', path: '/v1/events', entry: 'handlers/api/events/list-events.ts', lists: true },
  { id: 'GetEvent', method: 'GET', path: '/v1/events/{event_id}', entry: 'handlers/api/events/get-event.ts' },
  { id: 'RedeliverEvent', method: 'POST', path: '/v1/events/{event_id}/redeliver', entry: 'handlers/api/events/redeliver-event.ts', delivers: true },
  { id: 'GetSettings', method: 'GET', path: '/v1/settings', entry: 'handlers/api/settings/get-settings.ts' },
  { id: 'UpdateSettings', method: 'POST', path: '/v1/settings', entry: 'handlers/api/settings/update-settings.ts' },
  { id: 'GetOpenApi', method: 'GET', path: '/v1/openapi.json', entry: 'handlers/api/get-openapi.ts', public: true },
] as const satisfies readonly ApiRoute[];

export const apiRoutes: readonly ApiRoute[] = routes;
/** Every route's id: each names its function (and its crash points, `functions/crash/`). */
export type ApiRouteId = (typeof routes)[number]['id'];

/** The API Gateway TOKEN authorizer that maps a merchant API key to its merchant. */
export const authorizerEntry = 'handlers/api/authorizer.ts';

/** Invoked by the EventBridge schedule every minute. */
export const reconcilerEntry = 'handlers/reconciler.ts';

/**
 * Invoked by the table's stream (an event source mapping) with the changes of payments and
 * refunds: writes the ledger's journal transactions for the money they moved.
 */
export const ledgerPosterEntry = 'handlers/ledger-poster.ts';

/**
 * Invoked by its own EventBridge schedule every hour: writes the settlement statements of every
 * merchant whose local day has ended, and compares each day with the provider's.
 */
export const settleDayEntry = 'handlers/settle-day.ts';

/**
 * Invoked by the table's stream (its own event source mapping) with the status changes of
 * payments, refunds and carts: writes each transition's event once and starts its deliveries.
 */
export const eventPublisherEntry = 'handlers/event-publisher.ts';

/** A Lambda function of the product: its id (the CDK app's construct id) and its handler module. */
export interface CatalogFunction {
  readonly name: string;
  /** Relative to `functions/`. */
  readonly entry: string;
}

/** Every function of the catalog, in the order the CDK app creates them. */
export function catalogFunctions(): CatalogFunction[] {
  const named = (steps: Readonly<Record<string, string>>) => Object.entries(steps).map(([name, entry]) => ({ name, entry }));
  return [
    ...named(sagaSteps),
    ...named(refundSteps),
    ...named(payoutSteps),
    ...apiRoutes.map((route) => ({ name: route.id, entry: route.entry })),
    { name: 'Authorizer', entry: authorizerEntry },
    { name: 'Reconciler', entry: reconcilerEntry },
    { name: 'LedgerPoster', entry: ledgerPosterEntry },
    { name: 'SettleDay', entry: settleDayEntry },
    ...named(webhookSteps),
    { name: 'EventPublisher', entry: eventPublisherEntry },
  ];
}
