import { createServer } from 'node:net';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayTokenAuthorizerEvent,
  PolicyDocument,
} from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  evaluatePolicy,
  maxBodyBytes,
  startApiGatewayLocal,
  type ApiGatewayLocal,
  type StartApiGatewayLocalOptions,
  type TokenAuthorizer,
} from '../../../../local/services/api-gateway-local.ts';
import { gatewayResponsesOf } from '../../../../local/services/gateway-responses.ts';

const open: ApiGatewayLocal[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((api) => api.close()));
});

function allowPolicy(resource: string, context: APIGatewayAuthorizerResult['context'] = {}): APIGatewayAuthorizerResult {
  return {
    principalId: 'merchant-1',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resource }] },
    context,
  };
}

/** A template with one `AWS::ApiGateway::GatewayResponse` per type, as CDK writes them. */
function templateWith(bodies: Record<string, string>) {
  return {
    Resources: Object.fromEntries(
      Object.entries(bodies).map(([type, body]) => [
        `Response${type}`,
        { Type: 'AWS::ApiGateway::GatewayResponse', Properties: { ResponseType: type, ResponseTemplates: { 'application/json': body } } },
      ]),
    ),
  };
}

/** Echoes the proxy event back as JSON. */
const echo = async (event: APIGatewayProxyEvent) => ({ statusCode: 200, body: JSON.stringify(event) });

/** The API with `overrides`; with `authorizer`, every route behind it (identity source: the Authorization header). */
async function start({ authorizer, ...overrides }: Partial<StartApiGatewayLocalOptions> & { authorizer?: TokenAuthorizer['invoke'] } = {}): Promise<ApiGatewayLocal> {
  const routes = overrides.routes ?? [
    { method: 'POST', path: '/v1/payments', handler: echo },
    { method: 'GET', path: '/v1/payments/{payment_no}', handler: echo },
    { method: 'GET', path: '/v1/payments/latest', handler: echo },
  ];
  const api = await startApiGatewayLocal({
    port: 0,
    log: () => {},
    ...overrides,
    routes: authorizer === undefined ? routes : routes.map((route) => ({ ...route, authorizer: { id: 'authorizer', invoke: authorizer, identityHeader: 'Authorization', resultTtlSeconds: 300 } })),
  });
  open.push(api);
  return api;
}

