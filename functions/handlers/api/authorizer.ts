import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { asInvocationOf } from '../../crash/invocation.ts';
import { authenticateMerchant } from '../../domain/merchant.ts';
import { merchantKeyStore } from '../shared/persistence.ts';
import { logger } from '../shared/observability.ts';

/**
 * API Gateway TOKEN authorizer: maps the bearer key to its merchant. Throwing exactly
 * `Unauthorized` is how API Gateway is told to answer 401.
 */
export function handler(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  return asInvocationOf('authorizer', () => authorize(event));
}

async function authorize(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const merchant = await authenticateMerchant(merchantKeyStore(), event.authorizationToken, new Date());
  if (!merchant) {
    logger.info('rejected an API key');
    throw new Error('Unauthorized');
  }
  return {
    principalId: merchant.merchantId,
    policyDocument: {
      Version: '2012-10-17',
      // The decision is cached per key for every route, so allow the whole API, not this method.
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: wholeApiArn(event.methodArn) }],
    },
    context: { merchant_id: merchant.merchantId },
  };
}

/** `arn:aws:execute-api:region:account:apiId/stage/METHOD/path` -> `...:apiId/stage/*`. */
function wholeApiArn(methodArn: string): string {
  const [api, stage] = methodArn.split('/');
  return `${api}/${stage}/*`;
}
