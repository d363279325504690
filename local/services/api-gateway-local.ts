/**
 * A local API Gateway REST API (v1) with Lambda proxy integrations and TOKEN authorizers:
 * each HTTP request becomes the proxy event API Gateway would send to the route's function,
 * and its result becomes the HTTP response, with API Gateway's own answers (401, 403, 413,
 * 500, 502) where it would give them.
 *
 * Deliberate difference: an unknown path answers 404 `route_not_found` and a known path with
 * another method 405 `method_not_allowed` (API Gateway answers 403 "Missing Authentication
 * Token" to both, unless a gateway response is configured).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
  PolicyDocument,
  Statement,
} from 'aws-lambda';
import { localAccountId, localRegion } from '../assembly/local-account.ts';
import { InvocationError } from '../lambda/invocation-error.ts';
import { type GatewayResponses, renderGatewayResponse } from './gateway-responses.ts';

/**
 * Invokes the route's function with a proxy event (throws as Lambda reports a failed
 * invocation). `sourceArn` is the method's ARN, which API Gateway invokes the function as.
 */
export type ProxyHandler = (event: APIGatewayProxyEvent, sourceArn: string) => Promise<APIGatewayProxyResult>;

/** A Lambda TOKEN authorizer, as the template declares it. */
export interface TokenAuthorizer {
  /** What `Ref` of the authorizer gives: its part of the ARN API Gateway invokes its function as. */
  id: string;
  /** Invokes its function; `sourceArn` is `arn:aws:execute-api:...:<api>/authorizers/<id>`. */
  invoke(event: APIGatewayTokenAuthorizerEvent, sourceArn: string): Promise<APIGatewayAuthorizerResult>;
  /** The request header the token comes from. */
  identityHeader: string;
  /** Seconds a policy is cached per token; 0 turns the cache off. */
  resultTtlSeconds: number;
}

export interface LocalRoute {
  method: string;
  /** API Gateway resource path: `/v1/payments/{payment_no}`, `/files/{proxy+}`. */
  path: string;
  handler: ProxyHandler;
  /** The method's authorizer; none: the route is open. */
  authorizer?: TokenAuthorizer;
}

export interface StartApiGatewayLocalOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  routes: LocalRoute[];
  /**
   * The API's gateway responses (from its template: {@link gatewayResponsesOf}); API Gateway's
   * own bodies where none is configured.
   */
  gatewayResponses?: GatewayResponses;
  /** Stage name in the event and the method ARN. Default `local`. */
  stage?: string;
  /** The API's id in the event and the ARNs (what `Ref` of the RestApi gives). Default `local`. */
  apiId?: string;
  log?: (message: string, detail?: unknown) => void;
}

export interface ApiGatewayLocal {
  /** `http://<host>:<port>`, without a stage prefix. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** API Gateway's payload limit. */
export const maxBodyBytes = 10 * 1024 * 1024;

interface CompiledRoute extends LocalRoute {
  segments: string[];
}

interface Match {
  resource: string;
  routes: CompiledRoute[];
  pathParameters: Record<string, string>;
}

class GatewayResponse {
  constructor(
    readonly statusCode: number,
    readonly body: string,
    readonly errorType?: string,
    readonly headers: Record<string, string> = {},
    /** API Gateway's response type and message: they pick and fill a configured gateway response instead of `body`. */
    readonly configurable?: { readonly type: string; readonly message: string | null },
  ) {}

