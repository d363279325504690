import { describe, expect, it } from 'vitest';
import type { Cart } from '../../../functions/domain/carts/model.ts';
import { ValidationError } from '../../../functions/domain/errors.ts';
import {
  type ChargeonceEvent,
  type DeliveryAttempt,
  type DeliveryOutcome,
  type EventStore,
  type ResourceChange,
  eventIdOf,
  eventfulStatuses,
  transitionOf,
} from '../../../functions/domain/events.ts';
import type { Payout } from '../../../functions/domain/payout.ts';
import type { Refund } from '../../../functions/domain/refund.ts';
import {
  DELIVERY_GIVE_UP_SECONDS,
  type Delivery,
  type WebhookEndpoint,
  type WebhookEndpointStore,
  type WebhookSender,
  checkEndpointUrl,
  createEndpoint,
  deliverOnce,
  publishTransition,
  redeliverEvent,
  signatureHeader,
  verifySignature,
} from '../../../functions/domain/webhooks.ts';
import { succeededPayment } from '../../support/payments.ts';

const AT = '2026-03-01T10:00:00.000Z';
const clockAt = (iso: string) => () => new Date(iso);

/** Events as DynamoDB keeps them: a second put of an id is refused, as the conditional put is. */
class MemoryEvents implements EventStore {
  readonly events = new Map<string, ChargeonceEvent>();
  readonly attempts: DeliveryAttempt[] = [];
  readonly outcomes: DeliveryOutcome[] = [];
  async put(event: ChargeonceEvent) {
    if (this.events.has(event.eventId)) return false;
    this.events.set(event.eventId, structuredClone(event));
    return true;
  }
  async get(eventId: string) {
    return this.events.get(eventId);
  }
  async list(): Promise<never> {
    throw new Error('not used here');
  }
  async recordAttempt(_eventId: string, attempt: DeliveryAttempt) {
    this.attempts.push(attempt);
  }
  async recordOutcome(_eventId: string, outcome: DeliveryOutcome) {
    this.outcomes.push(outcome);
  }
  async history() {
    return { attempts: this.attempts, outcomes: this.outcomes };
  }
}

class MemoryEndpoints implements WebhookEndpointStore {
  readonly endpoints: WebhookEndpoint[] = [];
  async create(endpoint: WebhookEndpoint) {
    if (this.endpoints.some((e) => e.merchantId === endpoint.merchantId && e.endpointId === endpoint.endpointId)) return false;
    this.endpoints.push(endpoint);
    return true;
  }
  async get(merchantId: string, endpointId: string) {
    return this.endpoints.find((e) => e.merchantId === merchantId && e.endpointId === endpointId);
  }
  async list(merchantId: string) {
    return this.endpoints.filter((e) => e.merchantId === merchantId);
  }
  async delete(merchantId: string, endpointId: string) {
    const at = this.endpoints.findIndex((e) => e.merchantId === merchantId && e.endpointId === endpointId);
    if (at === -1) return false;
    this.endpoints.splice(at, 1);
    return true;
  }
}

/** Step Functions' names: a start under a name already used starts nothing. */
class MemoryDeliveries {
  readonly started = new Map<string, Delivery>();
  async start(name: string, delivery: Delivery) {
    if (!this.started.has(name)) this.started.set(name, delivery);
  }
}

const endpoint = (overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  endpointId: 'we_000000000000000000000001',
  merchantId: 'm_1',
  url: 'https://merchant.example/hooks',
  enabledEvents: ['*'],
  secret: 'whsec_test',
  createdAt: AT,
  ...overrides,
});

const refund = (status: Refund['status']): Refund =>
  ({ refundNo: 're_1', merchantId: 'm_1', paymentNo: 'pay_1', amount: 500, currency: 'USD', status, updatedAt: AT }) as unknown as Refund;
const payout = (status: Payout['status']): Payout => ({ payoutNo: 'po_1', merchantId: 'm_1', status, updatedAt: AT, version: 2 }) as unknown as Payout;
const cart = (status: Cart['status']): Cart => ({ cartId: 'cart_1', merchantId: 'm_1', status, updatedAt: AT }) as unknown as Cart;

