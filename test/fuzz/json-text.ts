import { toStringMethod } from 'fast-check';

/**
 * A number exactly as it is written in the JSON text (`1e400`, `-0`, `1.0`): JSON.stringify
 * cannot write them, and they are what a parser sees from other clients.
 */
export class RawNumber {
  constructor(readonly text: string) {}
  [toStringMethod]() {
    return `raw(${this.text})`;
  }
}

/** A JSON value as the fuzzer sends it: plain JSON plus numbers written as raw text. */
export type Json = null | boolean | number | string | RawNumber | Json[] | { [key: string]: Json };

export const isObject = (value: unknown): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RawNumber);

/**
 * The object with `key` set to `value`, as an own data property even when the key is
 * `__proto__` (an assignment would set the prototype instead and send nothing).
 */
export function withEntry(object: Record<string, Json>, key: string, value: Json): Record<string, Json> {
  return Object.fromEntries([...Object.entries(object).filter(([k]) => k !== key), [key, value]]);
}

export function withoutEntry(object: Record<string, Json>, key: string): Record<string, Json> {
  return Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));
}

/** JSON text of a value; strings keep lone surrogates as `\udXXX` escapes, as JSON.stringify writes them. */
export function jsonText(value: Json): string {
  if (value instanceof RawNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (isObject(value)) {
    // As JSON.stringify does: a field set to undefined is not sent.
    return `{${Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => `${JSON.stringify(key)}:${jsonText(item)}`)
      .join(',')}}`;
  }
  // Not finite numbers have no JSON form; JSON.stringify writes `null` for them.
  return JSON.stringify(value);
}