  /** This answer as the API's gateway responses configure it. */
  configured(responses: GatewayResponses): GatewayResponse {
    if (this.configurable === undefined) return this;
    const rendered = renderGatewayResponse(responses, this.configurable.type, this.statusCode, this.configurable.message);
    return rendered === undefined
      ? this
      : new GatewayResponse(rendered.statusCode, rendered.body, this.errorType, { ...this.headers, ...rendered.headers });
  }
}

export async function startApiGatewayLocal(options: StartApiGatewayLocalOptions): Promise<ApiGatewayLocal> {
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? 'local';
  const apiId = options.apiId ?? 'local';
  const apiArn = `arn:aws:execute-api:${localRegion}:${localAccountId}:${apiId}`;
  const log = options.log ?? ((message: string, detail?: unknown) => console.error(message, detail ?? ''));
  const authorizerCaches = new Map<TokenAuthorizer, Map<string, { result: APIGatewayAuthorizerResult; expires: number }>>();
  const routes: CompiledRoute[] = options.routes.map((route) => ({
    ...route,
    method: route.method.toUpperCase(),
    segments: splitPath(route.path),
  }));

  async function authorize(
    authorizer: TokenAuthorizer,
    request: IncomingMessage,
    methodArn: string,
  ): Promise<APIGatewayAuthorizerResult | GatewayResponse> {
    const unauthorized = gatewayError(401, 'UNAUTHORIZED', 'Unauthorized', 'UnauthorizedException');
    const token = request.headers[authorizer.identityHeader.toLowerCase()];
    if (typeof token !== 'string' || token === '') return unauthorized;
    let cache = authorizerCaches.get(authorizer);
    if (cache === undefined) authorizerCaches.set(authorizer, (cache = new Map()));
    const cached = cache.get(token);
    let result: APIGatewayAuthorizerResult;
    if (cached !== undefined && cached.expires > Date.now()) {
      result = cached.result;
    } else {
      try {
        result = await authorizer.invoke({ type: 'TOKEN', authorizationToken: token, methodArn }, `${apiArn}/authorizers/${authorizer.id}`);
      } catch (error) {
        if (error instanceof Error && error.message === 'Unauthorized') return unauthorized;
        log('Authorizer failed', error);
        return authorizerConfigurationError();
      }
      if (!isValidAuthorizerResult(result)) {
        log('Authorizer returned an invalid result (principalId, policyDocument, or a context value that is not a string, number or boolean)', result);
        return authorizerConfigurationError();
      }
      // API Gateway caches the policy, then evaluates it against each request's method ARN.
      if (authorizer.resultTtlSeconds > 0) cache.set(token, { result, expires: Date.now() + authorizer.resultTtlSeconds * 1000 });
    }
    const decision = evaluatePolicy(result.policyDocument, methodArn);
    if (decision === 'explicitDeny') {
      return gatewayError(403, 'ACCESS_DENIED', 'User is not authorized to access this resource with an explicit deny', 'AccessDeniedException', 'Message');
    }
    if (decision === 'implicitDeny') {
      return gatewayError(403, 'ACCESS_DENIED', 'User is not authorized to access this resource', 'AccessDeniedException', 'Message');
    }
    return result;
  }

  const reply = (response: ServerResponse, requestId: string, answer: GatewayResponse) =>
    send(response, requestId, answer.configured(options.gatewayResponses ?? {}));

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const startedAt = Date.now();
    try {
      // Appended, not resolved: a path starting `//` would otherwise be read as a host name.
      const url = new URL(`http://localhost${request.url ?? '/'}`);
      const rawPath = url.pathname;
      const method = (request.method ?? 'GET').toUpperCase();
      const match = matchRoute(routes, rawPath);
      if (match === undefined) {
        return reply(response, requestId, jsonError(404, 'route_not_found', `No route for ${method} ${rawPath}`));
      }
      const route = match.routes.find((candidate) => candidate.method === method || candidate.method === 'ANY');
      if (route === undefined) {
        const allowed = [...new Set(match.routes.map((candidate) => candidate.method))].join(', ');
        return reply(
          response,
          requestId,
          jsonError(405, 'method_not_allowed', `${method} is not allowed on ${match.resource}; allowed: ${allowed}`, { Allow: allowed }),
        );
      }

      const body = await readBody(request);
      if (body instanceof GatewayResponse) return reply(response, requestId, body);

      // Empty segments do not select a resource (`/v1/payouts/` is `/v1/payouts`), so they are not part of the ARN the function's permission names either.
      const methodArn = `${apiArn}/${stage}/${method}/${splitPath(rawPath).join('/')}`;
      let authorizerContext: Record<string, unknown> | undefined;
      if (route.authorizer !== undefined) {
        const authorized = await authorize(route.authorizer, request, methodArn);
        if (authorized instanceof GatewayResponse) return reply(response, requestId, authorized);
        authorizerContext = {
          ...stringifyContext(authorized.context),
          principalId: authorized.principalId,
          integrationLatency: Date.now() - startedAt,
        };
      }

      const event = proxyEvent({ request, url, method, route, match, body, requestId, stage, apiId, authorizerContext });
      let result: APIGatewayProxyResult;
      try {
        result = await route.handler(event, methodArn);
      } catch (error) {
        // Lambda refusing to run the function (a throttle) is an integration failure; the function failing, a bad gateway.
        const byLambda = error instanceof InvocationError && error.by === 'lambda';
        log(`The function of ${route.method} ${route.path} failed (API Gateway answers ${byLambda ? 500 : 502})`, error);
        return reply(response, requestId, byLambda ? integrationFailure() : internalServerError());
      }
      const malformed = malformedResult(result);
      if (malformed !== undefined) {
        log(`Handler of ${route.method} ${route.path} returned a malformed proxy response: ${malformed}`, result);
        return reply(response, requestId, internalServerError());
      }
      sendResult(response, requestId, result);
    } catch (error) {
      log('API Gateway local: internal error', error);
      if (!response.headersSent) reply(response, requestId, internalServerError());
      else response.destroy();
    }
  }

