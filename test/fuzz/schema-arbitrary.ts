import fc from 'fast-check';
import * as z from 'zod/mini';
import { type Json, isObject, withEntry, withoutEntry } from './json-text.ts';
import { Fresh, Ref, type Template } from './template.ts';
import { anyString, builtinNames, edgeValue } from './values.ts';

/** What a field is drawn from instead of its schema: values the schema cannot say (a currency, an id that exists). */
export type Hints = Readonly<Record<string, fc.Arbitrary<Template>>>;

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  oneOf?: JsonSchema[];
  const?: Json;
  enum?: Json[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

/** Printable text in several scripts, with no lone surrogate: what a valid free-text field holds. */
const text = (minLength: number, maxLength: number) =>
  fc
    .string({ unit: fc.oneof(fc.constantFrom('a', 'Z', '0', ' ', '-', 'é', 'ß', '😀', '\u200f', 'ж', '水'), fc.constantFrom(...'abcxyz')), minLength, maxLength })
    .filter((value) => value.trim() !== '' || minLength === 0);

/** Strings a pattern matches; fast-check cannot build one from a lookahead, so those draw text and keep what matches. */
function matching(pattern: RegExp): fc.Arbitrary<string> {
  try {
    return fc.stringMatching(pattern);
  } catch {
    return fc.oneof(text(1, 40), fc.constantFrom(...builtinNames)).filter((value) => pattern.test(value));
  }
}

/**
 * Values of a JSON Schema (zod's, for the request's input side), with `hints` overriding
 * fields by name. Values are meant to be valid; the caller filters them through the real
 * schema, since refinements (a known currency, an id format) are not in the JSON Schema.
 */
function arbitraryOf(schema: JsonSchema, hints: Hints, field?: string): fc.Arbitrary<Template> {
  if (field !== undefined && hints[field] !== undefined) return hints[field];
  if (schema.oneOf) return fc.oneof(...schema.oneOf.map((branch) => arbitraryOf(branch, hints)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'object': {
      if (schema.properties) {
        const model = Object.fromEntries(
          Object.entries(schema.properties).map(([name, property]) => [name, arbitraryOf(property, hints, name)]),
        );
        return fc.record(model, { requiredKeys: schema.required ?? [] }) as fc.Arbitrary<Template>;
      }
      const value = typeof schema.additionalProperties === 'object' ? arbitraryOf(schema.additionalProperties, hints) : edgeValue;
      return fc
        .array(fc.tuple(arbitraryOf(schema.propertyNames ?? { type: 'string' }, hints), value), { maxLength: 3 })
        .map((entries) => Object.fromEntries(entries));
    }
    case 'string': {
      const minLength = schema.minLength ?? 0;
      const maxLength = Math.min(schema.maxLength ?? 40, 40);
      if (schema.format === 'email') return fc.emailAddress();
      if (schema.pattern) {
        return matching(new RegExp(schema.pattern)).filter(
          (value) => value.length >= minLength && value.length <= (schema.maxLength ?? Infinity),
        );
      }
      return fc.oneof(
        { arbitrary: text(minLength, maxLength), weight: 9 },
        // At the limit, where an off-by-one lives.
        { arbitrary: fc.constant('x'.repeat(schema.maxLength ?? 40)), weight: 1 },
      );
    }
    case 'integer': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1_000_000);
      const max = schema.maximum ?? 1_000_000;
      return fc.oneof(fc.integer({ min, max: Math.min(max, min + 10_000) }), fc.constantFrom(min, max));
    }
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    default:
      return edgeValue;
  }
}

/** What a request's body is checked against: the handler's own parser, returning whether it accepts the body. */
export type Accepts = (body: Json) => boolean;

/** Stand-ins for refs and fresh values, of the right form, so a template can be checked before the world resolves it. */
export function probe(template: Template): Json {
  if (template instanceof Ref) {
    return { payment: `pay_${'0'.repeat(24)}`, refund: `re_${'0'.repeat(24)}`, cart: `cart_${'0'.repeat(24)}`, item: `itm_${'0'.repeat(16)}` }[
      template.kind as string
    ] ?? 'probe-id';
  }
  if (template instanceof Fresh) return 'probe-fresh';
  if (Array.isArray(template)) return template.map(probe);
  if (isObject(template)) return Object.fromEntries(Object.entries(template).map(([key, value]) => [key, probe(value)]));
  return template as Json;
}

/** Valid bodies for a zod schema: drawn from its JSON Schema and hints, kept only when the handler's parser accepts them. */
export function validBodies(schema: z.ZodMiniType, hints: Hints, accepts: Accepts): fc.Arbitrary<Template> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return arbitraryOf(json, hints).filter((body) => accepts(probe(body)));
}

/** The names a schema knows at its top level (all branches of a union). */
export function fieldNames(schema: z.ZodMiniType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const branches = json.oneOf ?? [json];
  return [...new Set(branches.flatMap((branch) => Object.keys(branch.properties ?? {})))];
}

/** One change to a valid body. Data, so that a counterexample prints what was changed. */
export type Mutation =
  | { readonly op: 'set'; readonly path: readonly string[]; readonly value: Template }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'wrap'; readonly as: 'array' | 'string' | 'null' };

/** Keys worth putting in a map: built-in names, bracketed ones, and any string. */
const strangeKey = fc.oneof(
  { arbitrary: fc.constantFrom(...builtinNames), weight: 3 },
  { arbitrary: fc.constantFrom('a[b]', '[0]', 'x]', '[', 'payment_no', 'order_no', 'cart_id', '', ' ', 'k'.repeat(41)), weight: 1 },
  { arbitrary: anyString, weight: 2 },
);

/** Changes to a body with these fields; a map field (`metadata`) gets entries with strange keys. */
export function mutations(fields: readonly string[]): fc.Arbitrary<Mutation> {
  const key = fc.oneof({ arbitrary: fc.constantFrom(...fields), weight: 4 }, { arbitrary: strangeKey, weight: 1 });
  return fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('set' as const), path: key.map((k) => [k]), value: edgeValue }), weight: 6 },
    { arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...fields) }), weight: 2 },
    {
      arbitrary: fc.record({
        op: fc.constant('set' as const),
        path: strangeKey.map((k) => ['metadata', k]),
        value: fc.oneof(anyString, edgeValue),
      }),
      weight: fields.includes('metadata') ? 4 : 0,
    },
    { arbitrary: fc.record({ op: fc.constant('wrap' as const), as: fc.constantFrom('array' as const, 'string' as const, 'null' as const) }), weight: 1 },
  );
}

export function applyMutation(body: Template, mutation: Mutation): Template {
  if (mutation.op === 'wrap') {
    if (mutation.as === 'array') return [body];
    return mutation.as === 'null' ? null : JSON.stringify(probe(body));
  }
  const target = isObject(body) ? (body as Record<string, Template>) : {};
  if (mutation.op === 'delete') return withoutEntry(target as Record<string, Json>, mutation.key);
  const [head, ...rest] = mutation.path as [string, ...string[]];
  if (rest.length === 0) return withEntry(target as Record<string, Json>, head, mutation.value as Json);
  const inner = isObject(target[head]) ? (target[head] as Template) : {};
  return withEntry(target as Record<string, Json>, head, applyMutation(inner, { ...mutation, path: rest }) as Json);
}
