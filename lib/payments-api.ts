import { Duration, Fn, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ErrorCode } from '../functions/domain/errors.ts';
import type { RouteFunction } from './lambda-functions.ts';
import { acknowledge } from './nag.ts';

/** The stage name. The routes carry their own version prefix (`/v1/...`). */
export const API_STAGE_NAME = 'api';

/** The error codes API Gateway itself answers with, besides {@link ErrorCode.Unauthorized}. */
export const GatewayErrorCode = {
  Forbidden: 'forbidden',
  RequestRejected: 'request_rejected',
  GatewayError: 'gateway_error',
  AuthorizerUnavailable: 'authorizer_unavailable',
} as const;

const errorBody = (code: string, message: string): string =>
  JSON.stringify({ error: { code, message } });

/**
 * The body API Gateway sends with a 401 (no or unknown API key), in the product's error
 * format. Exported so the local API emulator serves the very same bytes.
 */
export const UNAUTHORIZED_BODY = errorBody(
  ErrorCode.Unauthorized,
  'Missing or invalid API key. Send it as "Authorization: Bearer <key>".',
);

/** The body of a 403: the authorizer denied this key access to the resource. */
export const ACCESS_DENIED_BODY = errorBody(
  GatewayErrorCode.Forbidden,
  'This API key may not access this resource.',
);

/**
 * The body of a 503 when the authorizer could not check the key (its table unreachable, or
 * slow past its timeout): fail closed, and tell the client to retry, as every route does when
 * the database is out of reach, rather than API Gateway's bare 500.
 */
export const AUTHORIZER_UNAVAILABLE_BODY = errorBody(
  GatewayErrorCode.AuthorizerUnavailable,
  'The API key could not be checked just now; retry after a moment.',
);

/** Seconds a client is asked to wait before retrying after the authorizer failed. */
export const AUTHORIZER_RETRY_AFTER_SECONDS = 1;

// `$context.error.messageString` is already a quoted, escaped JSON string.
const DEFAULT_4XX_TEMPLATE = `{"error":{"code":"${GatewayErrorCode.RequestRejected}","message":$context.error.messageString}}`;
const DEFAULT_5XX_TEMPLATE = `{"error":{"code":"${GatewayErrorCode.GatewayError}","message":$context.error.messageString}}`;

export interface PaymentsApiProps {
  readonly routes: readonly RouteFunction[];
  /** The TOKEN authorizer's function: maps a merchant API key to its merchant. */
  readonly authorizer: lambda.IFunction;
}

/** The REST API: one Lambda proxy integration per catalog route, all behind the key authorizer. */
export class PaymentsApi extends Construct {
  readonly api: apigateway.RestApi;
  /**
   * The stage's base URL WITHOUT a trailing slash (`https://<id>.execute-api.<region>.<suffix>/api`):
   * append a route path as it is written in the catalog, e.g. `${url}/v1/payments`.
   * (`RestApi.url` ends with `/`, and `url + '/v1/...'` would send `//v1/...`.)
   */
  readonly url: string;

