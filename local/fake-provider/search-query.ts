import { invalidRequest } from './api-error.ts';
import type { PaymentIntentRecord } from './ledger.ts';

/**
 * The part of Stripe's search query language the PaymentIntent search needs: clauses joined
 * by `AND`, each `metadata['key']:'value'`, `status:'value'`, `currency:'value'`,
 * `amount:value`, or a comparison of `created` or `amount` (`created<1700000000`), a field
 * clause negated by a leading `-` (`-metadata['key']:'value'`: not that value, or no such key); values
 * quoted with ' or " (backslash escapes a quote). Unlike Stripe, whose index lags writes by up to a minute, the fake finds an object as soon as it exists.
 */
export type Predicate = (pi: PaymentIntentRecord) => boolean;

export function parseSearchQuery(query: string): Predicate {
  const clauses: Predicate[] = [];
  let rest = query.trim();
  if (rest === '') throw badQuery(query, 'the query is empty');
  while (rest !== '') {
    const [predicate, after] = readClause(query, rest);
    clauses.push(predicate);
    rest = after.trim();
    if (rest === '') break;
    const and = /^AND\s+/.exec(rest);
    if (and === null) throw badQuery(query, 'only AND is supported between clauses');
    rest = rest.slice(and[0].length);
  }
  return (pi) => clauses.every((matches) => matches(pi));
}

/** Reads one clause from the start of `rest`; returns it and what follows. */
function readClause(query: string, rest: string): [Predicate, string] {
  const comparison = /^(created|amount)(<=|>=|<|>)(\d+)/.exec(rest);
  if (comparison !== null) {
    const field = comparison[1] as 'created' | 'amount';
    return [compare(field, comparison[2] ?? '', Number(comparison[3])), rest.slice(comparison[0].length)];
  }
  if (rest.startsWith('-')) {
    const [predicate, after] = readClause(query, rest.slice(1));
    return [(pi) => !predicate(pi), after];
  }
  const field = /^(metadata\[(['"])((?:\\.|(?!\2).)*)\2\]|[a-z_]+):/.exec(rest);
  if (field === null) throw badQuery(query, `cannot read a clause at "${rest}"`);
  const afterField = rest.slice(field[0].length);
  const value = /^(?:(['"])((?:\\.|(?!\1).)*)\1|([^\s'"]+))/.exec(afterField);
  if (value === null) throw badQuery(query, `missing value for ${field[1]}`);
  const wanted = value[2] === undefined ? (value[3] ?? '') : unescape(value[2]);
  const name = field[3] === undefined ? (field[1] ?? '') : `metadata:${unescape(field[3])}`;
  return [clause(name, wanted, query), afterField.slice(value[0].length)];
}

function clause(field: string, wanted: string, query: string): Predicate {
  if (field.startsWith('metadata:')) {
    const key = field.slice('metadata:'.length);
    return (pi) => pi.metadata[key] === wanted;
  }
  switch (field) {
    case 'status':
      return (pi) => pi.status === wanted;
    case 'currency':
      return (pi) => pi.currency === wanted.toLowerCase();
    case 'amount':
      return (pi) => String(pi.amount) === wanted;
    default:
      throw badQuery(query, `the field ${field} is not supported`);
  }
}

function compare(field: 'created' | 'amount', operator: string, bound: number): Predicate {
  const test: Record<string, (value: number) => boolean> = {
    '<': (value) => value < bound,
    '<=': (value) => value <= bound,
    '>': (value) => value > bound,
    '>=': (value) => value >= bound,
  };
  const holds = test[operator] ?? (() => false);
  return (pi) => holds(pi[field]);
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

function badQuery(query: string, reason: string) {
  return invalidRequest(`Invalid search query "${query}": ${reason}.`, { param: 'query' });
}
