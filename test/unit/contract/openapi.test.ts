import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiRoutes } from '../../../functions/catalog.ts';
import { openApiDocument, openApiText } from '../../../functions/contract/openapi.ts';
import { contractOf } from '../../support/contract.ts';

const committed = () => readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8');

const payment = {
  payment_no: 'pay_0123456789abcdef01234567',
  capture_method: 'automatic',
  order_no: 'order-1',
  amount: 1999,
  currency: 'USD',
  status: 'succeeded',
  amount_captured: 1999,
  amount_refunded: 0,
  created_at: '2026-12-02T10:00:00.000Z',
  updated_at: '2026-12-02T10:00:01.000Z',
};
const created = { method: 'POST', path: '/v1/payments', status: 201, contentType: 'application/json', answer: payment };
const paymentRequest = { order_no: 'order-1', amount: 1999, currency: 'USD', payment_method: 'pm_card_visa' };

describe('the OpenAPI document', () => {
  it('is committed as the code generates it', () => {
    // Act
    const generated = openApiText();

    // Assess
    expect(committed() === generated, 'openapi.json differs from the code: run `npm run openapi` and commit openapi.json').toBe(true);
  });

  it('has an operation for every route of the catalog, under the route’s id', () => {
    // Act
    const { paths } = openApiDocument() as { paths: Record<string, Record<string, { operationId: string }>> };

    // Assess
    for (const route of apiRoutes) {
      expect(paths[route.path]?.[route.method.toLowerCase()]?.operationId, `${route.method} ${route.path}`).toBe(route.id);
    }
    expect(Object.values(paths).flatMap((methods) => Object.keys(methods))).toHaveLength(apiRoutes.length);
  });

  it('asks every route but the contract itself for an API key, and lists the authorizer’s 401 and 403 on them', () => {
    // Act
    const { paths, security } = openApiDocument() as { paths: Record<string, Record<string, any>>; security: unknown };

    // Assess
    expect(security).toEqual([{ apiKey: [] }]);
    for (const route of apiRoutes) {
      const operation = paths[route.path]![route.method.toLowerCase()];
      expect(operation.security, route.id).toEqual(route.public ? [] : undefined);
      expect(Object.keys(operation.responses).filter((status) => ['401', '403'].includes(status)), route.id).toEqual(route.public ? [] : ['401', '403']);
    }
  });
});

describe('the contract check', () => {
  const contract = contractOf();

  it('passes an exchange the document describes', () => {
    expect(contract.problemsOf({ ...created, body: paymentRequest })).toEqual([]);
  });

  it('fails an answer with a field the document does not have, or without one it requires', () => {
    // Act
    const extra = contract.problemsOf({ ...created, answer: { ...payment, surprise: 1 } });
    const { amount: _amount, ...missing } = payment;
    const short = contract.problemsOf({ ...created, answer: missing });

    // Assess
    expect(extra.join()).toMatch(/does not match CreatePayment's 201.*additionalProperty.*surprise/);
    expect(short.join()).toMatch(/does not match CreatePayment's 201.*amount/);
  });

  it('fails a status the operation does not list, and an error not in the error format', () => {
    // Act
    const status = contract.problemsOf({ ...created, status: 204 });
    const error = contract.problemsOf({ ...created, status: 400, answer: { message: 'bad' } });

    // Assess
    expect(status.join()).toMatch(/status 204 is not among CreatePayment's answers/);
    expect(error.join()).toMatch(/does not match CreatePayment's 400/);
  });

  it('fails a request the stack accepted that the document refuses, and lets a refused one be', () => {
    // Act
    const accepted = contract.problemsOf({ ...created, body: { ...paymentRequest, amount: 'ten' } });
    const refused = contract.problemsOf({ ...created, body: { ...paymentRequest, amount: 'ten' }, status: 400, answer: { error: { code: 'validation_failed', message: 'bad', field: 'amount' } } });
    const query = contract.problemsOf({ method: 'GET', path: '/v1/payments?limit=500&colour=red', status: 200, contentType: 'application/json', answer: { object: 'list', url: '/v1/payments', has_more: false, data: [] } });

    // Assess
    expect(accepted.join()).toMatch(/request body the stack accepted does not match/);
    expect(refused).toEqual([]);
    expect(query.join()).toMatch(/limit=500 does not match/);
    expect(query.join()).toMatch(/query parameter colour is not in the document/);
  });

  it('fails a route the catalog has and the document lacks', () => {
    // Prepare: the document as it was before GET /v1/settings was described.
    const doc = structuredClone(openApiDocument()) as any;
    delete doc.paths['/v1/settings'].get;
    const stale = contractOf(doc);

    // Act
    const problems = stale.problemsOf({ method: 'GET', path: '/v1/settings', status: 200, contentType: 'application/json', answer: { object: 'settings', point_value: 1, cart_hold_seconds: 1800 } });

    // Assess
    expect(problems.join()).toMatch(/no operation GET \/v1\/settings, yet the stack accepted it/);
  });
});
