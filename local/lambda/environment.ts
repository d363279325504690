/**
 * The environment each function instance runs with, and nothing else: the template's
 * variables, the local settings a caller asks for, how the function reaches AWS (its role's
 * credentials and the endpoints of the IAM proxy in front of the local services), and what
 * Lambda sets itself. The one place an instance's environment is made.
 */
import { EnvVar } from '../../functions/config/env.ts';
import { localRegion } from '../assembly/local-account.ts';
import type { LocalFunction } from '../assembly/resources.ts';

/**
 * `fn`'s environment: the template's variables, then `settings` (what a caller sets on every
 * function: a shorter lease, a log level), then where the provider is for the functions the
 * template gives its secret (they read its key from the secret, as deployed), then what Lambda
 * sets, which no template can override: `aws`, the role's credentials
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and the services'
 * endpoints (`AWS_ENDPOINT_URL_<SERVICE>`) among it.
 */
export function lambdaEnvironment(
  fn: LocalFunction,
  stripeApiBase: string,
  aws: Readonly<Record<string, string>>,
  settings: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const callsProvider = fn.environment[EnvVar.StripeSecretArn] !== undefined;
  return {
    ...fn.environment,
    ...settings,
    ...(callsProvider && { [EnvVar.StripeApiBase]: stripeApiBase }),
    AWS_REGION: localRegion,
    AWS_DEFAULT_REGION: localRegion,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'local',
    ...aws,
    LAMBDA_TASK_ROOT: fn.codeDir,
    _HANDLER: fn.handler,
    LANG: 'en_US.UTF-8',
  };
}