describe('API Gateway local', () => {
  it('turns a request into a REST proxy event with resource, path parameters, query and body', async () => {
    // Prepare
    const api = await start();

    // Act
    const response = await fetch(`${api.url}/v1/payments/pay%20_1?expand=a&expand=b&x=1`, {
      headers: { 'X-Custom': 'yes' },
    });
    const event = (await response.json()) as APIGatewayProxyEvent;

    // Assess
    expect(response.status).toBe(200);
    expect(event).toMatchObject({
      httpMethod: 'GET',
      resource: '/v1/payments/{payment_no}',
      path: '/v1/payments/pay%20_1',
      pathParameters: { payment_no: 'pay _1' },
      queryStringParameters: { expand: 'b', x: '1' },
      multiValueQueryStringParameters: { expand: ['a', 'b'], x: ['1'] },
      body: null,
      isBase64Encoded: false,
      requestContext: { stage: 'local', resourcePath: '/v1/payments/{payment_no}', path: '/local/v1/payments/pay%20_1' },
    });
    expect(event.headers['X-Custom']).toBe('yes');
    expect(event.multiValueHeaders['X-Custom']).toEqual(['yes']);
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.requestContext.identity.sourceIp).toBe('127.0.0.1');
  });

  it('prefers a literal path segment over a path parameter, and passes the body as a string', async () => {
    // Prepare
    const api = await start();

    // Act
    const latest = (await (await fetch(`${api.url}/v1/payments/latest`)).json()) as APIGatewayProxyEvent;
    const created = (await (
      await fetch(`${api.url}/v1/payments`, { method: 'POST', body: '{"amount":1}', headers: { 'Content-Type': 'application/json' } })
    ).json()) as APIGatewayProxyEvent;

    // Assess
    expect(latest.resource).toBe('/v1/payments/latest');
    expect(latest.pathParameters).toBeNull();
    expect(created.body).toBe('{"amount":1}');
    expect(created.queryStringParameters).toBeNull();
  });

  it("invokes a resource's function as its method ARN also when the path has empty segments, which select no resource", async () => {
    // Prepare: a function that, like one behind a Lambda permission, runs only for its method's ARN
    const sourceArns: string[] = [];
    const api = await start({
      routes: [{ method: 'GET', path: '/v1/payouts', handler: async (event, sourceArn) => (sourceArns.push(sourceArn), echo(event)) }],
    });

    // Act
    const responses = await Promise.all(['/v1/payouts/', '//v1/payouts'].map((path) => fetch(`${api.url}${path}`)));

    // Assess
    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    expect(sourceArns).toEqual(Array(2).fill('arn:aws:execute-api:us-east-1:000000000000:local/local/GET/v1/payouts'));
  });

  it('answers 404 route_not_found for an unknown path and 405 method_not_allowed for a known one', async () => {
    // Prepare
    const api = await start();

    // Act
    const notFound = await fetch(`${api.url}/v2/nothing`);
    const notAllowed = await fetch(`${api.url}/v1/payments`, { method: 'DELETE' });

    // Assess
    expect(notFound.status).toBe(404);
    expect(((await notFound.json()) as { error: { code: string } }).error.code).toBe('route_not_found');
    expect(notAllowed.status).toBe(405);
    expect(((await notAllowed.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    expect(notAllowed.headers.get('allow')).toBe('POST');
  });

  it('answers 502 Internal server error when a handler throws', async () => {
    // Prepare
    const api = await start({
      routes: [{ method: 'GET', path: '/boom', handler: async () => Promise.reject(new Error('bug')) }],
    });

    // Act
    const response = await fetch(`${api.url}/boom`);

    // Assess
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
  });

  it('sends the status code, headers, multi-value headers and body the handler returns', async () => {
    // Prepare
    const api = await start({
      routes: [
        {
          method: 'POST',
          path: '/v1/payments',
          handler: async () => ({
            statusCode: 201,
            headers: { 'Content-Type': 'application/json', Location: '/v1/payments/p1' },
            multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
            body: '{"payment_no":"p1"}',
          }),
        },
      ],
    });

    // Act
    const response = await fetch(`${api.url}/v1/payments`, { method: 'POST', body: '{}' });

    // Assess
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/v1/payments/p1');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ payment_no: 'p1' });
  });

  it('answers 401 without calling the authorizer when the Authorization header is missing', async () => {
    // Prepare
    let calls = 0;
    const api = await start({
      authorizer: async () => {
        calls += 1;
        return allowPolicy('*');
      },
      gatewayResponses: { UNAUTHORIZED: { template: '{"error":{"code":"unauthorized","message":"Missing or invalid API key."}}', statusCode: 401 } },
    });

    // Act
    const response = await fetch(`${api.url}/v1/payments/p1`);

    // Assess
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 'unauthorized', message: 'Missing or invalid API key.' } });
    expect(calls).toBe(0);
  });

  it('answers 413 for a body over 10 MB, with the gateway response the template configures for it or for DEFAULT_4XX', async () => {
    // Prepare
    const configured = await start({
      gatewayResponses: gatewayResponsesOf(templateWith({ DEFAULT_4XX: '{"error":{"code":"request_rejected","message":$context.error.messageString}}' })),
    });
    const plain = await start();
    const huge = 'a'.repeat(maxBodyBytes + 1);

    // Act
    const answers = [await fetch(`${configured.url}/v1/payments`, { method: 'POST', body: huge }), await fetch(`${plain.url}/v1/payments`, { method: 'POST', body: huge })];

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([413, 413]);
    expect(await answers[0]!.json()).toEqual({ error: { code: 'request_rejected', message: 'Request Too Long' } });
    expect(await answers[1]!.json()).toEqual({ message: 'Request Too Long' });
  });

  it('answers a handler that throws with the DEFAULT_5XX gateway response when the template configures one', async () => {
    // Prepare
    const api = await start({
      routes: [{ method: 'GET', path: '/boom', handler: async () => Promise.reject(new Error('boom')) }],
      gatewayResponses: gatewayResponsesOf(templateWith({ DEFAULT_5XX: '{"error":{"code":"gateway_error","message":$context.error.messageString}}' })),
    });

    // Act
    const response = await fetch(`${api.url}/boom`);

    // Assess
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: { code: 'gateway_error', message: 'Internal server error' } });
  });

  it('answers an authorizer that fails with the status, headers and body its gateway response configures', async () => {
    // Prepare: the authorizer's table is out of reach, and the template answers that with a 503 to retry.
    const template = {
      Resources: {
        AuthorizerDown: {
          Type: 'AWS::ApiGateway::GatewayResponse',
          Properties: {
            ResponseType: 'AUTHORIZER_CONFIGURATION_ERROR',
            StatusCode: '503',
            ResponseParameters: { 'gatewayresponse.header.Retry-After': "'1'", 'gatewayresponse.header.Content-Type': "'application/json'" },
            ResponseTemplates: { 'application/json': '{"error":{"code":"authorizer_unavailable","message":"retry"}}' },
          },
        },
      },
    };
    const api = await start({
      authorizer: async () => Promise.reject(Object.assign(new Error('DynamoDB is unavailable'), { name: 'DatabaseUnavailable' })),
      gatewayResponses: gatewayResponsesOf(template),
    });

    // Act
    const response = await fetch(`${api.url}/v1/payments/p1`, { headers: { Authorization: 'Bearer key' } });

    // Assess
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ error: { code: 'authorizer_unavailable', message: 'retry' } });
  });

  it("answers 401 when the authorizer throws Error('Unauthorized')", async () => {
    // Prepare
    const api = await start({ authorizer: async () => Promise.reject(new Error('Unauthorized')) });

    // Act
    const response = await fetch(`${api.url}/v1/payments/p1`, { headers: { Authorization: 'Bearer wrong' } });

    // Assess
    expect(response.status).toBe(401);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnauthorizedException');
  });

  it('answers 403 for a Deny policy and for an Allow that does not cover the method ARN', async () => {
    // Prepare
    const api = await start({
      authorizer: async (event: APIGatewayTokenAuthorizerEvent) =>
        event.authorizationToken === 'deny'
          ? { ...allowPolicy('*'), policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: '*' }] } }
          : allowPolicy('arn:aws:execute-api:us-east-1:000000000000:local/local/POST/*'),
    });

    // Act
    const denied = await fetch(`${api.url}/v1/payments/p1`, { headers: { Authorization: 'deny' } });
    const notCovered = await fetch(`${api.url}/v1/payments/p1`, { headers: { Authorization: 'post-only' } });
    const covered = await fetch(`${api.url}/v1/payments`, { method: 'POST', headers: { Authorization: 'post-only' } });

    // Assess
    expect(denied.status).toBe(403);
    expect(notCovered.status).toBe(403);
    expect(covered.status).toBe(200);
  });

  it('passes the authorizer context, stringified, and the principalId to the handler, caching the policy per token', async () => {
    // Prepare
    const methodArns: string[] = [];
    const api = await start({
      authorizer: async (event: APIGatewayTokenAuthorizerEvent) => {
        methodArns.push(event.methodArn);
        return allowPolicy('arn:aws:execute-api:us-east-1:000000000000:local/local/*', { merchantId: 'm_1', live: false, quota: 5 });
      },
    });

    // Act
    const first = (await (await fetch(`${api.url}/v1/payments/p1`, { headers: { Authorization: 'key_1' } })).json()) as APIGatewayProxyEvent;
    await fetch(`${api.url}/v1/payments/p2`, { headers: { Authorization: 'key_1' } });

    // Assess
    expect(first.requestContext.authorizer).toMatchObject({ merchantId: 'm_1', live: 'false', quota: '5', principalId: 'merchant-1' });
    expect(methodArns).toEqual(['arn:aws:execute-api:us-east-1:000000000000:local/local/GET/v1/payments/p1']);
  });

  it('evaluates wildcards in policy resources like IAM', () => {
    // Prepare
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ['arn:aws:execute-api:*:*:local/*/GET/v1/*'] },
        { Action: 'execute-api:*', Effect: 'Deny', Resource: 'arn:aws:execute-api:*:*:local/*/GET/v1/secret' },
      ],
    };

    // Act
    const decisions = ['GET/v1/payments/p1', 'GET/v1/secret', 'POST/v1/payments'].map((route) =>
      evaluatePolicy(policy, `arn:aws:execute-api:us-east-1:000000000000:local/local/${route}`),
    );

    // Assess
    expect(decisions).toEqual(['allow', 'explicitDeny', 'implicitDeny']);
  });

  it('rejects with a message naming the port and the PORT variable when the port is busy', async () => {
    // Prepare
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;

    // Act
    const starting = startApiGatewayLocal({ port, routes: [] });

    // Assess
    await expect(starting).rejects.toThrow(new RegExp(`Port ${port}.*PORT`));
    blocker.close();
  });
});
