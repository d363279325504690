import { createDocumentClient, createDynamoClient } from '../../adapters/dynamodb/client.ts';
import { DynamoIdempotencyStore } from '../../adapters/dynamodb/idempotency-store.ts';
import { DynamoMerchantKeyStore } from '../../adapters/dynamodb/merchant-key-store.ts';
import { DynamoPaymentRepository } from '../../adapters/dynamodb/payment-repository.ts';
import { DynamoRefundRepository } from '../../adapters/dynamodb/refund-repository.ts';
import { DynamoSchoolStore } from '../../adapters/dynamodb/school-store.ts';
import { EnvVar, awsCallBudget, requireEnv } from '../../config/env.ts';
import type { SchoolStore } from '../../domain/carts/store.ts';
import type { IdempotencyStore } from '../../domain/idempotency.ts';
import type { MerchantKeyStore } from '../../domain/merchant.ts';
import type { PaymentRepository } from '../../domain/ports.ts';
import type { RefundRepository } from '../../domain/refund.ts';
import { once } from './once.ts';

/** DynamoDB only: what the authorizer and the read routes need, and nothing that would grow their bundles. */
const documentClient = once(() => createDocumentClient(createDynamoClient(awsCallBudget())));

export const paymentRepository = once(
  (): PaymentRepository => new DynamoPaymentRepository(documentClient(), requireEnv(EnvVar.TableName)),
);

export const merchantKeyStore = once(
  (): MerchantKeyStore => new DynamoMerchantKeyStore(documentClient(), requireEnv(EnvVar.TableName)),
);

export const idempotencyStore = once(
  (): IdempotencyStore => new DynamoIdempotencyStore(documentClient(), requireEnv(EnvVar.TableName)),
);

export const refundRepository = once(
  (): RefundRepository => new DynamoRefundRepository(documentClient(), requireEnv(EnvVar.TableName)),
);

export const schoolStore = once((): SchoolStore => new DynamoSchoolStore(documentClient(), requireEnv(EnvVar.TableName)));
