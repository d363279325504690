/**
 * The environment each function instance runs with, and nothing else: the template's
 * variables, the local settings a caller asks for, where the local services are, and what
 * Lambda sets itself, its role's credentials among them. The one place an instance's
 * environment is made: an IAM gate in front of the services changes the endpoints (and reads
 * the credentials back to a role with {@link RoleCredentials.roleOf}) here.
 */
import { createHash } from 'node:crypto';
import { EnvVar } from '../../functions/config/env.ts';
import { localRegion } from '../assembly/local-account.ts';
import type { LocalFunction } from '../assembly/resources.ts';

/** Where the local services answer, as each function reaches them. */
export interface LocalServices {
  /** The AWS SDK's endpoint variables (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SFN`, ...) and their URLs. */
  readonly awsEndpoints: Readonly<Record<string, string>>;
  /** The provider's API (the fake provider), where the functions that call Stripe find it. */
  readonly stripeApiBase: string;
  /**
   * The Stripe key of the functions the template gives the secret (`STRIPE_SECRET_ARN`): the
   * stack serves no Secrets Manager yet, so they get the key itself, which the adapter prefers.
   */
  readonly stripeApiKey: string;
}

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/**
 * Credentials per role, as Lambda hands a function its execution role's session: each role its
 * own access key, so whatever receives a call can tell which role signed it.
 */
export class RoleCredentials {
  private readonly byAccessKey = new Map<string, string>();

  /** The credentials of the role with this logical id (the same on every call). */
  of(roleLogicalId: string): AwsCredentials {
    const digest = (purpose: string) => createHash('sha256').update(`${purpose}:${roleLogicalId}`).digest('hex');
    const accessKeyId = `ASIA${digest('access-key').slice(0, 16).toUpperCase()}`;
    this.byAccessKey.set(accessKeyId, roleLogicalId);
    return { accessKeyId, secretAccessKey: digest('secret').slice(0, 40), sessionToken: Buffer.from(`local:${roleLogicalId}`).toString('base64') };
  }

  /** The logical id of the role whose credentials carry `accessKeyId`, if they were handed out. */
  roleOf(accessKeyId: string): string | undefined {
    return this.byAccessKey.get(accessKeyId);
  }
}

/**
 * `fn`'s environment: the template's variables, then `settings` (what a caller sets on every
 * function: a shorter lease, a log level), then the local services, then what Lambda sets,
 * which no template can override.
 */
export function lambdaEnvironment(
  fn: LocalFunction,
  services: LocalServices,
  credentials: AwsCredentials,
  settings: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const callsProvider = fn.environment[EnvVar.StripeSecretArn] !== undefined;
  return {
    ...fn.environment,
    ...settings,
    ...services.awsEndpoints,
    ...(callsProvider && { [EnvVar.StripeApiBase]: services.stripeApiBase, [EnvVar.StripeApiKey]: services.stripeApiKey }),
    AWS_REGION: localRegion,
    AWS_DEFAULT_REGION: localRegion,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'local',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    LAMBDA_TASK_ROOT: fn.codeDir,
    _HANDLER: fn.handler,
    LANG: 'en_US.UTF-8',
  };
}
