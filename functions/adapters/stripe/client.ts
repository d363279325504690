import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import Stripe from 'stripe';
import { EnvVar, optionalEnv } from '../../config/env.ts';
import { auditStateChange } from '../../crash/audit.ts';
import { StripePaymentProvider } from './stripe-provider.ts';

export interface StripeClientOptions {
  readonly apiKey: string;
  /** e.g. `http://127.0.0.1:12111` for the fake provider; Stripe's own API when unset. */
  readonly apiBase?: string;
  /** Per request; stays well inside the Lambda timeout so the step fails, not the function. */
  readonly timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 8000;

/**
 * The Stripe SDK configured for Lambda: the API version pinned to the one this SDK's types
 * describe, and no retries of its own, because Step Functions owns retries (with backoff and
 * a budget the SDK does not know about). The SDK still retries once a connection closed
 * under it; every money-moving call carries an idempotency key, so that retry is replayed.
 */
export function createStripeClient({ apiKey, apiBase, timeoutMs = DEFAULT_TIMEOUT_MS }: StripeClientOptions): Stripe {
  return new Stripe(apiKey, {
    apiVersion: Stripe.API_VERSION,
    maxNetworkRetries: 0,
    timeout: timeoutMs,
    telemetry: false,
    httpClient: audited(Stripe.createNodeHttpClient()),
    ...(apiBase === undefined ? {} : hostOptions(apiBase)),
  });
}

/**
 * The SDK's own HTTP client, with every request that is not a read (a POST: it creates,
 * confirms, captures, cancels or refunds) checked by the crash audit on its way out. Off
 * unless `CRASH_AUDIT` is set.
 */
function audited(client: Stripe.HttpClient): Stripe.HttpClient {
  return Object.assign(Object.create(client) as Stripe.HttpClient, {
    async makeRequest(...args: Parameters<Stripe.HttpClient['makeRequest']>) {
      const [, , path, method] = args;
      if (method !== 'GET') auditStateChange('provider', `Stripe ${method} ${path.split('?')[0]}`);
      return client.makeRequest(...args);
    },
  });
}

function hostOptions(apiBase: string): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
  const url = new URL(apiBase);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${EnvVar.StripeApiBase} must be an http(s) URL, got ${apiBase}`);
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port),
    protocol,
  };
}

let provider: Promise<StripePaymentProvider> | undefined;

/**
 * The provider for this process, built on first use from STRIPE_API_KEY, or else from the
 * Secrets Manager secret named by STRIPE_SECRET_ARN (its value is the key itself, or JSON
 * with an `apiKey` field). A failed build is forgotten, so the next invocation tries again
 * instead of inheriting a poisoned container.
 */
export function stripeProviderFromEnv(): Promise<StripePaymentProvider> {
  provider ??= buildProvider().catch((error: unknown) => {
    provider = undefined;
    throw error;
  });
  return provider;
}

async function buildProvider(): Promise<StripePaymentProvider> {
  const apiKey = optionalEnv(EnvVar.StripeApiKey) ?? (await apiKeyFromSecret());
  const apiBase = optionalEnv(EnvVar.StripeApiBase);
  const timeoutMs = Number(optionalEnv(EnvVar.StripeTimeoutMs) ?? DEFAULT_TIMEOUT_MS);
  return new StripePaymentProvider(
    createStripeClient({ apiKey, timeoutMs, ...(apiBase === undefined ? {} : { apiBase }) }),
  );
}

async function apiKeyFromSecret(): Promise<string> {
  const secretId = optionalEnv(EnvVar.StripeSecretArn);
  if (secretId === undefined) {
    throw new Error(`neither ${EnvVar.StripeApiKey} nor ${EnvVar.StripeSecretArn} is set`);
  }
  const { SecretString } = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }));
  const secret = SecretString?.trim();
  if (!secret) throw new Error(`secret ${secretId} has no string value`);
  if (!secret.startsWith('{')) return secret;
  const { apiKey } = JSON.parse(secret) as { apiKey?: unknown };
  if (typeof apiKey !== 'string' || apiKey === '') throw new Error(`secret ${secretId} has no apiKey field`);
  return apiKey;
}
