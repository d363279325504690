import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ApiRouteId } from '../../catalog.ts';
import { Metric } from '../../config/metrics.ts';
import { crashFunctionOf } from '../../crash/crash-points.ts';
import { asInvocationOf } from '../../crash/invocation.ts';
import {
  ChargeonceError,
  DatabaseThrottledError,
  DatabaseUnavailableError,
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