  const server = createServer((request, response) => void handle(request, response));
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `Port ${options.port} on ${host} is already in use, so the local API cannot listen on it. ` +
                `Stop the process that holds it, or choose another port with the PORT environment variable (e.g. PORT=${options.port + 1}).`,
            )
          : error,
      );
    });
    server.listen(options.port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : options.port);
    });
  });
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

/**
 * The routes of the most specific resource that matches `rawPath`: a literal segment beats a
 * `{param}`, which beats a greedy `{param+}`, as in API Gateway.
 */
export function matchRoute(routes: readonly CompiledRoute[], rawPath: string): Match | undefined {
  const segments = splitPath(rawPath);
  let best: { rank: number[]; match: Match } | undefined;
  for (const route of routes) {
    const attempt = matchSegments(route.segments, segments);
    if (attempt === undefined) continue;
    if (best === undefined || compareRank(attempt.rank, best.rank) > 0) {
      best = { rank: attempt.rank, match: { resource: route.path, routes: [], pathParameters: attempt.pathParameters } };
    }
  }
  if (best === undefined) return undefined;
  const resource = best.match.resource;
  best.match.routes = routes.filter((route) => route.path === resource);
  return best.match;
}

function matchSegments(
  template: string[],
  segments: string[],
): { rank: number[]; pathParameters: Record<string, string> } | undefined {
  const rank: number[] = [];
  const pathParameters: Record<string, string> = {};
  for (let index = 0; index < template.length; index++) {
    const part = template[index]!;
    const greedy = /^\{(.+)\+\}$/.exec(part);
    if (greedy !== null) {
      if (index !== template.length - 1 || segments.length <= index) return undefined;
      pathParameters[greedy[1]!] = segments.slice(index).map(safeDecode).join('/');
      rank.push(0);
      return { rank, pathParameters };
    }
    const segment = segments[index];
    if (segment === undefined) return undefined;
    const parameter = /^\{(.+)\}$/.exec(part);
    if (parameter !== null) {
      pathParameters[parameter[1]!] = safeDecode(segment);
      rank.push(1);
    } else if (part === segment) {
      rank.push(2);
    } else {
      return undefined;
    }
  }
  return segments.length === template.length ? { rank, pathParameters } : undefined;
}

function compareRank(a: number[], b: number[]): number {
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const difference = (a[index] ?? -1) - (b[index] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

async function readBody(request: IncomingMessage): Promise<string | null | GatewayResponse> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even past the limit: a client still sending when the 413 is written gets
  // EPIPE instead of the answer.
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= maxBodyBytes) chunks.push(chunk as Buffer);
  }
  if (size > maxBodyBytes) return requestTooLong();
  return size === 0 ? null : Buffer.concat(chunks).toString('utf8');
}

function proxyEvent(input: {
  request: IncomingMessage;
  url: URL;
  method: string;
  route: CompiledRoute;
  match: Match;
  body: string | null;
  requestId: string;
  stage: string;
  apiId: string;
  authorizerContext: Record<string, unknown> | undefined;
}): APIGatewayProxyEvent {
  const { request, url, method, route, match, body, requestId, stage, apiId } = input;
  const sourceIp = (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const raw = request.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index]!;
    const value = raw[index + 1]!;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  // API Gateway adds these on the way to the integration.
  const added: Record<string, string> = {
    'X-Forwarded-For': sourceIp,
    'X-Forwarded-Port': String(request.socket.localPort ?? ''),
    'X-Forwarded-Proto': 'http',
  };
  for (const [name, value] of Object.entries(added)) {
    if (request.headers[name.toLowerCase()] === undefined) {
      headers[name] = value;
      multiValueHeaders[name] = [value];
    }
  }

  let queryStringParameters: Record<string, string> | null = null;
  let multiValueQueryStringParameters: Record<string, string[]> | null = null;
  for (const [name, value] of url.searchParams) {
    (queryStringParameters ??= {})[name] = value;
    ((multiValueQueryStringParameters ??= {})[name] ??= []).push(value);
  }

  const now = new Date();
  const hasParameters = Object.keys(match.pathParameters).length > 0;
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: hasParameters ? match.pathParameters : null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: localAccountId,
      apiId,
      authorizer: input.authorizerContext ?? null,
      domainName: request.headers.host ?? 'localhost',
      domainPrefix: (request.headers.host ?? 'localhost').split('.')[0]!,
      extendedRequestId: requestId,
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: request.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/${stage}${url.pathname}`,
      protocol: `HTTP/${request.httpVersion}`,
      requestId,
      requestTime: formatRequestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: route.path,
      resourcePath: route.path,
      stage,
    },
  };
}

/** `09/Apr/2015:12:34:56 +0000`, as API Gateway's `requestTime`. */
function formatRequestTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(
    date.getUTCMinutes(),
  )}:${pad(date.getUTCSeconds())} +0000`;
}

