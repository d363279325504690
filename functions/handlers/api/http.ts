import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from '../shared/zod.ts';
import type { ApiRouteId } from '../../catalog.ts';
import { Metric } from '../../config/metrics.ts';
import { crashFunctionOf } from '../../crash/crash-points.ts';
import { asInvocationOf } from '../../crash/invocation.ts';
import {
  ChargeonceError,
  DatabaseThrottledError,
  DatabaseUnavailableError,
  InvalidJsonError,
  ValidationError,
  isProcessExit,
} from '../../domain/errors.ts';
import { errorFields, logger, metricsFor, type ScopedMetrics } from '../shared/observability.ts';
import type { ErrorResponse } from './response-schema.ts';

/** What a route handler sees: the merchant from the authorizer, never from the body. */
export interface ApiRequest {
  readonly event: APIGatewayProxyEvent;
  readonly merchantId: string;
  /** Fields every log line of this request carries. */
  readonly log: Readonly<Record<string, unknown>>;
  /** This route's metrics, published when the request ends. */
  readonly metrics: ScopedMetrics<'route'>;
}

export type ApiResult = { readonly status: number; readonly body: unknown; readonly headers?: Record<string, string> };

/** A document that is not JSON (a CSV download): sent as it is, UTF-8 text, under its own type. */
export type TextResult = { readonly status: number; readonly text: string; readonly contentType: string; readonly headers?: Record<string, string> };

/**
 * Wraps a route: merchant from the authorizer context, typed errors to their 4xx/5xx with
 * a machine-readable code and the field at fault, anything unexpected to a logged 500.
 */
export function apiHandler(route: ApiRouteId, handle: (request: ApiRequest) => Promise<ApiResult | TextResult>) {
  const metrics = metricsFor('route', route);
  const crashFunction = crashFunctionOf(route);
  return (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => asInvocationOf(crashFunction, async () => {
    const merchantId = event.requestContext?.authorizer?.merchant_id as string | undefined;
    // Per-call fields rather than appended keys: the local stack runs every function in one process.
    const context = { route, request_id: event.requestContext?.requestId, merchant_id: merchantId };
    try {
      // The authorizer guarantees this; a missing one means the route was wired without it.
      if (!merchantId) return respond({ status: 401, body: errorBody('unauthorized', 'missing merchant') });
      const result = await handle({ event, merchantId, log: context, metrics });
      metrics.add(statusClassMetric(result.status));
      return respond(result);
    } catch (error) {
      // A killed function answers nothing; API Gateway turns that into a 502.
      if (isProcessExit(error)) throw error;
      const result = errorResult(error, context);
      metrics.add(statusClassMetric(result.status));
      return respond(result);
    } finally {
      metrics.publish();
    }
  });
}

/** The answer's status class; a route never answers 1xx or 3xx. */
function statusClassMetric(status: number) {
  if (status >= 500) return Metric.Http5xx;
  return status >= 400 ? Metric.Http4xx : Metric.Http2xx;
}

/** The request body as text, decoded when API Gateway passed it base64-encoded. */
export function bodyText(event: APIGatewayProxyEvent): string | null | undefined {
  return event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body;
}

/** Parses and validates a JSON body against a zod schema; the first issue names the field. */
export function parseBody<T>(event: APIGatewayProxyEvent, schema: z.ZodMiniType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(bodyText(event) ?? '');
  } catch {
    throw new InvalidJsonError();
  }
  refuseUnstorableText(raw);
  const parsed = z.safeParse(schema, raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    throw new ValidationError([...issue.path, issue.keys[0]].join('.'), 'is not a known field');
  }
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new ValidationError(field, issue?.message ?? 'invalid request');
}

// In a `u` regex a surrogate pair is one code point, so this matches only a surrogate alone.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * JSON can carry what nothing downstream can hold. A lone surrogate (`"\ud800"`) is valid
 * JSON but not Unicode: it has no UTF-8 form, and the Stripe SDK's form encoding throws on it
 * (a payment accepted, then stuck pending). A `__proto__` key is parsed as data, then dropped
 * by every object it is copied into (a metadata entry accepted and silently lost). Both are
 * refused before any schema sees them, naming the field.
 */
/** A place in the body: the key, under its parent's place. */
type Place = { readonly key: string; readonly parent: Place } | undefined;

function fieldOf(place: Place): string {
  const keys: string[] = [];
  for (let at = place; at !== undefined; at = at.parent) keys.push(at.key);
  return keys.reverse().join('.') || 'body';
}

function refuseUnstorableText(body: unknown): void {
  // A stack, not recursion: JSON.parse takes any depth, and 400 KB of `[` nest 200,000 deep.
  const pending: { value: unknown; place: Place }[] = [{ value: body, place: undefined }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, place } = next;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) throw new ValidationError(fieldOf(place), 'must be well-formed Unicode (no lone surrogates)');
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, item] of Object.entries(value)) {
      if (LONE_SURROGATE.test(key)) throw new ValidationError(fieldOf(place), 'has a key that is not well-formed Unicode (a lone surrogate)');
      if (key === '__proto__') throw new ValidationError(fieldOf({ key, parent: place }), 'is not allowed');
      pending.push({ value: item, place: { key, parent: place } });
    }
  }
}

function errorResult(error: unknown, context: Record<string, unknown>): ApiResult {
  if (error instanceof ChargeonceError) {
    if (error.httpStatus >= 500) logger.warn('request failed', { ...context, ...errorFields(error) });
    const retryable = error instanceof DatabaseThrottledError || error instanceof DatabaseUnavailableError;
    const retryAfter = error.retryAfterSeconds ?? (retryable ? 1 : undefined);
    return {
      status: error.httpStatus,
      body: errorBody(error.code, error.message, error.field),
      ...(retryAfter !== undefined && { headers: { 'Retry-After': String(retryAfter) } }),
    };
  }
  logger.error('unexpected error', { ...context, error });
  return { status: 500, body: errorBody('internal_error', 'An unexpected error occurred.') };
}

export function errorBody(code: string, message: string, field?: string): ErrorResponse {
  return { error: { code, message, ...(field !== undefined && { field }) } };
}

function respond(result: ApiResult | TextResult): APIGatewayProxyResult {
  if ('text' in result) {
    return { statusCode: result.status, headers: { 'Content-Type': result.contentType, ...result.headers }, body: result.text };
  }
  return {
    statusCode: result.status,
    headers: { 'Content-Type': 'application/json', ...result.headers },
    body: JSON.stringify(result.body),
  };
}

/** A path parameter, checked like a body field: a malformed one is 400 naming it, never a lookup. */
export function pathParameter(event: APIGatewayProxyEvent, name: string, valid: (value: string) => boolean, rule: string): string {
  const value = event.pathParameters?.[name];
  if (typeof value !== 'string' || !valid(value)) throw new ValidationError(name, rule);
  return value;
}
