import fc from 'fast-check';
import { apiRoutes } from '../../functions/catalog.ts';
import type { Json } from './json-text.ts';
import { type RouteSpec, bodiesOf, routeSpecs } from './routes.ts';
import type { Mutation } from './schema-arbitrary.ts';
import { Ref, type Template } from './template.ts';
import { anyJson, anyString, builtinNames } from './values.ts';

/** A path parameter: a thing that exists (maybe the other merchant's), an id that looks right, or raw path text. */
export type ParamChoice = Ref | { readonly looksLike: string } | { readonly raw: string };

export type BodyCase =
  | { readonly kind: 'none' }
  | { readonly kind: 'valid'; readonly base: Template }
  | { readonly kind: 'changed'; readonly base: Template; readonly changes: readonly Mutation[] }
  | { readonly kind: 'json'; readonly value: Json }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'bytes'; readonly bytes: readonly number[] }
  /** Over API Gateway's 10 MB payload limit; built when sent, so a counterexample prints small. */
  | { readonly kind: 'huge' }
  /** Arrays or objects nested this deep (JSON.parse takes any depth; a recursive walk of the result may not). */
  | { readonly kind: 'nested'; readonly depth: number; readonly as: 'array' | 'object' };

/** One generated request. `{key}` in a raw Authorization value is the fuzzing merchant's key. */
export interface FuzzCase {
  readonly route: string;
  readonly method: string;
  readonly params: Readonly<Record<string, ParamChoice>>;
  readonly auth: 'merchant' | 'other' | 'none' | { readonly raw: string };
  readonly key: 'none' | 'fresh' | { readonly raw: string };
  readonly contentType: string | null;
  readonly body: BodyCase;
}

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/** Bytes a header value may carry on the wire (latin1, no control characters but tab). */
const HEADER_SAFE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Past API Gateway's quota for the request line and headers (10240 bytes) the answer is the edge's, not the API's. */
const MAX_SENT_LENGTH = 4000;
const headerText = anyString.filter((value) => HEADER_SAFE.test(value) && value.length <= MAX_SENT_LENGTH);

/**
 * Path text that is not an id: bad percent-encoding, dot segments, built-in names, very long,
 * encoded non-ASCII. Raw non-ASCII bytes are not sent: they are not HTTP, and the local
 * server's parser refuses them before any emulated gateway sees the request.
 */
const PATH_GARBAGE = [
  '%E0%A4', '%', '%zz', '%00', '..', '.', '%2e%2e', '%2F', 'a%2Fb', '%C0%AF', '%FF', '%ED%A0%80', '%C3%BC',
  '%20', '+', '~', 'pay_%30', '%F0%9F%98%80', '%EF%BB%BF', 'a'.repeat(2000), 'A'.repeat(65),
];

/** Percent-encodes every byte of the UTF-8 form that is not unreserved; lone surrogates become U+FFFD, as a client's encoder would. */
export function percentEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

function paramChoice(kind: Ref['kind'], looksLike: RegExp): fc.Arbitrary<ParamChoice> {
  return fc.oneof(
    { arbitrary: fc.nat(50).map((index) => new Ref(kind, index)), weight: 12 },
    { arbitrary: fc.nat(50).map((index) => new Ref(kind, index, 'other')), weight: 1 },
    { arbitrary: fc.stringMatching(looksLike).map((looks) => ({ looksLike: looks })), weight: 1 },
    {
      arbitrary: fc
        .oneof(fc.constantFrom(...PATH_GARBAGE, ...builtinNames), anyString.map(percentEncode))
        .filter((raw) => raw.length <= MAX_SENT_LENGTH)
        .map((raw) => ({ raw })),
      weight: 2,
    },
  );
}

const auth: fc.Arbitrary<FuzzCase['auth']> = fc.oneof(
  { arbitrary: fc.constant('merchant' as const), weight: 40 },
  { arbitrary: fc.constantFrom('other' as const, 'none' as const), weight: 1 },
  {
    arbitrary: fc.oneof(fc.constantFrom('Bearer ', 'Bearer', 'bearer {key}', '{key}', 'Bearer {key} ', 'Basic {key}', 'Bearer {key}{key}', `Bearer ${'a'.repeat(5000)}`), headerText.map((raw) => `Bearer ${raw}`)).map((raw) => ({ raw })),
    weight: 1,
  },
);

