/**
 * Stripe's wire format for parameters: `application/x-www-form-urlencoded` with bracket
 * notation, `metadata[payment_no]=P-1`, `expand[0]=latest_charge` (the SDK indexes arrays)
 * or `expand[]=latest_charge` (curl users do not).
 */
export type ParamValue = string | Params | ParamValue[];
export interface Params {
  [key: string]: ParamValue;
}

/** Parses a form body or a query string (without the leading `?`) into nested params. */
export function parseParams(encoded: string): Params {
  const root: Params = {};
  for (const [rawKey, value] of new URLSearchParams(encoded)) {
    const path = keyPath(rawKey);
    let node: Params = root;
    path.forEach((segment, index) => {
      const last = index === path.length - 1;
      const key = segment === '' ? String(Object.keys(node).length) : segment;
      if (last) {
        node[key] = value;
        return;
      }
      const child = node[key];
      if (child === undefined || typeof child === 'string' || Array.isArray(child)) {
        const fresh: Params = {};
        node[key] = fresh;
        node = fresh;
      } else {
        node = child;
      }
    });
  }
  return arraysFromIndexedObjects(root) as Params;
}

function keyPath(rawKey: string): string[] {
  const open = rawKey.indexOf('[');
  if (open <= 0) return [rawKey];
  const segments = [rawKey.slice(0, open)];
  for (const match of rawKey.slice(open).matchAll(/\[([^\]]*)\]/g)) segments.push(match[1] ?? '');
  // Brackets that do not nest cleanly (`metadata[a[b]]`, `metadata[x]]`) belong to one name
  // under the parent, kept as written, so the checks on that name see them.
  const brackets = rawKey.slice(open);
  if (segments.slice(1).map((segment) => `[${segment}]`).join('') !== brackets) {
    return [segments[0]!, brackets.slice(1, brackets.endsWith(']') ? -1 : undefined)];
  }
  return segments;
}

/** `{0: 'a', 1: 'b'}` becomes `['a', 'b']`, so `expand[0]` and `expand[]` read the same. */
function arraysFromIndexedObjects(value: ParamValue): ParamValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: Params = {};
  for (const key of keys) converted[key] = arraysFromIndexedObjects(value[key] as ParamValue);
  const indexed = keys.length > 0 && keys.every((key) => /^\d+$/.test(key));
  if (!indexed) return converted;
  return keys
    .sort((a, b) => Number(a) - Number(b))
    .map((key) => converted[key] as ParamValue);
}

/** A stable rendering of params, so a replayed request can be compared with the first one. */
export function canonicalParams(params: Params): string {
  return JSON.stringify(sortKeys(params));
}

function sortKeys(value: ParamValue): ParamValue {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(sortKeys);
  const sorted: Params = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key] as ParamValue);
  return sorted;
}
