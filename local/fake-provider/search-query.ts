import { invalidRequest } from './api-error.ts';
import type { PaymentIntentRecord } from './ledger.ts';

/**
 * The part of Stripe's search query language the PaymentIntent search needs: clauses joined
 * by `AND`, each `metadata['key']:'value'`, `status:'value'`, `currency:'value'` or
 * `amount:value`, values quoted with ' or " (backslash escapes a quote). Unlike Stripe,
 * whose index lags writes by up to a minute, the fake finds an object as soon as it exists.
 */
export type Predicate = (pi: PaymentIntentRecord) => boolean;

export function parseSearchQuery(query: string): Predicate {
  const clauses: Predicate[] = [];
  let rest = query.trim();
  if (rest === '') throw badQuery(query, 'the query is empty');
  while (rest !== '') {
    const field = /^(metadata\[(['"])((?:\\.|(?!\2).)*)\2\]|[a-z_]+):/.exec(rest);
    if (field === null) throw badQuery(query, `cannot read a clause at "${rest}"`);
    rest = rest.slice(field[0].length);
    const value = /^(?:(['"])((?:\\.|(?!\1).)*)\1|([^\s'"]+))/.exec(rest);
    if (value === null) throw badQuery(query, `missing value for ${field[1]}`);
    rest = rest.slice(value[0].length).trim();
    const wanted = value[2] === undefined ? (value[3] ?? '') : unescape(value[2]);
    clauses.push(clause(field[3] === undefined ? (field[1] ?? '') : `metadata:${unescape(field[3])}`, wanted, query));
    if (rest === '') break;
    const and = /^AND\s+/.exec(rest);
    if (and === null) throw badQuery(query, 'only AND is supported between clauses');
    rest = rest.slice(and[0].length);
  }
  return (pi) => clauses.every((matches) => matches(pi));
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

function unescape(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

function badQuery(query: string, reason: string) {
  return invalidRequest(`Invalid search query "${query}": ${reason}.`, { param: 'query' });
}