/** The Idempotency-Key: none, a new one, or one that is empty, blank, at and past 255 characters, non-ASCII. */
function keyChoice(spec: RouteSpec): fc.Arbitrary<FuzzCase['key']> {
  const odd = fc
    .oneof(
      fc.constantFrom('', ' ', '   ', 'a'.repeat(255), 'a'.repeat(256), 'é', 'Ã¼', 'key\twith tab', ' leading', 'trailing ', '\xff'),
      headerText,
    )
    .map((raw) => ({ raw }));
  return spec.key === 'none'
    ? fc.oneof({ arbitrary: fc.constant('none' as const), weight: 10 }, { arbitrary: fc.constant('fresh' as const), weight: 1 }, { arbitrary: odd, weight: 1 })
    : fc.oneof({ arbitrary: fc.constant('fresh' as const), weight: 10 }, { arbitrary: fc.constant('none' as const), weight: 1 }, { arbitrary: odd, weight: 2 });
}

const contentType = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 12 },
  {
    arbitrary: fc.constantFrom(
      null,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-16',
      'application/octet-stream',
      '*/*',
    ),
    weight: 1,
  },
);

/** Bodies for any route: JSON of any shape, text that is not JSON, bytes that are not UTF-8, and one too large to accept. */
const junkBody: fc.Arbitrary<BodyCase> = fc.oneof(
  { arbitrary: anyJson.map((value) => ({ kind: 'json' as const, value })), weight: 4 },
  {
    arbitrary: fc
      .oneof(fc.constantFrom('', ' ', '{', '{"a":', 'undefined', "{'a':1}", '\ufeff{}', 'NaN', '[1,]', '{"a":1}}', 'null', '[]', '0', '"x"', '{"__proto__":{"a":1}}'), anyString)
      .map((text) => ({ kind: 'text' as const, text })),
    weight: 3,
  },
  { arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }).map((bytes) => ({ kind: 'bytes' as const, bytes })), weight: 1 },
  { arbitrary: fc.constant({ kind: 'huge' as const }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant('nested' as const), depth: fc.constantFrom(1_000, 10_000, 100_000), as: fc.constantFrom('array' as const, 'object' as const) }),
    weight: 1,
  },
);

function bodyChoice(spec: RouteSpec): fc.Arbitrary<BodyCase> {
  const bodies = bodiesOf(spec);
  if (bodies === undefined) {
    return fc.oneof({ arbitrary: fc.constant({ kind: 'none' as const }), weight: 8 }, { arbitrary: fc.constant({ kind: 'json' as const, value: {} }), weight: 1 }, { arbitrary: junkBody, weight: 2 });
  }
  return fc.oneof(
    { arbitrary: bodies.valid.map((base) => ({ kind: 'valid' as const, base })), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('changed' as const), base: bodies.valid, changes: bodies.changes }), weight: 6 },
    { arbitrary: junkBody, weight: 2 },
  );
}

/** A request to one route of the catalog: mostly valid, with one or a few parts of it wrong. */
export function caseFor(routeId: string): fc.Arbitrary<FuzzCase> {
  const route = apiRoutes.find((candidate) => candidate.id === routeId)!;
  const spec = routeSpecs[routeId]!;
  const params = Object.fromEntries(Object.entries(spec.params).map(([name, { kind, looksLike }]) => [name, paramChoice(kind, looksLike)]));
  return fc.record({
    route: fc.constant(routeId),
    method: fc.oneof({ arbitrary: fc.constant(route.method), weight: 12 }, { arbitrary: fc.constantFrom(...METHODS), weight: 1 }),
    params: fc.record(params),
    auth,
    key: keyChoice(spec),
    contentType,
    body: bodyChoice(spec),
  });
}

/** A request to any of these routes of the catalog (all of them by default), each as likely as the others. */
export function anyCase(routes: readonly string[] = apiRoutes.map((route) => route.id)): fc.Arbitrary<FuzzCase> {
  const unknown = routes.filter((id) => !apiRoutes.some((route) => route.id === id));
  if (unknown.length > 0) throw new Error(`no such route: ${unknown.join(', ')}`);
  return fc.oneof(...routes.map(caseFor));
}
