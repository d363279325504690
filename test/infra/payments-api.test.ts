import { beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../functions/catalog.ts';
import { ErrorCode } from '../../functions/domain/errors.ts';
import {
  API_STAGE_NAME,
  AUTHORIZER_RETRY_AFTER_SECONDS,
  AUTHORIZER_UNAVAILABLE_BODY,
  UNAUTHORIZED_BODY,
} from '../../lib/payments-api.ts';
import { logicalIdOf, resolveIntrinsics, synthesize, type Synthesized } from './synth.ts';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});

const resourcesOf = (type: string) => synth.template.findResources(type);

/** The JSON a gateway response template produces, with API Gateway's variables filled in. */
function renderTemplate(template: string): unknown {
  return JSON.parse(template.replaceAll('$context.error.messageString', JSON.stringify('a message')));
}

function gatewayResponse(type: string): Record<string, any> {
  const found = Object.values(resourcesOf('AWS::ApiGateway::GatewayResponse')).find(
    (r) => r.Properties.ResponseType === type,
  );
  if (found === undefined) throw new Error(`no ${type} gateway response`);
  return found.Properties;
}

describe('payments API', () => {
  it('has one method per catalog route, each behind the token authorizer but the public ones', () => {
    // Prepare
    const authorizers = resourcesOf('AWS::ApiGateway::Authorizer');
    const [authorizerId] = Object.keys(authorizers);
    const publicMethods = apiRoutes.filter((route) => route.public).map((route) => route.method);

    // Act
    const methods = Object.values(resourcesOf('AWS::ApiGateway::Method'));
    const open = methods.filter((method) => method.Properties.AuthorizationType === 'NONE');

    // Assess
    expect(Object.keys(authorizers)).toHaveLength(1);
    expect(methods).toHaveLength(apiRoutes.length);
    expect(open.map((method) => method.Properties.HttpMethod)).toEqual(publicMethods);
    expect(open.every((method) => method.Properties.AuthorizerId === undefined)).toBe(true);
    for (const method of methods.filter((candidate) => !open.includes(candidate))) {
      expect(method.Properties).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
        Integration: { Type: 'AWS_PROXY' },
      });
    }
  });

  it('serves only the contract without an API key', () => {
    expect(apiRoutes.filter((route) => route.public).map((route) => `${route.method} ${route.path}`)).toEqual(['GET /v1/openapi.json']);
  });

  it('routes each catalog path and method to its function', () => {
    // Prepare
    const resources = resourcesOf('AWS::ApiGateway::Resource');
    const pathOf = (ref: unknown): string => {
      const id = (ref as { Ref?: string }).Ref;
      const resource = id === undefined ? undefined : resources[id];
      if (resource === undefined) return ''; // the root
      return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
    };

    // Act
    const routed = Object.values(resourcesOf('AWS::ApiGateway::Method')).map((m) => ({
      method: m.Properties.HttpMethod,
      path: pathOf(m.Properties.ResourceId),
      uri: JSON.stringify(m.Properties.Integration.Uri),
    }));

    // Assess
    for (const { route, fn } of synth.stack.functions.routes) {
      const match = routed.find((r) => r.method === route.method && r.path === route.path);
      expect(match, `${route.method} ${route.path}`).toBeDefined();
      expect(match?.uri).toContain(logicalIdOf(fn));
    }
  });

  it('authorizes with the Authorization header and caches the answer for five minutes', () => {
    // Act
    const [authorizer] = Object.values(resourcesOf('AWS::ApiGateway::Authorizer'));

    // Assess
    expect(authorizer?.Properties).toMatchObject({
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 300,
    });
    expect(JSON.stringify(authorizer?.Properties.AuthorizerUri)).toContain(
      logicalIdOf(synth.stack.functions.authorizer),
    );
  });

  it('answers 401 with a JSON body in the error format', () => {
    // Act
    const response = gatewayResponse('UNAUTHORIZED');
    const body = response.ResponseTemplates['application/json'] as string;

    // Assess
    expect(response.StatusCode).toBe('401');
    expect(body).toBe(UNAUTHORIZED_BODY);
    expect(JSON.parse(body)).toEqual({
      error: { code: ErrorCode.Unauthorized, message: expect.any(String) },
    });
    expect(response.ResponseParameters).toEqual({
      'gatewayresponse.header.Content-Type': "'application/json'",
    });
  });

  it('answers an authorizer that cannot check the key with a 503 to retry, failing closed like the routes', () => {
    for (const type of ['AUTHORIZER_CONFIGURATION_ERROR', 'AUTHORIZER_FAILURE']) {
      // Act
      const response = gatewayResponse(type);

      // Assess
      expect(response.StatusCode, type).toBe('503');
      expect(response.ResponseTemplates['application/json'], type).toBe(AUTHORIZER_UNAVAILABLE_BODY);
      expect(response.ResponseParameters, type).toEqual({
        'gatewayresponse.header.Content-Type': "'application/json'",
        'gatewayresponse.header.Retry-After': `'${AUTHORIZER_RETRY_AFTER_SECONDS}'`,
      });
    }
  });

  it('answers 403 and every other gateway 4xx and 5xx with JSON bodies in the error format', () => {
    for (const type of ['ACCESS_DENIED', 'DEFAULT_4XX', 'DEFAULT_5XX']) {
      // Act
      const response = gatewayResponse(type);
      const rendered = renderTemplate(response.ResponseTemplates['application/json']);

      // Assess
      expect(rendered, type).toEqual({
        error: { code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) },
      });
    }
    expect(gatewayResponse('ACCESS_DENIED').StatusCode).toBe('403');
  });

  it('throttles the stage at 100 requests per second with bursts of 200', () => {
    // Act
    const [stage] = Object.values(resourcesOf('AWS::ApiGateway::Stage'));

    // Assess
    expect(stage?.Properties.StageName).toBe(API_STAGE_NAME);
    expect(stage?.Properties.MethodSettings).toEqual([
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: 100,
        ThrottlingBurstLimit: 200,
      }),
    ]);
  });

  it("logs each request's caller, route and status, and API Gateway's own errors, without headers or bodies, for a month", () => {
    // Prepare
    const logGroups = resourcesOf('AWS::Logs::LogGroup');
    const stageId = logicalIdOf(synth.stack.api.api.deploymentStage);

    // Act
    const stage = synth.template.toJSON().Resources[stageId];
    const accessLogs = logGroups[String(resolveIntrinsics(stage.Properties.AccessLogSetting.DestinationArn)).replace(/^.*:log-group:ref:/, '')];
    const executionLogs = Object.entries(logGroups).find(([, group]) =>
      String(resolveIntrinsics(group.Properties.LogGroupName)).startsWith('API-Gateway-Execution-Logs_'),
    );

    // Assess
    expect(JSON.parse(stage.Properties.AccessLogSetting.Format)).toMatchObject({
      requestId: '$context.requestId',
      resourcePath: '$context.resourcePath',
      status: '$context.status',
    });
    expect(stage.Properties.AccessLogSetting.Format).not.toMatch(/requestOverride|responseOverride|\$input|Authorization/);
    expect(stage.Properties.MethodSettings).toEqual([
      expect.objectContaining({ LoggingLevel: 'ERROR', DataTraceEnabled: false }),
    ]);
    expect(accessLogs?.Properties.RetentionInDays).toBe(30);
    expect(resolveIntrinsics(executionLogs?.[1].Properties.LogGroupName)).toBe(
      `API-Gateway-Execution-Logs_ref:${logicalIdOf(synth.stack.api.api)}/${API_STAGE_NAME}`,
    );
    expect(executionLogs?.[1].Properties.RetentionInDays).toBe(30);
    // The stage cannot log before its log group exists (API Gateway would make one kept forever).
    expect(stage.DependsOn).toContain(executionLogs?.[0]);
    // API Gateway logs through the account's role, which the stack sets and keeps.
    expect(Object.values(resourcesOf('AWS::ApiGateway::Account'))).toHaveLength(1);
  });

  it('outputs the stage URL without a trailing slash', () => {
    // Prepare
    const stageId = logicalIdOf(synth.stack.api.api.deploymentStage);

    // Act
    const output = synth.template.toJSON().Outputs.ApiUrl;
    const url = resolveIntrinsics(output.Value) as string;

    // Assess: the stage's Ref is its name, `api`, and it makes the output wait for the stage.
    expect(url).toBe(
      `https://ref:${logicalIdOf(synth.stack.api.api)}.execute-api.eu-west-1.amazonaws.com/ref:${stageId}`,
    );
    expect(synth.template.toJSON().Resources[stageId].Properties.StageName).toBe(API_STAGE_NAME);
    expect(url.endsWith('/')).toBe(false);
  });
});