describe('transitionOf', () => {
  it('makes payment.succeeded of a payment that moved from authorized to succeeded, at its update time', () => {
    // Act
    const transition = transitionOf({
      kind: 'payment',
      before: succeededPayment({ status: 'authorized' }),
      after: succeededPayment({ updatedAt: AT }),
    });

    // Assess
    expect(transition).toEqual({ type: 'payment.succeeded', merchantId: 'm_1', resourceId: 'pay_1', at: AT, version: 4 });
  });

  it('makes payment.authorized of a manual payment that moved from pending to authorized: it waits for the merchant', () => {
    // Act
    const transition = transitionOf({
      kind: 'payment',
      before: succeededPayment({ status: 'pending', captureMethod: 'manual' }),
      after: succeededPayment({ status: 'authorized', captureMethod: 'manual', updatedAt: AT }),
    });

    // Assess
    expect(transition).toEqual({ type: 'payment.authorized', merchantId: 'm_1', resourceId: 'pay_1', at: AT, version: 4 });
  });

  it('makes no event of a write that keeps the status (a refunded total, a version) or of a step within automatic capture', () => {
    // Prepare
    const changes: ResourceChange[] = [
      { kind: 'payment', before: succeededPayment(), after: succeededPayment({ amountRefunded: 500, version: 5 }) },
      { kind: 'payment', before: succeededPayment({ status: 'pending' }), after: succeededPayment({ status: 'authorized' }) },
      { kind: 'payment', after: succeededPayment({ status: 'pending' }) },
      { kind: 'cart', before: cart('pending'), after: cart('checking') },
      { kind: 'payout', before: payout('pending'), after: payout('in_transit') },
    ];

    // Act
    const transitions = changes.map(transitionOf);

    // Assess
    expect(transitions).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('names each kind’s transitions, a record written straight into its status among them', () => {
    // Prepare
    const changes: ResourceChange[] = [
      { kind: 'payment', before: succeededPayment({ status: 'pending' }), after: succeededPayment({ status: 'failed' }) },
      { kind: 'payment', before: succeededPayment({ status: 'authorized' }), after: succeededPayment({ status: 'canceled' }) },
      { kind: 'refund', before: refund('pending'), after: refund('succeeded') },
      { kind: 'refund', after: refund('failed') },
      { kind: 'cart', before: cart('checking'), after: cart('applied') },
      { kind: 'cart', before: cart('applied'), after: cart('done') },
      { kind: 'cart', before: cart('expiring'), after: cart('expired') },
      { kind: 'cart', before: cart('canceling'), after: cart('canceled') },
      { kind: 'payout', before: payout('in_transit'), after: payout('paid') },
      { kind: 'payout', before: payout('pending'), after: payout('failed') },
    ];

    // Act
    const types = changes.map((change) => transitionOf(change)?.type);

    // Assess
    expect(types).toEqual([
      'payment.failed',
      'payment.canceled',
      'refund.succeeded',
      'refund.failed',
      'cart.applied',
      'cart.done',
      'cart.expired',
      'cart.canceled',
      'payout.paid',
      'payout.failed',
    ]);
  });

  it('passes through the stream filter only the statuses that make events', () => {
    // Assess
    expect([...eventfulStatuses].sort()).toEqual(['applied', 'canceled', 'done', 'expired', 'failed', 'paid', 'succeeded']);
  });
});

describe('eventIdOf', () => {
  it('names one transition the same way every time, and two transitions of a record apart (a second entry into a status too)', () => {
    // Prepare
    const failed = { type: 'refund.failed', merchantId: 'm_1', resourceId: 're_1', version: 3 } as const;

    // Act
    const ids = [eventIdOf(failed), eventIdOf({ ...failed }), eventIdOf({ ...failed, type: 'refund.succeeded' }), eventIdOf({ ...failed, version: 6 })];

    // Assess
    expect(ids[0]).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(new Set(ids).size).toBe(3);
  });
});

describe('signatures', () => {
  const body = '{"id":"evt_1"}';
  const now = 1_770_000_000;

  it('verifies a header made for the body with the secret, within the tolerance', () => {
    // Act
    const header = signatureHeader('whsec_a', body, now);

    // Assess
    expect(header).toMatch(/^t=1770000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(header, body, 'whsec_a', now + 299)).toBe(true);
  });

  it('refuses another body, another secret, an old timestamp, a changed timestamp and no header', () => {
    // Prepare
    const header = signatureHeader('whsec_a', body, now);
    const [, v1] = header.split(',');

    // Act
    const verdicts = [
      verifySignature(header, `${body} `, 'whsec_a', now),
      verifySignature(header, body, 'whsec_b', now),
      verifySignature(header, body, 'whsec_a', now + 301),
      verifySignature(`t=${now + 1},${v1}`, body, 'whsec_a', now),
      verifySignature(undefined, body, 'whsec_a', now),
    ];

    // Assess
    expect(verdicts).toEqual([false, false, false, false, false]);
  });
});

describe('checkEndpointUrl', () => {
  it('takes https anywhere, loopback http only where the stack runs beside its receivers', () => {
    // Assess
    expect(checkEndpointUrl('https://merchant.example/hooks', false)).toBe('https://merchant.example/hooks');
    expect(checkEndpointUrl('http://127.0.0.1:4000/hooks', true)).toBe('http://127.0.0.1:4000/hooks');
    expect(checkEndpointUrl('http://localhost:4000/', true)).toBe('http://localhost:4000/');
    for (const [url, loopback] of [
      ['http://127.0.0.1:4000/hooks', false],
      ['http://merchant.example/hooks', true],
      ['ftp://merchant.example/hooks', true],
      ['https://user:pw@merchant.example/hooks', false],
      ['/hooks', false],
    ] as const) {
      expect(() => checkEndpointUrl(url, loopback), url).toThrow(ValidationError);
    }
  });
});

describe('createEndpoint', () => {
  const request = { url: 'https://shop.example/hooks', enabledEvents: ['payment.succeeded'] };

  it('makes one endpoint per idempotency key: run again under it, it answers the endpoint it made, secret and all', async () => {
    // Prepare
    const deps = { endpoints: new MemoryEndpoints(), clock: clockAt(AT), allowLoopback: false };
    const first = await createEndpoint(deps, 'm_1', request, 'header:k-1');

    // Act
    const again = await createEndpoint(deps, 'm_1', request, 'header:k-1');

    // Assess
    expect(first.created).toBe(true);
    expect(again).toEqual({ endpoint: first.endpoint, created: false });
    expect(deps.endpoints.endpoints).toHaveLength(1);
  });

  it('answers created to a run whose own write was refused as a repeat of itself (the SDK retried a put that had landed)', async () => {
    // Prepare: the store writes the endpoint, then answers as if an item of its key had been there.
    const endpoints = new MemoryEndpoints();
    const landedThenRetried: WebhookEndpointStore = {
      create: async (endpoint) => {
        await endpoints.create(endpoint);
        return false;
      },
      get: (merchantId, endpointId) => endpoints.get(merchantId, endpointId),
      list: (merchantId) => endpoints.list(merchantId),
      delete: (merchantId, endpointId) => endpoints.delete(merchantId, endpointId),
    };
    const deps = { endpoints: landedThenRetried, clock: clockAt(AT), allowLoopback: false };

    // Act
    const made = await createEndpoint(deps, 'm_1', request, 'header:k-1');

    // Assess
    expect(made.created).toBe(true);
    expect(made.endpoint).toEqual(endpoints.endpoints[0]);
  });

  it('makes another endpoint under another key, or for another merchant under the same key', async () => {
    // Prepare
    const deps = { endpoints: new MemoryEndpoints(), clock: clockAt(AT), allowLoopback: false };

    // Act
    const made = [
      await createEndpoint(deps, 'm_1', request, 'header:k-1'),
      await createEndpoint(deps, 'm_1', request, 'unkeyed:1'),
      await createEndpoint(deps, 'm_2', request, 'header:k-1'),
    ];

    // Assess
    expect(made.every((m) => m.created)).toBe(true);
    expect(new Set(made.map((m) => m.endpoint.endpointId)).size).toBe(3);
    expect(new Set(made.map((m) => m.endpoint.secret)).size).toBe(3);
  });
});

describe('publishTransition', () => {
  it('writes a transition’s event once and starts one delivery per subscribed endpoint, however often it runs', async () => {
    // Prepare
    const deps = { events: new MemoryEvents(), endpoints: new MemoryEndpoints(), deliveries: new MemoryDeliveries() };
    await deps.endpoints.create(endpoint());
    await deps.endpoints.create(endpoint({ endpointId: 'we_000000000000000000000002', enabledEvents: ['payment.succeeded'] }));
    await deps.endpoints.create(endpoint({ endpointId: 'we_000000000000000000000003', enabledEvents: ['refund.succeeded'] }));
    await deps.endpoints.create(endpoint({ endpointId: 'we_000000000000000000000004', merchantId: 'm_2' }));
    const transition = { type: 'payment.succeeded', merchantId: 'm_1', resourceId: 'pay_1', at: AT, version: 4 } as const;

    // Act
    const first = await publishTransition(deps, transition, { payment_no: 'pay_1' });
    const again = await publishTransition(deps, transition, { payment_no: 'pay_1' });

    // Assess
    expect(first).toMatchObject({ created: true, deliveries: 2 });
    expect(again).toMatchObject({ eventId: first.eventId, created: false, deliveries: 2 });
    expect([...deps.events.events.values()]).toEqual([{ eventId: first.eventId, merchantId: 'm_1', type: 'payment.succeeded', createdAt: AT, object: { payment_no: 'pay_1' } }]);
    expect([...deps.deliveries.started.keys()]).toEqual([`${first.eventId}-we_000000000000000000000001`, `${first.eventId}-we_000000000000000000000002`]);
  });

  it('redelivers under new names, and only to the event’s own merchant', async () => {
    // Prepare
    const deps = { events: new MemoryEvents(), endpoints: new MemoryEndpoints(), deliveries: new MemoryDeliveries(), clock: clockAt(AT) };
    await deps.endpoints.create(endpoint());
    const { eventId } = await publishTransition(deps, { type: 'refund.failed', merchantId: 'm_1', resourceId: 're_1', at: AT, version: 2 }, {});

    // Act
    await redeliverEvent(deps, 'm_1', eventId);
    const theirs = redeliverEvent(deps, 'm_2', eventId);

    // Assess
    expect(deps.deliveries.started.size).toBe(2);
    await expect(theirs).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('deliverOnce', () => {
  async function world(answer: Awaited<ReturnType<WebhookSender['post']>>, now = AT) {
    const deps = { events: new MemoryEvents(), endpoints: new MemoryEndpoints(), clock: clockAt(now), posts: [] as { url: string; body: string; headers: Readonly<Record<string, string>> }[] };
    const sender: WebhookSender = {
      post: async (url, body, headers) => {
        deps.posts.push({ url, body, headers });
        return answer;
      },
    };
    await deps.endpoints.create(endpoint());
    const event: ChargeonceEvent = { eventId: 'evt_000000000000000000000001', merchantId: 'm_1', type: 'payment.succeeded', createdAt: AT, object: { payment_no: 'pay_1' } };
    await deps.events.put(event);
    return { deps: { ...deps, sender }, posts: deps.posts, delivery: { eventId: event.eventId, endpointId: endpoint().endpointId } };
  }

  it('POSTs the signed event and records the attempt and the delivery when the endpoint answers 2xx', async () => {
    // Prepare
    const { deps, posts, delivery } = await world({ statusCode: 204 });

    // Act
    const result = await deliverOnce(deps, delivery, AT);

    // Assess
    expect(result).toEqual({ outcome: 'delivered' });
    expect(JSON.parse(posts[0]!.body)).toEqual({ id: delivery.eventId, object: 'event', type: 'payment.succeeded', created: Date.parse(AT) / 1000, data: { object: { payment_no: 'pay_1' } } });
    expect(verifySignature(posts[0]!.headers['Chargeonce-Signature'], posts[0]!.body, 'whsec_test', Date.parse(AT) / 1000)).toBe(true);
    expect(deps.events.attempts).toEqual([expect.objectContaining({ endpointId: delivery.endpointId, statusCode: 204 })]);
    expect(deps.events.outcomes).toEqual([expect.objectContaining({ status: 'delivered' })]);
  });

  it('fails an attempt the endpoint answered 500 or never answered, to be retried, recording it', async () => {
    // Prepare
    const refused = await world({ statusCode: 500 });
    const silent = await world({ error: 'no answer within 10000 ms' });

    // Act
    const results = [deliverOnce(refused.deps, refused.delivery, AT), deliverOnce(silent.deps, silent.delivery, AT)];

    // Assess
    await expect(results[0]).rejects.toMatchObject({ name: 'WebhookAttemptFailed' });
    await expect(results[1]).rejects.toMatchObject({ name: 'WebhookAttemptFailed' });
    expect(refused.deps.events.attempts).toEqual([expect.objectContaining({ statusCode: 500 })]);
    expect(silent.deps.events.attempts).toEqual([expect.objectContaining({ error: 'no answer within 10000 ms' })]);
    expect(refused.deps.events.outcomes).toEqual([]);
  });

  it('gives up a delivery still failing three days after it started', async () => {
    // Prepare
    const started = new Date(Date.parse(AT) - DELIVERY_GIVE_UP_SECONDS * 1000).toISOString();
    const { deps, delivery } = await world({ statusCode: 503 });

    // Act
    const result = deliverOnce(deps, delivery, started);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'WebhookDeliveryExpired' });
  });

  it('sends nothing to an endpoint deleted since the delivery started', async () => {
    // Prepare
    const { deps, posts, delivery } = await world({ statusCode: 200 });
    await deps.endpoints.delete('m_1', delivery.endpointId);

    // Act
    const result = await deliverOnce(deps, delivery, AT);

    // Assess
    expect(result).toEqual({ outcome: 'endpoint_deleted' });
    expect(posts).toEqual([]);
  });
});
