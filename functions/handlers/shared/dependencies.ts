import { stripeProviderFromEnv } from '../../adapters/stripe/client.ts';
import { createDocumentClient } from '../../adapters/dynamodb/client.ts';
import { DynamoMerchantKeyStore } from '../../adapters/dynamodb/merchant-key-store.ts';
import { DynamoPaymentRepository } from '../../adapters/dynamodb/payment-repository.ts';
import { StepFunctionsChargeWorkflow, createSfnClient } from '../../adapters/sfn/charge-workflow.ts';
import { EnvVar, reconcileAfterSeconds, requireEnv } from '../../config/env.ts';
import type { CreatePaymentDeps } from '../../domain/create-payment.ts';
import type { MerchantKeyStore } from '../../domain/merchant.ts';
import type { PaymentRepository } from '../../domain/ports.ts';
import type { ReconcileDeps } from '../../domain/reconcile.ts';
import type { SagaDeps } from '../../domain/saga.ts';

/**
 * Clients and adapters are built once per function instance, on first use, so a handler
 * that never needs the provider never reads its secret, and tests can import handlers
 * without any environment.
 */
function once<T>(build: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: build() }).v;
}

const documentClient = once(() => createDocumentClient());
const tableName = () => requireEnv(EnvVar.TableName);

export const paymentRepository = once(
  (): PaymentRepository => new DynamoPaymentRepository(documentClient(), tableName()),
);

export const merchantKeyStore = once(
  (): MerchantKeyStore => new DynamoMerchantKeyStore(documentClient(), tableName()),
);

const chargeWorkflow = once(
  () => new StepFunctionsChargeWorkflow(createSfnClient(), requireEnv(EnvVar.StateMachineArn)),
);

const clock = () => new Date();

export const sagaDeps = once(
  async (): Promise<SagaDeps> => ({
    payments: paymentRepository(),
    provider: await stripeProviderFromEnv(),
    clock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);

export const createPaymentDeps = once(
  (): CreatePaymentDeps => ({
    payments: paymentRepository(),
    workflow: chargeWorkflow(),
    clock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
  }),
);

/** Resumes after this many restarts are left to people (and alarmed on). */
const MAX_RESUMES = 5;

export const reconcileDeps = once(
  (): ReconcileDeps => ({
    payments: paymentRepository(),
    workflow: chargeWorkflow(),
    clock,
    reconcileAfterSeconds: reconcileAfterSeconds(),
    maxResumes: MAX_RESUMES,
  }),
);
