import { randomUUID } from 'node:crypto';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMerchant, newMerchantId } from '../../bin/merchants.ts';
import { localClientConfig } from '../../local/services/dynamodb-local.ts';
import { stackEventViolations } from '../support/invariants/events.ts';
import { api, paymentBody, target, waitForRefunds, waitForTerminal } from '../support/target.ts';

/**
 * The receiver's check, as the README (Webhooks) shows it: the HMAC of `<t>.<raw body>` under
 * the endpoint's secret, compared in constant time, and `t` within five minutes of our clock.
 */
function verify(header: string | undefined, rawBody: string, secret: string, toleranceSeconds = 300): boolean {
  const fields = Object.fromEntries((header ?? '').split(',').map((part) => part.split('=', 2)));
  const t = Number(fields.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds || typeof fields.v1 !== 'string') return false;
  const expected = createHmac('sha256', secret).update(`${fields.t}.${rawBody}`).digest();
  const given = Buffer.from(fields.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly event: { id: string; type: string; created: number; data: { object: Record<string, unknown> } };
}

/** A merchant's receiver on 127.0.0.1: every POST recorded; a path answers the statuses queued for it, then 200. */
class Receiver {
  readonly received: Received[] = [];
  private readonly answers = new Map<string, number[]>();
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const path = request.url ?? '/';
        this.received.push({ path, headers: request.headers, raw, event: JSON.parse(raw) });
        response.statusCode = this.answers.get(path)?.shift() ?? 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  answer(path: string, ...statuses: number[]): void {
    this.answers.set(path, statuses);
  }

  at(path: string): Received[] {
    return this.received.filter((delivery) => delivery.path === path);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function tableOf() {
  const table = target().table;
  if (table === undefined) throw new Error('the webhook tests need the stack’s table (the local stack gives it)');
  return table;
}

/** A merchant of this file alone: its events are only this file's. */
async function newMerchant(): Promise<{ merchantId: string; key: string }> {
  const table = tableOf();
  const client = new DynamoDBClient({ ...localClientConfig, endpoint: table.endpoint });
  try {
    const merchantId = newMerchantId();
    return { merchantId, key: (await createMerchant({ tableName: table.name, name: 'Webhooks', merchantId, client })).apiKey };
  } finally {
    client.destroy();
  }
}

const receiver = new Receiver();
let key: string;
let merchantId: string;
const register = (body: Record<string, unknown>, as = key) => api('POST', '/v1/webhook_endpoints', body, { key: as });

async function paidAndRefunded(): Promise<{ paymentNo: string; refundNo: string }> {
  const created = await api('POST', '/v1/payments', paymentBody({ amount: 2500 }), { key });
  const paymentNo = created.body.payment_no as string;
  await waitForTerminal(paymentNo, { key });
  const refund = await api('POST', '/v1/refunds', { payment_no: paymentNo, amount: 500, operator_id: 'op-webhooks' }, { key });
  expect(refund.status).toBe(201);
  await waitForRefunds(paymentNo, { key });
  return { paymentNo, refundNo: refund.body.refund_no as string };
}

beforeAll(async () => {
  await receiver.start();
  ({ key, merchantId } = await newMerchant());
});

afterAll(async () => {
  await receiver.stop();
  // The shared invariant, on this file's merchant (other files' records may still be on the stream), once its stream is delivered.
  const holds = async () => ((await stackEventViolations(tableOf(), merchantId)).length === 0 ? true : undefined);
  await eventually('one event per transition', holds, 15_000).catch(async () =>
    expect(await stackEventViolations(tableOf(), merchantId), 'one event per transition').toEqual([]),
  );
});

describe('webhook endpoints', () => {
  it('registers an endpoint, shows its secret once, lists it without it, and deletes it', async () => {
    // Act
    const created = await register({ url: receiver.url('/registered'), enabled_events: ['payment.succeeded'], description: 'orders' });
    const listed = await api('GET', '/v1/webhook_endpoints', undefined, { key });
    const deleted = await api('DELETE', `/v1/webhook_endpoints/${created.body.id}`, undefined, { key });
    const again = await api('DELETE', `/v1/webhook_endpoints/${created.body.id}`, undefined, { key });

    // Assess
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^we_/), url: receiver.url('/registered'), enabled_events: ['payment.succeeded'] });
    expect(created.body.secret).toMatch(/^whsec_/);
    expect(listed.body.data).toEqual([expect.objectContaining({ id: created.body.id, description: 'orders' })]);
    expect(listed.body.data[0]).not.toHaveProperty('secret');
    expect(deleted.body).toEqual({ id: created.body.id, object: 'webhook_endpoint', deleted: true });
    expect(again.status).toBe(404);
  });

  it('refuses a URL that is not https (or loopback http here) and an unknown event type, naming the field', async () => {
    // Act
    const plainHttp = await register({ url: 'http://example.com/hook', enabled_events: ['*'] });
    const notUrl = await register({ url: 'not a url', enabled_events: ['*'] });
    const unknown = await register({ url: receiver.url('/x'), enabled_events: ['payment.succeeded', 'payment.exploded'] });
    const none = await register({ url: receiver.url('/x'), enabled_events: [] });

    // Assess
    expect([plainHttp, notUrl, unknown, none].map((r) => r.status)).toEqual([400, 400, 400, 400]);
    expect(plainHttp.body.error).toMatchObject({ code: 'validation_failed', field: 'url' });
    expect(notUrl.body.error).toMatchObject({ field: 'url' });
    expect(unknown.body.error).toMatchObject({ field: 'enabled_events.1' });
    expect(none.body.error).toMatchObject({ field: 'enabled_events' });
  });

  it('keeps another merchant from deleting an endpoint', async () => {
    // Prepare
    const created = await register({ url: receiver.url('/mine'), enabled_events: ['*'] });

    // Act
    const theirs = await api('DELETE', `/v1/webhook_endpoints/${created.body.id}`, undefined, { key: target().otherApiKey });

    // Assess
    expect(theirs.status).toBe(404);
    await api('DELETE', `/v1/webhook_endpoints/${created.body.id}`, undefined, { key });
  });

  it('makes one endpoint per Idempotency-Key: a repeat replays it, secret and all; another body under the key is refused', async () => {
    // Prepare
    const body = { url: receiver.url('/keyed'), enabled_events: ['payment.succeeded'] };
    const headers = { 'Idempotency-Key': `endpoint-${randomUUID()}` };

    // Act
    const first = await api('POST', '/v1/webhook_endpoints', body, { key, headers });
    const repeat = await api('POST', '/v1/webhook_endpoints', body, { key, headers });
    const changed = await api('POST', '/v1/webhook_endpoints', { ...body, enabled_events: ['*'] }, { key, headers });
    const listed = await api('GET', '/v1/webhook_endpoints', undefined, { key });

    // Assess
    expect([first.status, repeat.status, changed.status]).toEqual([201, 200, 409]);
    expect(repeat.headers.get('Idempotent-Replayed')).toBe('true');
    expect(repeat.body).toEqual(first.body);
    expect(changed.body.error).toMatchObject({ code: 'idempotency_key_mismatch', field: 'enabled_events' });
    expect(listed.body.data.filter((e: { url: string }) => e.url === body.url)).toHaveLength(1);
    await api('DELETE', `/v1/webhook_endpoints/${first.body.id}`, undefined, { key });
  });

  it('makes an endpoint per request sent without an Idempotency-Key, as Stripe does', async () => {
    // Prepare
    const body = { url: receiver.url('/unkeyed'), enabled_events: ['payment.succeeded'] };

    // Act
    const made = [await register(body), await register(body)];

    // Assess
    expect(made.map((r) => r.status)).toEqual([201, 201]);
    expect(made[0]!.body.id).not.toBe(made[1]!.body.id);
    for (const { body: endpoint } of made) await api('DELETE', `/v1/webhook_endpoints/${endpoint.id}`, undefined, { key });
  });
});

