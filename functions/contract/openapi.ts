/**
 * The OpenAPI 3.1 document of the API, generated from the route catalog (every route, its path
 * and method) and `operations.ts` (what each takes and answers, the handlers' own schemas).
 * `npm run openapi` writes it to `openapi.json`, which `GET /v1/openapi.json` serves as it is.
 */
import { type ApiRoute, type ApiRouteId, apiRoutes } from '../catalog.ts';
import { ErrorCode } from '../domain/errors.ts';
import { IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER } from '../handlers/api/idempotent-route.ts';
import * as z from '../handlers/shared/zod.ts';
import { type Answer, answerSchemas, idempotencyKeySchema, operations } from './operations.ts';

type JsonSchema = Record<string, unknown>;

/** A schema as JSON Schema 2020-12, as a request is parsed (`input`: defaults optional) or an answer made (`output`). */
function jsonSchema(schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

const names = new Map<z.ZodMiniType, string>(Object.entries(answerSchemas).map(([name, schema]) => [schema, name]));
const refOf = (schema: z.ZodMiniType, route: string): { $ref: string } => {
  const name = names.get(schema);
  if (name === undefined) throw new Error(`${route} answers with a schema missing from answerSchemas`);
  return { $ref: `#/components/schemas/${name}` };
};

const json = (schema: unknown) => ({ 'application/json': { schema } });

function answerContent(answer: Answer, route: string) {
  if (answer === 'csv') return { 'text/csv': { schema: { type: 'string' } } };
  // The document describes itself as an object: a schema of OpenAPI would be a second contract.
  if (answer === 'openapi') return json({ type: 'object', required: ['openapi', 'paths'] });
  return json(refOf(answer, route));
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 200: 'OK', 201: 'Created', 202: 'Accepted' };

function operationOf(route: ApiRoute) {
  const operation = operations[route.id as ApiRouteId];
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  const queryParameters = Object.entries(operation.query ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema: jsonSchema(schema, 'input') }));
  const keyParameter = operation.idempotencyKey === undefined ? [] : [{
    name: IDEMPOTENCY_KEY_HEADER,
    in: 'header',
    required: operation.idempotencyKey === 'required',
    description: 'The same key again answers the first request, which it must repeat.',
    schema: jsonSchema(idempotencyKeySchema, 'input'),
  }];
  const body = operation.body;
  const answers = Object.fromEntries(
    Object.entries(operation.answers).map(([status, answer]) => [
      status,
      {
        description: STATUS_TEXT[Number(status)] ?? status,
        ...(operation.idempotencyKey !== undefined && status === '200' && {
          headers: { [REPLAYED_HEADER]: { description: '`true` when this is the first answer again.', schema: { type: 'string' } } },
        }),
        content: answerContent(answer, route.id),
      },
    ]),
  );
  return {
    operationId: route.id,
    summary: operation.summary,
    ...(route.public ? { security: [] } : {}),
    ...(pathParameters.length + queryParameters.length + keyParameter.length > 0 && { parameters: [...pathParameters, ...queryParameters, ...keyParameter] }),
    ...(body !== undefined && {
      requestBody: body === 'empty'
        ? { required: false, content: json({ type: 'object', additionalProperties: false }) }
        : { required: true, content: json(jsonSchema(body, 'input')) },
    }),
    responses: {
      ...answers,
      ...(!route.public && { 401: { $ref: '#/components/responses/Unauthorized' }, 403: { $ref: '#/components/responses/Forbidden' } }),
      '4XX': { $ref: '#/components/responses/Refused' },
      '5XX': { $ref: '#/components/responses/Failed' },
    },
  };
}

const errorAnswer = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });

/** The document, every route of the catalog an operation of it. */
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of apiRoutes) (paths[route.path] ??= {})[route.method.toLowerCase()] = operationOf(route);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Chargeonce API',
      version: '1',
      description: 'Checkout and payments that charge a customer exactly once. Amounts are integers in minor units of their currency.',
    },
    servers: [{ url: '/api', description: "The stage's base URL (the stack's ApiUrl output)." }],
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: "A merchant's API key: `Authorization: Bearer <key>`." } },
      schemas: Object.fromEntries(Object.entries(answerSchemas).map(([name, schema]) => [name, jsonSchema(schema, 'output')])),
      responses: {
        Unauthorized: errorAnswer(`No API key, or one unknown, expired or revoked (\`${ErrorCode.Unauthorized}\`); from API Gateway's authorizer.`),
        Forbidden: errorAnswer("The API key may not call this route; from API Gateway's authorizer."),
        Refused: errorAnswer('Refused: a machine-readable `code`, and the `field` at fault when there is one; nothing was changed.'),
        Failed: errorAnswer('Failed, or a dependency out of reach: retry after `Retry-After` seconds when it is given.'),
      },
    },
  };
}

/** The document as `openapi.json` holds it. */
export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}
