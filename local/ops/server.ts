/**
 * The ops page of the local stack (`npm start` prints its URL): plain files from `page/`, and a
 * small JSON API that only this machine serves, over the stack's own API, Step Functions, fake
 * provider and metrics (views.ts):
 *
 *   GET  /api/lists             payments, refunds, carts and payouts, newest first
 *   GET  /api/payments/{no}     a payment, its saga's executions and states, the provider's view
 *   GET  /api/counters          the functions' metrics, summed
 *   GET  /api/controls          what the run form offers: test cards, crash points, provider faults
 *   POST /api/payments          runs one payment: {payment_method, amount, currency, crash_point?, fault?}
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { z } from 'zod';
import { type CrashPoint, pointsOf } from '../../functions/crash/crash-points.ts';
import { armFaults } from '../fake-provider/client.ts';
import { type ProviderFault, authorizeFaults, captureFaults, providerFaults } from '../fake-provider/named-faults.ts';
import { testPaymentMethodIds } from '../fake-provider/test-cards.ts';
import { listen } from '../services/listen.ts';
import { type OpsStack, OpsViews } from './views.ts';

export interface OpsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The functions a card payment runs through, in its order, whose crash points the form offers. */
const PAYMENT_CRASH_POINTS: readonly CrashPoint[] = (
  ['create-payment', 'authorize', 'record-authorization', 'capture', 'mark-succeeded', 'void-authorization', 'mark-failed', 'reconciler'] as const
).flatMap((fn) => pointsOf(fn));
const PAYMENT_FAULTS: readonly ProviderFault[] = [...authorizeFaults, ...captureFaults];

const RunPaymentSchema = z.strictObject({
  payment_method: z.enum(testPaymentMethodIds as [string, ...string[]]),
  amount: z.int().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  crash_point: z.enum(PAYMENT_CRASH_POINTS as [CrashPoint, ...CrashPoint[]]).optional(),
  fault: z.enum(PAYMENT_FAULTS as [ProviderFault, ...ProviderFault[]]).optional(),
});
type RunPayment = z.infer<typeof RunPaymentSchema>;

const PAGE_DIR = path.join(import.meta.dirname, 'page');
const PAGE_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ops.js': { file: 'ops.js', type: 'text/javascript; charset=utf-8' },
  '/ops.css': { file: 'ops.css', type: 'text/css; charset=utf-8' },
};

export async function startOpsServer(options: { readonly stack: OpsStack; readonly port: number; readonly host?: string }): Promise<OpsServer> {
  const views = new OpsViews(options.stack);
  const server = createServer((request, response) => {
    handle(views, options.stack, request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port, host);
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(views: OpsViews, stack: OpsStack, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { pathname } = new URL(request.url ?? '/', 'http://ops.invalid');
  const method = request.method ?? 'GET';
  const page = PAGE_FILES[pathname];
  if (page !== undefined && method === 'GET') {
    response.writeHead(200, { 'Content-Type': page.type, 'Cache-Control': 'no-store' });
    response.end(await readFile(path.join(PAGE_DIR, page.file)));
    return;
  }
  const payment = /^\/api\/payments\/([^/]+)$/.exec(pathname);
  if (method === 'GET' && pathname === '/api/lists') return sendJson(response, 200, await views.lists());
  if (method === 'GET' && pathname === '/api/counters') return sendJson(response, 200, { metrics: views.metrics() });
  if (method === 'GET' && pathname === '/api/controls') {
    return sendJson(response, 200, { cards: testPaymentMethodIds, crashPoints: PAYMENT_CRASH_POINTS, faults: PAYMENT_FAULTS });
  }
  if (method === 'GET' && payment !== null) {
    const { status, body } = await views.payment(decodeURIComponent(payment[1]!));
    return sendJson(response, status, body);
  }
  if (method === 'POST' && pathname === '/api/payments') {
    // Only this page's script sends JSON: another site's form cannot (a cross-origin JSON POST
    // needs a preflight this server never grants), so no page elsewhere runs payments here.
    if (request.headers['content-type'] !== 'application/json') return sendJson(response, 415, { error: 'send application/json' });
    const parsed = RunPaymentSchema.safeParse(await readJson(request));
    if (!parsed.success) return sendJson(response, 400, { error: z.prettifyError(parsed.error) });
    return sendJson(response, 200, await runPayment(views, stack, parsed.data));
  }
  sendJson(response, 404, { error: `no ${method} ${pathname} here` });
}

/**
 * Arms what the person chose, the way the crash matrix and the demo do (`CRASH_AT` on the stack,
 * a fault rule at the fake provider), then creates the payment through the API. The crash point
 * strikes its next crossing anywhere in the stack; a run without one disarms any left armed. A
 * request that died with its function (502) is sent again, as a client retries.
 */
async function runPayment(views: OpsViews, stack: OpsStack, run: RunPayment) {
  stack.setCrashAt(run.crash_point === undefined ? undefined : `${run.crash_point}#ops-${randomUUID()}`);
  if (run.fault !== undefined) await armFaults(stack.providerUrl, providerFaults[run.fault]);
  const order = { order_no: `ops-${Date.now()}-${randomUUID().slice(0, 8)}`, amount: run.amount, currency: run.currency, payment_method: run.payment_method };
  const answers = [await views.api('POST', '/v1/payments', order)];
  if (answers[0]!.status === 502) answers.push(await views.api('POST', '/v1/payments', order));
  const last = answers.at(-1)!;
  const paymentNo = (last.body as { payment_no?: string } | null)?.payment_no;
  return { order_no: order.order_no, ...(paymentNo !== undefined && { payment_no: paymentNo }), answers: answers.map((answer) => answer.status), body: last.body };
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  response.end(text);
}