describe('webhook deliveries', () => {
  let secret: string;
  let endpointId: string;
  let flakyId: string;
  let ids: { paymentNo: string; refundNo: string };

  beforeAll(async () => {
    receiver.answer('/flaky', 500);
    const all = await register({ url: receiver.url('/all'), enabled_events: ['*'] });
    const flaky = await register({ url: receiver.url('/flaky'), enabled_events: ['refund.succeeded'] });
    secret = all.body.secret;
    endpointId = all.body.id;
    flakyId = flaky.body.id;
    ids = await paidAndRefunded();
  });

  it('delivers each transition’s event once, signed, its object as the API shows the record', async () => {
    // Act
    const delivered = await eventually('the payment’s and the refund’s events', () => {
      const types = new Set(receiver.at('/all').map((d) => d.event.type));
      return types.has('payment.succeeded') && types.has('refund.succeeded') ? receiver.at('/all') : undefined;
    });

    // Assess
    for (const delivery of delivered) expect(verify(delivery.headers['chargeonce-signature'] as string, delivery.raw, secret)).toBe(true);
    expect(verify(delivered[0]!.headers['chargeonce-signature'] as string, `${delivered[0]!.raw} `, secret)).toBe(false);
    const ofType = (type: string) => delivered.filter((d) => d.event.type === type);
    expect([...new Set(delivered.map((d) => d.event.type))].sort()).toEqual(['payment.succeeded', 'refund.succeeded']);
    expect(new Set(ofType('payment.succeeded').map((d) => d.event.id)).size).toBe(1);
    expect(new Set(ofType('refund.succeeded').map((d) => d.event.id)).size).toBe(1);
    const paid = ofType('payment.succeeded')[0]!.event;
    // The payment as it was when it succeeded: refunded since.
    expect(paid).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      object: 'event',
      data: { object: { payment_no: ids.paymentNo, status: 'succeeded', amount: 2500, amount_captured: 2500, amount_refunded: 0 } },
    });
    expect(paid.data.object).not.toHaveProperty('refunds');
    expect(ofType('refund.succeeded')[0]!.event.data.object).toMatchObject({ refund_no: ids.refundNo, status: 'succeeded', amount: 500 });
  });

  it('tries again after the endpoint answered 500, with the same event id, and shows both attempts', async () => {
    // Act
    const [first, second] = await eventually('the refund’s second delivery to /flaky', () => {
      const deliveries = receiver.at('/flaky');
      return deliveries.length >= 2 ? deliveries : undefined;
    });
    const eventId = first!.event.id;
    const shown = await eventually('both attempts recorded', async () => {
      const { body } = await api('GET', `/v1/events/${eventId}`, undefined, { key });
      const attempts = body.delivery_attempts.filter((a: { endpoint: string }) => a.endpoint === flakyId);
      return attempts.length >= 2 && body.deliveries.some((d: { endpoint: string }) => d.endpoint === flakyId) ? body : undefined;
    });

    // Assess
    expect(second!.event.id).toBe(eventId);
    expect(first!.event.type).toBe('refund.succeeded');
    expect(shown.delivery_attempts.filter((a: { endpoint: string }) => a.endpoint === flakyId).map((a: { status_code: number }) => a.status_code)).toEqual([500, 200]);
    expect(shown.deliveries).toContainEqual(expect.objectContaining({ endpoint: flakyId, status: 'delivered' }));
  });

  it('lists the merchant’s events newest first, by type, and refuses an unknown filter or cursor by name', async () => {
    // Act
    const all = await eventually('both events listed', async () => {
      const page = await api('GET', '/v1/events', undefined, { key });
      return page.body.data.length >= 2 ? page : undefined;
    });
    const refunds = await api('GET', '/v1/events?type=refund.succeeded', undefined, { key });
    const one = await api('GET', '/v1/events?limit=1', undefined, { key });
    const after = await api('GET', `/v1/events?limit=1&starting_after=${one.body.data[0].id}`, undefined, { key });
    const since = await api('GET', `/v1/events?created[gte]=${all.body.data[0].created + 1}`, undefined, { key });
    const theirs = await api('GET', '/v1/events', undefined, { key: target().otherApiKey });
    const badType = await api('GET', '/v1/events?type=payment.exploded', undefined, { key });
    const unknown = await api('GET', '/v1/events?status=succeeded', undefined, { key });
    const badCursor = await api('GET', '/v1/events?starting_after=evt_000000000000000000000000', undefined, { key });

    // Assess
    expect(all.body).toMatchObject({ object: 'list', url: '/v1/events', has_more: false });
    expect(all.body.data.map((e: { type: string }) => e.type)).toEqual(['refund.succeeded', 'payment.succeeded']);
    expect(refunds.body.data.map((e: { type: string }) => e.type)).toEqual(['refund.succeeded']);
    expect(one.body).toMatchObject({ has_more: true, data: [{ type: 'refund.succeeded' }] });
    expect(after.body).toMatchObject({ has_more: false, data: [{ type: 'payment.succeeded' }] });
    expect(since.body.data).toEqual([]);
    expect(theirs.body.data.map((e: { id: string }) => e.id)).not.toContain(all.body.data[0].id);
    expect(badType.body.error).toMatchObject({ code: 'validation_failed', field: 'type' });
    expect(unknown.body.error).toMatchObject({ field: 'status' });
    expect(badCursor.body.error).toMatchObject({ field: 'starting_after' });
  });

  it('shows one event to its merchant only', async () => {
    // Prepare
    const { event } = receiver.at('/all')[0]!;

    // Act
    const mine = await api('GET', `/v1/events/${event!.id}`, undefined, { key });
    const theirs = await api('GET', `/v1/events/${event!.id}`, undefined, { key: target().otherApiKey });

    // Assess
    expect(mine.body).toMatchObject({ id: event!.id, type: event!.type });
    expect(theirs.status).toBe(404);
  });

  it('redelivers an event on request, with its own id', async () => {
    // Prepare
    const { event } = receiver.at('/all').find((d) => d.event.type === 'payment.succeeded')!;
    const before = receiver.at('/all').filter((d) => d.event.id === event.id).length;

    // Act
    const asked = await api('POST', `/v1/events/${event.id}/redeliver`, undefined, { key });
    const again = await eventually('the redelivery', () => {
      const deliveries = receiver.at('/all').filter((d) => d.event.id === event.id);
      return deliveries.length > before ? deliveries.at(-1) : undefined;
    });

    // Assess
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ id: event.id, deliveries: 1 });
    expect(again.raw).toBe(receiver.at('/all').find((d) => d.event.id === event.id)!.raw);
    expect(verify(again.headers['chargeonce-signature'] as string, again.raw, secret)).toBe(true);
  });

  it('sends nothing more to a deleted endpoint', async () => {
    // Prepare
    await api('DELETE', `/v1/webhook_endpoints/${endpointId}`, undefined, { key });
    const keeper = await register({ url: receiver.url('/keeper'), enabled_events: ['payment.succeeded'] });
    expect(keeper.status).toBe(201);
    const before = receiver.at('/all').length;

    // Act
    const created = await api('POST', '/v1/payments', paymentBody(), { key });
    await waitForTerminal(created.body.payment_no, { key });
    // The endpoint that stays hears of the payment: by then the deleted one would have too.
    await eventually('the kept endpoint’s delivery', () =>
      receiver.at('/keeper').find((d) => d.event.data.object['payment_no'] === created.body.payment_no),
    );

    // Assess
    expect(receiver.at('/all').length).toBe(before);
  });
});
