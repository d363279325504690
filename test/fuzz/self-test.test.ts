import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/domain/errors.ts';
import { errorBody } from '../../functions/handlers/api/http.ts';
import { parseBody } from '../../functions/handlers/api/parse-body.ts';
import { createPaymentBody } from '../../functions/handlers/api/payment-schema.ts';
import { type FuzzCase, caseFor } from './cases.ts';
import { FuzzRunner, emptyTouched } from './runner.ts';
import { emptyThings } from './template.ts';

/**
 * The fuzzer's rules can fail: against a small stand-in for `POST /v1/payments` (the real
 * body parser, nothing stored) with one bug planted at a time, a run reports the bug with a
 * seed and path that replay it; with no bug planted, the same run passes.
 */
type Bug = 'none' | 'answers 500 to a lone surrogate' | 'a refused request writes' | 'a payment with metadata never ends' | 'a refused order_no is taken';

const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

function fakeApi(bug: Bug): { server: Server; writes: () => number } {
  let writes = 0;
  const taken = new Set<string>();
  const pending = new Set<string>();
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const answer = (status: number, body: unknown) => response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (request.method === 'GET') return answer(200, { status: pending.has(request.url ?? '') ? 'pending' : 'succeeded' });
    if (request.method !== 'POST') return answer(405, errorBody('method_not_allowed', 'POST only'));
    if (bug === 'answers 500 to a lone surrogate' && LONE_SURROGATE_ESCAPE.test(text)) return answer(500, errorBody('internal_error', 'boom'));
    try {
      const body = parseBody({ body: text, isBase64Encoded: false } as Parameters<typeof parseBody>[0], createPaymentBody);
      if (taken.has(body.order_no)) return answer(409, errorBody('idempotency_key_mismatch', 'taken', 'order_no'));
      const paymentNo = `pay_${String(writes++).padStart(24, '0')}`;
      if (bug === 'a payment with metadata never ends' && Object.keys(body.metadata ?? {}).length > 0) pending.add(`/v1/payments/${paymentNo}`);
      return answer(201, { ...JSON.parse(text), currency: body.currency, payment_no: paymentNo });
    } catch (error) {
      if (bug === 'a refused request writes') writes += 1;
      const orderNo = (JSON.parse(text.startsWith('{') ? text : '{}') as { order_no?: unknown }).order_no;
      if (bug === 'a refused order_no is taken' && typeof orderNo === 'string') taken.add(orderNo);
      const field = error instanceof ValidationError ? error.field : 'body';
      return answer(400, errorBody('validation_failed', 'refused', field));
    }
  });
  return { server, writes: () => writes };
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((server) => server.close()));

async function fuzz(bug: Bug, parameters: fc.Parameters<[FuzzCase]>) {
  const { server, writes } = fakeApi(bug);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const world = { merchant: emptyThings(), other: emptyThings(), runId: 'self-test', sequence: 0, requests: 0 };
  const target = {
    apiUrl,
    apiKeys: { merchant: 'k1', other: 'k2' },
    idle: async () => undefined,
    reconcile: async () => undefined,
    // Each write the stand-in counts is an item that changed.
    scan: async () => new Map([['writes', String(writes())]]),
  };
  const runner = new FuzzRunner(target, world, emptyTouched(), { answerTimeoutMs: 5000, settleTimeoutMs: 300 });
  return fc.check(fc.asyncProperty(caseFor('CreatePayment'), (fuzzCase) => runner.run(fuzzCase)), parameters);
}

describe('the fuzzer', () => {
  it('passes an API that keeps every rule', async () => {
    const result = await fuzz('none', { seed: 7, numRuns: 150 });

    expect(result.failed, fc.defaultReportMessage(result)).toBe(false);
  });

  it.each([
    ['answers 500 to a lone surrogate', 'answered 500'],
    ['a refused request writes', 'wrote 1 item'],
    ['a payment with metadata never ends', 'did not end within'],
    ['a refused order_no is taken', 'corrected retry of a refused CreatePayment answered 409'],
  ] as const)('reports an API that %s, with a seed and path that replay it', async (bug, report) => {
    // Act
    const found = await fuzz(bug, { seed: 7, numRuns: 300 });
    const replayed = await fuzz(bug, { seed: 7, numRuns: 1, ...(found.counterexamplePath !== null && { path: found.counterexamplePath }) });

    // Assess
    expect(found.failed).toBe(true);
    expect(String(found.errorInstance)).toContain(report);
    expect(replayed.failed).toBe(true);
    expect(replayed.counterexample).toEqual(found.counterexample);
  });
});
