import { invalidParameter } from './api-error.ts';
import type { ParamValue, Params } from './form.ts';

/**
 * Reading typed values out of form params, with Stripe's wording when one is missing or
 * malformed, so a mistake in the adapter fails against the fake the way it would against
 * Stripe instead of passing silently. A refusal here is parameter validation: the endpoint
 * never ran, and nothing is kept for the request's idempotency key.
 */
export function rejectUnknown(params: Params, allowed: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) throw invalidParameter(`Received unknown parameter: ${key}`, { code: 'parameter_unknown', param: key });
  }
}

export function optionalString(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidParam(name, 'a string');
  return value;
}

export function requiredString(params: Params, name: string): string {
  const value = optionalString(params, name);
  if (value === undefined || value === '') throw missing(name);
  return value;
}

export function optionalInteger(params: Params, name: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number | undefined {
  const raw = optionalString(params, name);
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw)) {
    throw invalidParameter(`Invalid integer: ${raw}`, { code: 'parameter_invalid_integer', param: name });
  }
  const value = Number(raw);
  if (value < min) throw invalidParameter(`This value must be greater than or equal to ${min}.`, { code: 'parameter_invalid_integer', param: name });
  if (value > max) throw invalidParameter(`This value must be less than or equal to ${max}.`, { code: 'parameter_invalid_integer', param: name });
  return value;
}

export function requiredInteger(params: Params, name: string, bounds: { min?: number; max?: number } = {}): number {
  const value = optionalInteger(params, name, bounds);
  if (value === undefined) throw missing(name);
  return value;
}

export function optionalBoolean(params: Params, name: string): boolean | undefined {
  const raw = optionalString(params, name);
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false') throw invalidParam(name, 'a boolean');
  return raw === 'true';
}

export function optionalEnum<T extends string>(params: Params, name: string, values: readonly T[]): T | undefined {
  const raw = optionalString(params, name);
  if (raw === undefined) return undefined;
  if (!(values as readonly string[]).includes(raw)) {
    throw invalidParameter(`Invalid ${name}: must be one of ${values.join(', ')}`, { code: 'parameter_invalid_string', param: name });
  }
  return raw as T;
}

/** Stripe's limits: 50 keys, keys up to 40 characters without square brackets, values up to 500. */
export function metadata(params: Params): Record<string, string> {
  const value = params['metadata'];
  if (value === undefined || value === '') return {};
  if (typeof value === 'string' || Array.isArray(value)) throw invalidParam('metadata', 'an object');
  const entries = Object.entries(value);
  if (entries.length > 50) throw invalidParameter('Metadata can have up to 50 keys.', { param: 'metadata' });
  const result: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (typeof item !== 'string') throw invalidParam(`metadata[${key}]`, 'a string');
    if (key.length > 40) throw invalidParameter('Metadata keys can be up to 40 characters long.', { param: `metadata[${key}]` });
    if (/[[\]]/.test(key)) throw invalidParameter('Metadata keys cannot contain square brackets ([ or ]).', { param: 'metadata' });
    if (item.length > 500) throw invalidParameter('Metadata values can be up to 500 characters long.', { param: `metadata[${key}]` });
    result[key] = item;
  }
  return result;
}

/** The `expand[]` list, checked against what the endpoint can expand. */
export function expansions(params: Params, expandable: readonly string[]): Set<string> {
  const value: ParamValue | undefined = params['expand'];
  if (value === undefined) return new Set();
  const list = Array.isArray(value) ? value : [value];
  const result = new Set<string>();
  for (const item of list) {
    if (typeof item !== 'string') throw invalidParam('expand', 'an array of strings');
    if (!expandable.includes(item)) throw invalidParameter(`This property cannot be expanded (${item}).`, { param: 'expand' });
    result.add(item);
  }
  return result;
}

function missing(name: string) {
  return invalidParameter(`Missing required param: ${name}.`, { code: 'parameter_missing', param: name });
}

function invalidParam(name: string, expected: string) {
  return invalidParameter(`Invalid ${name}: must be ${expected}`, { code: 'parameter_invalid_string', param: name });
}
