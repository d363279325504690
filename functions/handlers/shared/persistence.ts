import { createDocumentClient, createDynamoClient } from '../../adapters/dynamodb/client.ts';
import { DynamoEventStore, DynamoWebhookEndpointStore } from '../../adapters/dynamodb/event-store.ts';
import { DynamoIdempotencyStore } from '../../adapters/dynamodb/idempotency-store.ts';
import { DynamoLedgerStore } from '../../adapters/dynamodb/ledger-store.ts';
import { DynamoMerchantKeyStore } from '../../adapters/dynamodb/merchant-key-store.ts';
import { DynamoPaymentRepository } from '../../adapters/dynamodb/payment-repository.ts';
import { DynamoPayoutStore } from '../../adapters/dynamodb/payout-store.ts';
import { DynamoRefundRepository } from '../../adapters/dynamodb/refund-repository.ts';
import { DynamoSchoolStore } from '../../adapters/dynamodb/school-store.ts';
import { DynamoSettlementStore } from '../../adapters/dynamodb/settlement-store.ts';
import { EnvVar, awsCallBudget, requireEnv } from '../../config/env.ts';
import {
  eventStoreCalls,
  idempotencyStoreCalls,
  ledgerStoreCalls,
  merchantKeyStoreCalls,
  paymentRepositoryCalls,
  payoutStoreCalls,
  refundRepositoryCalls,
  schoolStoreCalls,
  settlementStoreCalls,
  webhookEndpointStoreCalls,
  withCrashPoints,
} from '../../crash/crashing-ports.ts';
import type { CartLister, SchoolStore } from '../../domain/carts/store.ts';
import type { IdempotencyStore } from '../../domain/idempotency.ts';
import type { LedgerStore } from '../../domain/ledger/ledger.ts';
import type { SettlementStore } from '../../domain/ledger/settle.ts';
import type { MerchantKeyStore } from '../../domain/merchant.ts';
import type { EventStore } from '../../domain/events.ts';
import type { PayoutStore } from '../../domain/payout.ts';
import type { PaymentLister, PaymentRepository } from '../../domain/ports.ts';
import type { RefundLister, RefundRepository } from '../../domain/refund.ts';
import type { WebhookEndpointStore } from '../../domain/webhooks.ts';
import { once } from './once.ts';

/**
 * DynamoDB only: what the authorizer and the read routes need, and nothing that would grow
 * their bundles. Each store has its crash points around its writes (functions/crash/), for
 * whichever function uses it.
 */
const documentClient = /* @__PURE__ */ once(() => createDocumentClient(createDynamoClient(awsCallBudget())));
const tableName = () => requireEnv(EnvVar.TableName);

/** Lists only read: no crash point to cross. */
export const paymentLister = /* @__PURE__ */ once((): PaymentLister => new DynamoPaymentRepository(documentClient(), tableName()));
export const refundLister = /* @__PURE__ */ once((): RefundLister => new DynamoRefundRepository(documentClient(), tableName()));
export const cartLister = /* @__PURE__ */ once((): CartLister => new DynamoSchoolStore(documentClient(), tableName()));

export const paymentRepository = /* @__PURE__ */ once(
  (): PaymentRepository =>
    withCrashPoints<PaymentRepository>(new DynamoPaymentRepository(documentClient(), tableName()), paymentRepositoryCalls),
);

export const merchantKeyStore = /* @__PURE__ */ once(
  (): MerchantKeyStore =>
    withCrashPoints<MerchantKeyStore>(new DynamoMerchantKeyStore(documentClient(), tableName()), merchantKeyStoreCalls),
);

export const idempotencyStore = /* @__PURE__ */ once(
  (): IdempotencyStore =>
    withCrashPoints<IdempotencyStore>(new DynamoIdempotencyStore(documentClient(), tableName()), idempotencyStoreCalls),
);

export const refundRepository = /* @__PURE__ */ once(
  (): RefundRepository =>
    withCrashPoints<RefundRepository>(new DynamoRefundRepository(documentClient(), tableName()), refundRepositoryCalls),
);

export const ledgerStore = /* @__PURE__ */ once(
  (): LedgerStore => withCrashPoints<LedgerStore>(new DynamoLedgerStore(documentClient(), tableName()), ledgerStoreCalls),
);

export const schoolStore = /* @__PURE__ */ once(
  (): SchoolStore => withCrashPoints<SchoolStore>(new DynamoSchoolStore(documentClient(), tableName()), schoolStoreCalls),
);

export const settlementStore = /* @__PURE__ */ once(
  (): SettlementStore =>
    withCrashPoints<SettlementStore>(new DynamoSettlementStore(documentClient(), tableName()), settlementStoreCalls),
);

export const payoutStore = /* @__PURE__ */ once(
  (): PayoutStore => withCrashPoints<PayoutStore>(new DynamoPayoutStore(documentClient(), tableName()), payoutStoreCalls),
);

export const eventStore = /* @__PURE__ */ once(
  (): EventStore => withCrashPoints<EventStore>(new DynamoEventStore(documentClient(), tableName()), eventStoreCalls),
);

export const webhookEndpointStore = /* @__PURE__ */ once(
  (): WebhookEndpointStore =>
    withCrashPoints<WebhookEndpointStore>(new DynamoWebhookEndpointStore(documentClient(), tableName()), webhookEndpointStoreCalls),
);
