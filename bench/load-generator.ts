/**
 * The sending side of `npm run load`, in a process of its own (forked by bench/load.ts) so its
 * CPU is measured apart from the stack's. Open model: request i leaves at i / rate seconds
 * whatever became of the ones before it, and its latency counts from then, so a stack that falls
 * behind shows as latency, never as a lower rate sent.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { type LoadAnswer, type LoadOperation, type Mix, dueAtMs, operationSequence, secondFigures } from './load-plan.ts';

/** What the requests act on, made before the run by bench/load.ts. */
export interface LoadWorld {
  /** Payments that succeeded, each with the request that made it: duplicates and GETs read them. */
  readonly payments: readonly { readonly paymentNo: string; readonly idempotencyKey: string; readonly body: Record<string, unknown> }[];
  /** Payments with room for a refund of a cent per request. */
  readonly refundable: readonly string[];
  /** Open carts, each of an account with a swimmer, and the class they register for. */
  readonly carts: readonly { readonly cartId: string; readonly swimmerId: string }[];
  readonly classId: string;
}

export interface GeneratorOrder {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly rate: number;
  readonly durationS: number;
  readonly mix: Mix;
  readonly world: LoadWorld;
  /** How long to wait for the last answers once every request was sent. */
  readonly drainMs: number;
  /** Connections kept open to the API, at most. */
  readonly connections: number;
}

export type GeneratorMessage =
  | { readonly kind: 'second'; readonly figures: ReturnType<typeof secondFigures>; readonly inFlight: number }
  | { readonly kind: 'done'; readonly answers: LoadAnswer[]; readonly created: string[]; readonly unanswered: number; readonly cpuMs: number };

/** How often the scheduler looks at the clock: requests due meanwhile leave together, timed from when they were due. */
const TICK_MS = 2;

