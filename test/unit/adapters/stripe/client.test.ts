import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStripeClient } from '../../../../functions/adapters/stripe/client.ts';
import { EnvVar } from '../../../../functions/config/env.ts';
import { startFakeProvider, type FakeProvider } from '../../../../local/fake-provider/server.ts';

describe('createStripeClient', () => {
  it('points the SDK at the host, port and protocol of an API base', () => {
    // Act
    const stripe = createStripeClient({ apiKey: 'sk_test_client', apiBase: 'http://127.0.0.1:12111' });

    // Assess
    expect(stripe.getApiField('host')).toBe('127.0.0.1');
    expect(stripe.getApiField('port')).toBe(12111);
    expect(stripe.getApiField('protocol')).toBe('http');
  });

  it('pins the API version, disables retries and telemetry, and bounds each request', () => {
    // Act
    const stripe = createStripeClient({ apiKey: 'sk_test_client' });

    // Assess
    expect(stripe.getApiField('host')).toBe('api.stripe.com');
    expect(stripe.getApiField('version')).toBe(Stripe.API_VERSION);
    expect(stripe.getMaxNetworkRetries()).toBe(0);
    expect(stripe.getTelemetryEnabled()).toBe(false);
    expect(stripe.getApiField('timeout')).toBe(8000);
  });

  it('refuses an API base that is not an http(s) URL', () => {
    // Act & Assess
    expect(() => createStripeClient({ apiKey: 'sk_test_client', apiBase: 'ftp://example.com' })).toThrow(/STRIPE_API_BASE/);
  });
});

describe('stripeProviderFromEnv', () => {
  const secrets = mockClient(SecretsManagerClient);
  let fake: FakeProvider;

  beforeAll(async () => {
    fake = await startFakeProvider({});
  });
  afterAll(() => fake.close());

  beforeEach(() => {
    secrets.reset();
    // The provider is memoized per module instance: each test gets a fresh one.
    vi.resetModules();
    vi.stubEnv(EnvVar.StripeApiBase, fake.url);
  });
  afterEach(() => vi.unstubAllEnvs());

  async function freshStripeProviderFromEnv() {
    return (await import('../../../../functions/adapters/stripe/client.ts')).stripeProviderFromEnv;
  }

  it('builds the provider once from STRIPE_API_KEY and talks to STRIPE_API_BASE', async () => {
    // Prepare
    vi.stubEnv(EnvVar.StripeApiKey, 'sk_test_from_env');
    const stripeProviderFromEnv = await freshStripeProviderFromEnv();

    // Act
    const first = await stripeProviderFromEnv();
    const second = await stripeProviderFromEnv();
    const found = await first.findChargesByPaymentNo('P-none');

    // Assess
    expect(second).toBe(first);
    expect(found).toEqual([]);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('reads the key from the secret named by STRIPE_SECRET_ARN once per process', async () => {
    // Prepare
    vi.stubEnv(EnvVar.StripeApiKey, '');
    vi.stubEnv(EnvVar.StripeSecretArn, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:stripe');
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ apiKey: 'sk_test_from_secret' }) });
    const stripeProviderFromEnv = await freshStripeProviderFromEnv();

    // Act
    const provider = await stripeProviderFromEnv();
    await stripeProviderFromEnv();
    const found = await provider.findChargesByPaymentNo('P-none');

    // Assess
    expect(found).toEqual([]);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('tries the secret again on the next call after a failed read', async () => {
    // Prepare
    vi.stubEnv(EnvVar.StripeApiKey, '');
    vi.stubEnv(EnvVar.StripeSecretArn, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:stripe');
    secrets.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: 'sk_test_plain' });
    const stripeProviderFromEnv = await freshStripeProviderFromEnv();

    // Act
    const failed = await stripeProviderFromEnv().catch((e: unknown) => e);
    const provider = await stripeProviderFromEnv();

    // Assess
    expect(failed).toBeInstanceOf(Error);
    expect(provider).toBeDefined();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});