  constructor(scope: Construct, id: string, props: PaymentsApiProps) {
    super(scope, id);

    const authorizer = new apigateway.TokenAuthorizer(this, 'ApiKeyAuthorizer', {
      handler: props.authorizer,
      identitySource: apigateway.IdentitySource.header('Authorization'),
      resultsCacheTtl: Duration.minutes(5),
    });

    this.api = new apigateway.RestApi(this, 'Api', {
      // API Gateway's metrics name the API by this (`ApiName`): two stacks' APIs of one name
      // would share the dashboard's lines.
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'Chargeonce payments API',
      // API Gateway writes the logs below through the account's CloudWatch role (one per
      // account and region): set here so a fresh account deploys, and kept when the stack is
      // deleted, since the account's other APIs log through it too.
      cloudWatchRole: true,
      deployOptions: {
        stageName: API_STAGE_NAME,
        throttlingRateLimit: 100,
        throttlingBurstLimit: 200,
        tracingEnabled: true,
        // Who called what and the answer's status, never a header or a body.
        accessLogDestination: new apigateway.LogGroupLogDestination(
          new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH }),
        ),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        // What API Gateway itself failed at (an authorizer that threw, an integration that timed out).
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Data tracing would log whole requests and answers: API keys and card details.
        dataTraceEnabled: false,
        // Detailed metrics: requests, errors and latency per method and resource, which the
        // dashboard plots per route (without them API Gateway reports the whole stage only:
        // https://docs.aws.amazon.com/apigateway/latest/developerguide/metrics_dimensions_view_in_cloud_watch.html).
        // CloudWatch bills them as custom metrics, about seven per method (docs/capacity.md).
        metricsEnabled: true,
      },
    });
    // API Gateway would create the execution log group itself, kept forever: this one expires
    // its events, and exists before the stage can log.
    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: Fn.join('', ['API-Gateway-Execution-Logs_', this.api.restApiId, '/', API_STAGE_NAME]),
      retention: logs.RetentionDays.ONE_MONTH,
    });
    this.api.deploymentStage.node.addDependency(executionLogs);
    acknowledge(
      this.api,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      "The account's API Gateway logging role takes the managed policy AWS made for it: it writes every API's logs of the account.",
    );
    acknowledge(
      this.api,
      'COG4',
      "Merchants call from their servers with a secret API key, as they call Stripe; the TOKEN authorizer maps the key to its merchant. There are no end users to sign in to a Cognito user pool.",
    );
    acknowledge(
      this.api,
      'APIG2',
      'Each handler parses its body with its zod schema and answers 400 validation_failed naming the field, writing nothing ' +
        "(an id in the path that names nothing is a 404); API Gateway's validator would refuse the same requests without the field, " +
        'from a second copy of each schema.',
    );
    acknowledge(
      this.api,
      'APIG3',
      'No WAF web ACL: every route needs a merchant API key and the stage is throttled (100 requests/s, bursts of 200); ' +
        'an account that wants one associates its own ACL with the stage.',
    );

    for (const { route, fn } of props.routes) {
      // Each method names its authorizer rather than taking a default: CDK refuses a method
      // without authorization under a default authorizer, and the contract needs no key.
      const method = this.api.root.resourceForPath(route.path).addMethod(
        route.method,
        new apigateway.LambdaIntegration(fn, {
          proxy: true,
          // No invoke permission for the console's test-invoke: only the deployed stage calls.
          allowTestInvoke: false,
        }),
        route.public ? { authorizationType: apigateway.AuthorizationType.NONE } : { authorizer, authorizationType: apigateway.AuthorizationType.CUSTOM },
      );
      if (route.public) {
        acknowledge(method, 'APIG4', `${route.method} ${route.path} is public: it serves a document from its function's bundle, nothing of any merchant's.`);
      }
    }

    const jsonHeaders = { 'Content-Type': "'application/json'" };
    this.api.addGatewayResponse('Unauthorized', {
      type: apigateway.ResponseType.UNAUTHORIZED,
      statusCode: '401',
      responseHeaders: jsonHeaders,
      templates: { 'application/json': UNAUTHORIZED_BODY },
    });
    this.api.addGatewayResponse('AccessDenied', {
      type: apigateway.ResponseType.ACCESS_DENIED,
      statusCode: '403',
      responseHeaders: jsonHeaders,
      templates: { 'application/json': ACCESS_DENIED_BODY },
    });
    // A throwing authorizer is AUTHORIZER_CONFIGURATION_ERROR to API Gateway; one it cannot reach, AUTHORIZER_FAILURE.
    for (const [id, type] of [
      ['AuthorizerConfigurationError', apigateway.ResponseType.AUTHORIZER_CONFIGURATION_ERROR],
      ['AuthorizerFailure', apigateway.ResponseType.AUTHORIZER_FAILURE],
    ] as const) {
      this.api.addGatewayResponse(id, {
        type,
        statusCode: '503',
        responseHeaders: { ...jsonHeaders, 'Retry-After': `'${AUTHORIZER_RETRY_AFTER_SECONDS}'` },
        templates: { 'application/json': AUTHORIZER_UNAVAILABLE_BODY },
      });
    }
    this.api.addGatewayResponse('Default4xx', {
      type: apigateway.ResponseType.DEFAULT_4XX,
      responseHeaders: jsonHeaders,
      templates: { 'application/json': DEFAULT_4XX_TEMPLATE },
    });
    this.api.addGatewayResponse('Default5xx', {
      type: apigateway.ResponseType.DEFAULT_5XX,
      responseHeaders: jsonHeaders,
      templates: { 'application/json': DEFAULT_5XX_TEMPLATE },
    });

    const stack = Stack.of(this);
    this.url = Fn.join('', [
      'https://',
      this.api.restApiId,
      '.execute-api.',
      stack.region,
      '.',
      stack.urlSuffix,
      '/',
      this.api.deploymentStage.stageName,
    ]);
  }
}
