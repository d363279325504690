/**
 * Checks an HTTP exchange against the OpenAPI document (`openapi.json`, generated from the code):
 * the integration suite's client runs every request and answer through it, so the document
 * cannot drift from what the stack does. An answer must be one the operation lists, its body
 * valid against the listed schema; a request the stack accepted (2xx) must be one the document
 * allows (a refused one is refused on purpose by the test that sent it).
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import document from '../../openapi.json' with { type: 'json' };

export interface Exchange {
  readonly method: string;
  /** The path after the stage, with its query string. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The JSON body sent, if any. */
  readonly body?: unknown;
  readonly status: number;
  readonly contentType: string | null;
  /** The JSON answer, parsed; undefined when it was not JSON. */
  readonly answer: unknown;
}

type Json = Record<string, any>;

export interface Contract {
  /** What is wrong with the exchange by the document; empty when nothing is. */
  problemsOf(exchange: Exchange): string[];
}

/** The checker of a document (the committed one unless given, as a test that breaks one does). */
export function contractOf(doc: Json = document): Contract {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  // Query strings are text: `limit=5` is the integer the document describes.
  const queryAjv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: true });
  addFormats.default(queryAjv);
  ajv.addSchema({ $id: 'contract', components: doc.components }, 'contract');
  const compiled = new Map<unknown, ValidateFunction>();
  const validatorOf = (schema: Json, engine = ajv): ValidateFunction => {
    let validate = compiled.get(schema);
    if (validate === undefined) {
      // A component reference reads from the document's components, registered once.
      const resolved = typeof schema.$ref === 'string' ? { $ref: `contract${schema.$ref}` } : schema;
      compiled.set(schema, (validate = engine.compile(resolved)));
    }
    return validate;
  };
  const errorsOf = (validate: ValidateFunction, value: unknown): string | undefined =>
    validate(value) ? undefined : JSON.stringify(validate.errors?.map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`));
  const resolve = (value: Json): Json => (typeof value.$ref === 'string' ? value.$ref.split('/').slice(1).reduce((at: Json, key: string) => at[key], doc) : value);

  const templates = Object.keys(doc.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\./g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`),
  }));

  return {
    problemsOf(exchange) {
      const problems: string[] = [];
      const url = new URL(exchange.path, 'http://contract');
      const name = `${exchange.method} ${url.pathname} -> ${exchange.status}`;
      const template = templates.find(({ pattern }) => pattern.test(url.pathname))?.template;
      const operation: Json | undefined = template === undefined ? undefined : doc.paths[template][exchange.method.toLowerCase()];
      const accepted = exchange.status >= 200 && exchange.status < 300;

      if (operation === undefined) {
        // No such route: API Gateway refuses it, in the error format.
        if (accepted) problems.push(`${name}: the document has no operation ${exchange.method} ${url.pathname}, yet the stack accepted it`);
        const failure = errorsOf(validatorOf(doc.components.responses.Refused.content['application/json'].schema), exchange.answer);
        if (failure !== undefined) problems.push(`${name}: an unknown route's answer is not the error format: ${failure}`);
        return problems;
      }

      const declared = operation.responses[String(exchange.status)] ?? operation.responses[`${String(exchange.status)[0]}XX`];
      if (declared === undefined) {
        problems.push(`${name}: status ${exchange.status} is not among ${operation.operationId}'s answers (${Object.keys(operation.responses).join(', ')})`);
      } else {
        const content = resolve(declared).content as Json;
        const type = (exchange.contentType ?? '').split(';')[0]!.trim();
        const media = content[type];
        if (media === undefined) problems.push(`${name}: answered ${type || 'no content type'}, the document says ${Object.keys(content).join(', ')}`);
        else if (type === 'application/json') {
          const failure = errorsOf(validatorOf(media.schema), exchange.answer);
          if (failure !== undefined) problems.push(`${name}: the answer does not match ${operation.operationId}'s ${exchange.status}: ${failure}`);
        }
      }

      if (accepted) {
        const parameters: Json[] = operation.parameters ?? [];
        for (const [key, value] of url.searchParams) {
          const parameter = parameters.find((p) => p.in === 'query' && p.name === key);
          if (parameter === undefined) problems.push(`${name}: query parameter ${key} is not in the document, yet the stack accepted it`);
          else {
            const failure = errorsOf(validatorOf(parameter.schema, queryAjv), value);
            if (failure !== undefined) problems.push(`${name}: query parameter ${key}=${value} does not match the document: ${failure}`);
          }
        }
        const headerNames = Object.keys(exchange.headers ?? {}).map((h) => h.toLowerCase());
        for (const header of parameters.filter((p) => p.in === 'header' && p.required)) {
          if (!headerNames.includes(header.name.toLowerCase())) problems.push(`${name}: the document requires header ${header.name}, yet the stack accepted a request without it`);
        }
        const requestSchema = operation.requestBody?.content['application/json']?.schema;
        if (exchange.body !== undefined) {
          if (requestSchema === undefined) problems.push(`${name}: the document takes no body, yet the stack accepted one`);
          else {
            const failure = errorsOf(validatorOf(requestSchema), exchange.body);
            if (failure !== undefined) problems.push(`${name}: the request body the stack accepted does not match the document: ${failure}`);
          }
        } else if (operation.requestBody?.required) problems.push(`${name}: the document requires a body, yet the stack accepted a request without one`);
      }
      return problems;
    },
  };
}
