import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { providerSteps, sagaSteps, type SagaStepName } from '../../../functions/catalog.ts';
import { EnvVar } from '../../../functions/config/env.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const paymentNo = 'pay_0123456789abcdef01234567';

beforeAll(() => {
  // Exactly what the CDK app gives a step outside providerSteps: the table, no Stripe secret.
  process.env[EnvVar.TableName] = 'payments';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  for (const name of [EnvVar.StripeApiKey, EnvVar.StripeSecretArn, EnvVar.StripeApiBase]) delete process.env[name];
  dynamo.on(GetCommand).resolves({
    Item: {
      pk: `PAYMENT#${paymentNo}`,
      sk: 'PAYMENT',
      payment_no: paymentNo,
      merchant_id: 'm_1',
      order_no: 'o-1',
      amount: 100,
      currency: 'USD',
      payment_method: 'pm_card_visa',
      status: 'succeeded',
      version: 3,
      charge_id: 'pi_1',
      amount_captured: 100,
      amount_refunded: 0,
      created_at: '2026-11-23T10:00:00.000Z',
      updated_at: '2026-11-23T10:00:01.000Z',
      resume_count: 0,
    },
  });
});

const storeOnlySteps = (Object.keys(sagaSteps) as SagaStepName[]).filter((step) => !providerSteps.includes(step));

describe('saga steps that do not call the provider', () => {
  it.each(storeOnlySteps)('%s runs with only the table, never asking for the Stripe secret', async (step) => {
    // Prepare
    const { handler } = (await import(/* @vite-ignore */ `../../../functions/${sagaSteps[step]}`)) as {
      handler: (state: unknown) => Promise<unknown>;
    };
    const state = { payment_no: paymentNo, charge_id: 'pi_1', amount_captured: 100, error: { Error: 'CardDeclined' } };

    // Act
    const result = await handler(state);

    // Assess: the payment is already succeeded, so each step is a no-op that hands the state on.
    expect(result).toEqual(state);
  });
});

describe('outcome metrics', () => {
  it.each([
    ['MarkSucceeded', 'PaymentSucceeded'],
    ['MarkFailed', 'PaymentFailed'],
  ] as const)('%s counts %s, and no other step counts an outcome', async (step, outcome) => {
    const added = vi.spyOn(Metrics.prototype, 'addMetric');
    const run = async (name: SagaStepName) => {
      const { handler } = (await import(/* @vite-ignore */ `../../../functions/${sagaSteps[name]}`)) as { handler: (state: unknown) => Promise<unknown> };
      await handler({ payment_no: paymentNo, charge_id: 'pi_1', amount_captured: 100, error: { Error: 'CardDeclined' } });
    };

    await run(step);
    const others = storeOnlySteps.filter((name) => name !== 'MarkSucceeded' && name !== 'MarkFailed');
    for (const other of others) await run(other);

    const outcomes = added.mock.calls.map(([name]) => name).filter((name) => name.startsWith('Payment'));
    expect(outcomes).toEqual([outcome]);
    added.mockRestore();
  });
});
