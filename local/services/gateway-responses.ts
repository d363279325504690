/**
 * API Gateway's gateway responses: the bodies API Gateway itself answers with (401, 403, 413,
 * 502...), as the template configures them, so the local API answers exactly what the
 * deployed one does.
 */
import type { CfnTemplate } from '../assembly/intrinsics.ts';

/** A gateway response per API Gateway response type (`UNAUTHORIZED`, `REQUEST_TOO_LARGE`, `DEFAULT_4XX`, ...). */
export type GatewayResponses = Readonly<
  Record<string, { readonly template: string; readonly statusCode?: number; readonly headers?: Readonly<Record<string, string>> }>
>;

/** Every `AWS::ApiGateway::GatewayResponse` of the template, by its response type, with its JSON body template. */
export function gatewayResponsesOf(template: CfnTemplate): GatewayResponses {
  const responses: Record<string, { template: string; statusCode?: number; headers?: Record<string, string> }> = {};
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::ApiGateway::GatewayResponse') continue;
    const properties = resource.Properties as {
      ResponseType: string;
      StatusCode?: string;
      ResponseTemplates?: Record<string, string>;
      ResponseParameters?: Record<string, string>;
    };
    const body = properties.ResponseTemplates?.['application/json'];
    if (body === undefined) continue;
    const headers = headersOf(properties.ResponseParameters ?? {});
    responses[properties.ResponseType] = {
      template: body,
      ...(properties.StatusCode !== undefined && { statusCode: Number(properties.StatusCode) }),
      ...(Object.keys(headers).length > 0 && { headers }),
    };
  }
  return responses;
}

/**
 * The configured response for `type`, else the configured DEFAULT_4XX or DEFAULT_5XX for the
 * status, as API Gateway picks them; undefined when none applies. Of the template language,
 * only the error message variables are rendered: the product's templates use nothing else.
 */
export function renderGatewayResponse(
  responses: GatewayResponses,
  type: string,
  statusCode: number,
  message: string | null,
): { statusCode: number; body: string; headers: Readonly<Record<string, string>> } | undefined {
  const configured = responses[type] ?? responses[statusCode >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX'];
  if (configured === undefined) return undefined;
  const body = configured.template
    .replaceAll('$context.error.messageString', JSON.stringify(message))
    .replaceAll('$context.error.message', message ?? '');
  return { statusCode: configured.statusCode ?? statusCode, body, headers: configured.headers ?? {} };
}

/**
 * `gatewayresponse.header.<Name>` parameters whose value is a static `'...'` literal (the only
 * kind the product's template uses), as headers; Content-Type is the body's own.
 */
function headersOf(parameters: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [parameter, value] of Object.entries(parameters)) {
    const name = /^gatewayresponse\.header\.(.+)$/.exec(parameter)?.[1];
    const literal = /^'(.*)'$/.exec(value)?.[1];
    if (name !== undefined && literal !== undefined && name.toLowerCase() !== 'content-type') headers[name] = literal;
  }
  return headers;
}
