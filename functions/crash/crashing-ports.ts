import type { SchoolStore } from '../domain/carts/store.ts';
import type { IdempotencyStore } from '../domain/idempotency.ts';
import type { LedgerStore } from '../domain/ledger/ledger.ts';
import type { SettlementStore } from '../domain/ledger/settle.ts';
import type { MerchantKeyStore } from '../domain/merchant.ts';
import type { ChargeWorkflow, PaymentRepository } from '../domain/ports.ts';
import type { PayoutStore } from '../domain/payout.ts';
import type { PaymentProvider, ProviderBalanceLedger } from '../domain/provider.ts';
import type { EventStore } from '../domain/events.ts';
import type { RefundRepository } from '../domain/refund.ts';
import type { DeliveryStarter, WebhookEndpointStore } from '../domain/webhooks.ts';
import { type Boundary, crashAt, isCrashPoint } from './crash-points.ts';
import { currentInvocation, insideBoundary } from './invocation.ts';

/** What a port's method does: reads pass through; every other kind is a crash boundary. */
export type CallKind = 'read' | Boundary;

/**
 * Every method of a port, classified. Each map below `satisfies` its port's, so a method added
 * to a port does not compile until it is classified here.
 */
export type Calls<P> = { readonly [K in keyof P]: CallKind };

export const paymentRepositoryCalls = {
  get: 'read',
  listDue: 'read',
  create: 'write',
  replace: 'write',
  update: 'write',
} as const satisfies Calls<PaymentRepository>;

export const refundRepositoryCalls = {
  get: 'read',
  listForPayment: 'read',
  listDue: 'read',
  create: 'write',
  replace: 'write',
  fail: 'write',
  revive: 'write',
} as const satisfies Calls<RefundRepository>;

export const paymentProviderCalls = {
  retrieveCharge: 'read',
  findChargesByPaymentNo: 'read',
  listOpenAuthorizations: 'read',
  retrieveRefund: 'read',
  findRefundsOfCharge: 'read',
  retrievePayout: 'read',
  findPayouts: 'read',
  createPayout: 'provider',
  authorizeCharge: 'provider',
  captureCharge: 'provider',
  voidCharge: 'provider',
  refundCharge: 'provider',
} as const satisfies Calls<PaymentProvider>;

/** Listing what the provider moved changes nothing there. */
export const providerBalanceLedgerCalls = {
  listBalanceTransactions: 'read',
} as const satisfies Calls<ProviderBalanceLedger>;

/** Both sagas' executions, payments' and refunds'. */
export const workflowCalls = {
  describe: 'read',
  start: 'start',
} as const satisfies Calls<ChargeWorkflow>;

export const schoolStoreCalls = {
  commit: 'write',
  getClass: 'read',
  countSeats: 'read',
  getStudent: 'read',
  getAccount: 'read',
  getSwimmer: 'read',
  listSwimmers: 'read',
  listPurchases: 'read',
  getCart: 'read',
  listDueCarts: 'read',
  listDueHolds: 'read',
} as const satisfies Calls<SchoolStore>;

/** A key's record is written by the route that uses it: its claim, takeover, answer and release. */
export const idempotencyStoreCalls = {
  get: 'read',
  claim: 'write',
  takeOver: 'write',
  complete: 'write',
  release: 'write',
} as const satisfies Calls<IdempotencyStore>;

export const merchantKeyStoreCalls = {
  merchantOf: 'read',
  findKeyByHash: 'read',
  keysOf: 'read',
  settingsOf: 'read',
  ledgerSettingsOf: 'read',
  updateSettings: 'write',
  addMerchantKey: 'write',
  revokeKey: 'write',
  expireKey: 'write',
} as const satisfies Calls<MerchantKeyStore>;

/** A posting is the ledger's one write; everything else reads. */
export const ledgerStoreCalls = {
  post: 'write',
  chargeOf: 'read',
  listDueCharges: 'read',
  balances: 'read',
  listBalanceTransactions: 'read',
  getBalanceTransaction: 'read',
  journal: 'read',
} as const satisfies Calls<LedgerStore>;

/** A statement's put and the registry's advance write; the rest reads. */
export const settlementStoreCalls = {
  merchants: 'read',
  merchant: 'read',
  journalBetween: 'read',
  transactionsBetween: 'read',
  putStatement: 'write',
  advance: 'write',
  getStatement: 'read',
  listStatements: 'read',
} as const satisfies Calls<SettlementStore>;

/** A payout's making and each change of its status, with the posting it carries. */
export const payoutStoreCalls = {
  get: 'read',
  list: 'read',
  listDue: 'read',
  create: 'write',
  replace: 'write',
} as const satisfies Calls<PayoutStore>;

/** An event's one put, and what its deliveries record. */
export const eventStoreCalls = {
  put: 'write',
  get: 'read',
  list: 'read',
  recordAttempt: 'write',
  recordOutcome: 'write',
  history: 'read',
} as const satisfies Calls<EventStore>;

export const webhookEndpointStoreCalls = {
  create: 'write',
  get: 'read',
  list: 'read',
  delete: 'write',
} as const satisfies Calls<WebhookEndpointStore>;

export const deliveryStarterCalls = {
  start: 'start',
} as const satisfies Calls<DeliveryStarter>;

/**
 * The port with a crash point before and after each of its state-changing calls, named after
 * the function whose invocation makes the call (`create-payment:before-write`). Ports are
 * wrapped where they are built, once per instance, so no function can reach one unwrapped;
 * outside an invocation (crash points and the audit off, as on AWS) each call only passes through.
 */
export function withCrashPoints<P extends object>(port: P, calls: Calls<P>): P {
  const methods = port as Record<string, (...args: unknown[]) => unknown>;
  const wrapped = Object.fromEntries(
    Object.entries<CallKind>(calls).map(([name, kind]) => {
      const method = methods[name];
      if (typeof method !== 'function') throw new Error(`the port has no method ${name}`);
      const call = (args: unknown[]) => method.apply(port, args);
      return [name, kind === 'read' ? (...args: unknown[]) => call(args) : crossing(kind, call)];
    }),
  );
  return wrapped as P;
}

function crossing(boundary: Boundary, call: (args: unknown[]) => unknown) {
  return async (...args: unknown[]): Promise<unknown> => {
    const invocation = currentInvocation();
    if (invocation === undefined) return call(args);
    const at = (side: 'before' | 'after') => {
      const point = `${invocation.fn}:${side}-${boundary}`;
      // A boundary the registry does not list would never enter the crash matrix: fail loudly.
      if (!isCrashPoint(point)) throw new Error(`unregistered crash point ${point}: list ${boundary} under ${invocation.fn} in crashBoundaries`);
      crashAt(point);
    };
    at('before');
    const result = await insideBoundary(invocation, boundary, () => call(args));
    at('after');
    return result;
  };
}