async function generate(order: GeneratorOrder, report: (message: GeneratorMessage) => void): Promise<void> {
  const { world } = order;
  const nextOperation = operationSequence(order.mix);
  const answers: LoadAnswer[] = [];
  const created: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const total = Math.round(order.rate * order.durationS);
  const dueBySecond = new Map<number, number>();
  let sent = 0;
  let picks = 0;
  const pick = <T>(items: readonly T[]): T => items[picks++ % items.length]!;
  /** Carts with a request in flight wait; one with a registration held takes it out next. */
  const cartItems = new Map<string, string | undefined>();
  const busyCarts = new Set<string>();

  const url = new URL(order.apiUrl);
  const transport = url.protocol === 'https:' ? https : http;
  // Kept-alive connections, at most `connections` of them: past that, requests wait for one in
  // the sender (their latency counts from when they were due all the same). A socket per request
  // ran out of file descriptors at 1,000 requests/s and spent the sender's CPU on handshakes.
  const agent = new transport.Agent({ keepAlive: true, maxSockets: order.connections });
  const basePath = url.pathname.replace(/\/$/, '');
  const call = (method: string, route: string, body?: unknown, idempotencyKey?: string) =>
    new Promise<{ status: number; body: { error?: { code?: string } } & Record<string, unknown> }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request = transport.request(
        {
          agent,
          method,
          hostname: url.hostname,
          port: url.port,
          path: `${basePath}${route}`,
          headers: {
            Authorization: `Bearer ${order.apiKey}`,
            'Content-Type': 'application/json',
            ...(payload !== undefined && { 'Content-Length': Buffer.byteLength(payload) }),
            ...(idempotencyKey !== undefined && { 'Idempotency-Key': idempotencyKey }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            let parsed = {};
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
            } catch {
              // a body that is not JSON (a gateway's own error page): the status says enough
            }
            resolve({ status: response.statusCode ?? 0, body: parsed });
          });
        },
      );
      request.on('error', reject);
      request.end(payload);
    });

  const requests: Record<LoadOperation, (index: number) => ReturnType<typeof call>> = {
    async new(index) {
      const orderNo = `load-${process.pid}-${index}`;
      const answer = await call('POST', '/v1/payments', { order_no: orderNo, amount: 1999, currency: 'USD', payment_method: 'pm_card_visa' }, `load-${process.pid}-${index}`);
      if (typeof answer.body['payment_no'] === 'string') created.push(answer.body['payment_no']);
      return answer;
    },
    duplicate() {
      const payment = pick(world.payments);
      return call('POST', '/v1/payments', payment.body, payment.idempotencyKey);
    },
    get() {
      return call('GET', `/v1/payments/${pick(world.payments).paymentNo}`);
    },
    refund(index) {
      return call('POST', '/v1/refunds', { payment_no: pick(world.refundable), amount: 1, operator_id: 'load' }, `load-refund-${process.pid}-${index}`);
    },
    async cart() {
      const cart = world.carts.find((c) => !busyCarts.has(c.cartId));
      // Every cart busy: the edit goes to one anyway, and the cart's version conflict is its answer.
      const { cartId, swimmerId } = cart ?? pick(world.carts);
      busyCarts.add(cartId);
      try {
        const itemId = cartItems.get(cartId);
        if (itemId !== undefined) {
          const answer = await call('DELETE', `/v1/carts/${cartId}/items/${itemId}`);
          if (answer.status === 200) cartItems.set(cartId, undefined);
          return answer;
        }
        const answer = await call('POST', `/v1/carts/${cartId}/items`, { action: 'register', swimmer_id: swimmerId, class_id: world.classId });
        const items = answer.body['items'] as { item_id: string }[] | undefined;
        if (answer.status === 200 && items?.length) cartItems.set(cartId, items.at(-1)!.item_id);
        return answer;
      } finally {
        busyCarts.delete(cartId);
      }
    },
  };

  const send = (index: number, op: LoadOperation, dueMs: number, startedAt: number) => {
    const request = requests[op](index).then(
      ({ status, body }) => ({ status, outcome: status < 300 ? String(status) : `${status} ${body.error?.code ?? ''}`.trimEnd() }),
      (error: unknown) => ({ status: 0, outcome: `0 ${(error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error))}` }),
    );
    const done = request.then(({ status, outcome }) => {
      answers.push({ op, dueMs, latencyMs: performance.now() - startedAt - dueMs, status, outcome });
      inFlight.delete(done);
    });
    inFlight.add(done);
  };

  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  let reportedSeconds = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - startedAt;
      while (sent < total && dueAtMs(sent, order.rate) <= elapsed) {
        const dueMs = dueAtMs(sent, order.rate);
        const second = Math.floor(dueMs / 1000) + 1;
        dueBySecond.set(second, (dueBySecond.get(second) ?? 0) + 1);
        send(sent, nextOperation(), dueMs, startedAt);
        sent += 1;
      }
      // A second is reported once it is over and another has passed for its answers to come.
      const over = Math.floor(elapsed / 1000) - 1;
      while (reportedSeconds < Math.min(over, order.durationS)) {
        reportedSeconds += 1;
        report({ kind: 'second', figures: secondFigures(reportedSeconds, dueBySecond.get(reportedSeconds) ?? 0, answers), inFlight: inFlight.size });
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const drained = Promise.allSettled([...inFlight]);
  await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, order.drainMs).unref())]);
  while (reportedSeconds < order.durationS) {
    reportedSeconds += 1;
    report({ kind: 'second', figures: secondFigures(reportedSeconds, dueBySecond.get(reportedSeconds) ?? 0, answers), inFlight: inFlight.size });
  }
  const { user, system } = process.cpuUsage(cpuAtStart);
  agent.destroy();
  report({ kind: 'done', answers, created, unanswered: inFlight.size, cpuMs: (user + system) / 1000 });
}

process.once('message', (order: GeneratorOrder) => {
  let sending = Promise.resolve();
  // Each message queued behind the last: the report of a long run is large, and must be on its way before the channel closes.
  const report = (message: GeneratorMessage) => {
    sending = sending.then(() => new Promise<void>((resolve, reject) => process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve()))));
  };
  generate(order, report).then(
    () => sending.then(() => process.disconnect()),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