function isValidAuthorizerResult(result: unknown): result is APIGatewayAuthorizerResult {
  if (typeof result !== 'object' || result === null) return false;
  const candidate = result as Partial<APIGatewayAuthorizerResult>;
  if (typeof candidate.principalId !== 'string' || typeof candidate.policyDocument !== 'object' || candidate.policyDocument === null) {
    return false;
  }
  const context = candidate.context ?? {};
  return Object.values(context).every((value) => value === null || value === undefined || ['string', 'number', 'boolean'].includes(typeof value));
}

/** API Gateway hands the authorizer's context to a proxy integration with every value a string. */
function stringifyContext(context: APIGatewayAuthorizerResult['context']): Record<string, string | null> {
  const result: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(context ?? {})) {
    if (value === undefined) continue;
    result[key] = value === null ? null : String(value);
  }
  return result;
}

export type PolicyDecision = 'allow' | 'explicitDeny' | 'implicitDeny';

/** IAM evaluation of an authorizer's policy for `execute-api:Invoke` on `methodArn`. */
export function evaluatePolicy(policy: PolicyDocument, methodArn: string): PolicyDecision {
  const statements: Statement[] = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement as unknown as Statement];
  let allowed = false;
  for (const statement of statements) {
    const record = statement as unknown as Record<string, unknown>;
    const actions = toList(record['Action']);
    const resources = toList(record['Resource']);
    const actionMatches = actions.some((action) => globMatches(action.toLowerCase(), 'execute-api:invoke'));
    const resourceMatches = resources.some((resource) => globMatches(resource, methodArn));
    if (!actionMatches || !resourceMatches) continue;
    if (record['Effect'] === 'Deny') return 'explicitDeny';
    if (record['Effect'] === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'implicitDeny';
}

function toList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function globMatches(pattern: string, value: string): boolean {
  const expression = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${expression}$`).test(value);
}

function malformedResult(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return 'not an object';
  const candidate = result as Record<string, unknown>;
  if (!Number.isInteger(candidate['statusCode'])) return 'statusCode is not an integer';
  if (candidate['body'] !== undefined && candidate['body'] !== null && typeof candidate['body'] !== 'string') {
    return 'body is not a string';
  }
  return undefined;
}

function sendResult(response: ServerResponse, requestId: string, result: APIGatewayProxyResult): void {
  const headers = new Map<string, { name: string; values: string[] }>();
  // API Gateway merges the two; for a name in both, multiValueHeaders wins.
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers.set(name.toLowerCase(), { name, values: values.map(String) });
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    if (!headers.has(name.toLowerCase())) headers.set(name.toLowerCase(), { name, values: [String(value)] });
  }
  if (!headers.has('content-type')) headers.set('content-type', { name: 'Content-Type', values: ['application/json'] });
  headers.set('x-amzn-requestid', { name: 'x-amzn-RequestId', values: [requestId] });
  const body = result.body === undefined || result.body === null ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  headers.set('content-length', { name: 'Content-Length', values: [String(body.length)] });
  response.writeHead(
    result.statusCode,
    [...headers.values()].flatMap(({ name, values }) => values.map((value) => [name, value])).flat(),
  );
  response.end(body);
}

function send(response: ServerResponse, requestId: string, gatewayResponse: GatewayResponse): void {
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(gatewayResponse.body),
    'x-amzn-RequestId': requestId,
    ...gatewayResponse.headers,
  };
  if (gatewayResponse.errorType !== undefined) headers['x-amzn-ErrorType'] = gatewayResponse.errorType;
  response.writeHead(gatewayResponse.statusCode, headers);
  response.end(gatewayResponse.body);
}

function jsonError(statusCode: number, code: string, message: string, headers: Record<string, string> = {}): GatewayResponse {
  return new GatewayResponse(statusCode, JSON.stringify({ error: { code, message } }), undefined, headers);
}

/** One of API Gateway's own answers: `{"message": ...}` unless the API configures its gateway response. */
function gatewayError(
  statusCode: number,
  type: string,
  message: string | null,
  errorType: string,
  field: 'message' | 'Message' = 'message',
): GatewayResponse {
  return new GatewayResponse(statusCode, JSON.stringify({ [field]: message }), errorType, {}, { type, message });
}

function requestTooLong(): GatewayResponse {
  return gatewayError(413, 'REQUEST_TOO_LARGE', 'Request Too Long', 'RequestTooLarge');
}

function internalServerError(): GatewayResponse {
  return gatewayError(502, 'DEFAULT_5XX', 'Internal server error', 'InternalServerErrorException');
}

function integrationFailure(): GatewayResponse {
  return gatewayError(500, 'INTEGRATION_FAILURE', 'Internal server error', 'InternalServerErrorException');
}

function authorizerConfigurationError(): GatewayResponse {
  return gatewayError(500, 'AUTHORIZER_CONFIGURATION_ERROR', null, 'AuthorizerConfigurationException');
}
