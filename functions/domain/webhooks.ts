import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConcurrentModificationError, NotFoundError, ValidationError, WebhookAttemptFailedError, WebhookDeliveryExpiredError } from './errors.ts';
import { type ChargeonceEvent, type EventStore, type EventType, type Transition, eventBody, eventIdOf, eventTypes, isEventType } from './events.ts';
import type { Clock } from './ports.ts';

/** Where a merchant receives events: every event of `enabledEvents` (or of every type, `*`). */
export interface WebhookEndpoint {
  readonly endpointId: string;
  readonly merchantId: string;
  readonly url: string;
  readonly enabledEvents: readonly (EventType | '*')[];
  readonly description?: string;
  /** `whsec_...`: signs every delivery; shown to the merchant once, when the endpoint is made. */
  readonly secret: string;
  readonly createdAt: string;
}

export interface WebhookEndpointStore {
  /** False, with nothing written, when the merchant has an endpoint of that id already. */
  create(endpoint: WebhookEndpoint): Promise<boolean>;
  get(merchantId: string, endpointId: string): Promise<WebhookEndpoint | undefined>;
  list(merchantId: string): Promise<WebhookEndpoint[]>;
  /** False when the merchant has no such endpoint. */
  delete(merchantId: string, endpointId: string): Promise<boolean>;
}

/** Starts one delivery of an event to an endpoint; a start under a name already used is a no-op. */
export interface DeliveryStarter {
  start(executionName: string, delivery: Delivery): Promise<void>;
}

export interface Delivery {
  readonly eventId: string;
  readonly endpointId: string;
}

/** POSTs a body to a URL, giving up after `timeoutMs`: the endpoint's status, or why there was none. */
export interface WebhookSender {
  post(url: string, body: string, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<{ statusCode: number } | { error: string }>;
}

export const SIGNATURE_HEADER = 'Chargeonce-Signature';
/** An endpoint that has not answered within this is a failed attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** A delivery still failing this long after it started is given up and marked failed. */
export const DELIVERY_GIVE_UP_SECONDS = 3 * 24 * 3600;
/** How far a receiver should trust a signature's timestamp from its own clock (README). */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

const ENDPOINT_ID = /^we_[0-9a-f]{24}$/;
const MAX_URL_LENGTH = 2048;
const MAX_DESCRIPTION = 255;

export function isEndpointId(value: string): boolean {
  return ENDPOINT_ID.test(value);
}

/** What `POST /v1/webhook_endpoints` asks for, checked. */
export interface EndpointRequest {
  readonly url: string;
  readonly enabledEvents: readonly string[];
  readonly description?: string;
}

/**
 * Only `https`, where the URL names a host on the internet; a stack whose functions run beside
 * the merchant's receiver (the local stack) also takes `http://127.0.0.1` and `http://localhost`.
 */
export function checkEndpointUrl(raw: string, allowLoopback: boolean): string {
  if (raw.length > MAX_URL_LENGTH || !URL.canParse(raw)) throw new ValidationError('url', 'must be an absolute URL');
  const url = new URL(raw);
  if (url.username !== '' || url.password !== '') throw new ValidationError('url', 'must not carry credentials');
  if (url.protocol === 'https:') return url.toString();
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  if (url.protocol === 'http:' && loopback && allowLoopback) return url.toString();
  throw new ValidationError('url', allowLoopback ? 'must be https, or http on 127.0.0.1 or localhost' : 'must be an https URL');
}

function checkEnabledEvents(enabled: readonly string[]): readonly (EventType | '*')[] {
  if (enabled.length === 0) throw new ValidationError('enabled_events', 'must name at least one event type, or "*"');
  const unknown = enabled.findIndex((type) => type !== '*' && !isEventType(type));
  if (unknown !== -1) throw new ValidationError(`enabled_events.${unknown}`, `must be "*" or one of ${eventTypes.join(', ')}`);
  return [...new Set(enabled)] as (EventType | '*')[];
}

export function subscribes(endpoint: Pick<WebhookEndpoint, 'enabledEvents'>, type: EventType): boolean {
  return endpoint.enabledEvents.includes('*') || endpoint.enabledEvents.includes(type);
}

/**
 * Makes an endpoint with a fresh signing secret, its id derived from the request's idempotency
 * key: a request run again under the same key (its first run crashed after the write, or its
 * key's record lapsed) finds the endpoint it made, secret and all, instead of a second one.
 */
export async function createEndpoint(
  deps: { endpoints: WebhookEndpointStore; clock: Clock; allowLoopback: boolean },
  merchantId: string,
  request: EndpointRequest,
  idempotencyKey: string,
): Promise<{ endpoint: WebhookEndpoint; created: boolean }> {
  if (request.description !== undefined && request.description.length > MAX_DESCRIPTION) {
    throw new ValidationError('description', `must be at most ${MAX_DESCRIPTION} characters`);
  }
  const endpoint: WebhookEndpoint = {
    endpointId: `we_${createHash('sha256').update(`${merchantId}\0${idempotencyKey}`).digest('hex').slice(0, 24)}`,
    merchantId,
    url: checkEndpointUrl(request.url, deps.allowLoopback),
    enabledEvents: checkEnabledEvents(request.enabledEvents),
    ...(request.description !== undefined && { description: request.description }),
    secret: `whsec_${randomBytes(24).toString('base64url')}`,
    createdAt: deps.clock().toISOString(),
  };
  if (await deps.endpoints.create(endpoint)) return { endpoint, created: true };
  const made = await deps.endpoints.get(merchantId, endpoint.endpointId);
  // Deleted between the refused write and this read: the client's retry makes it anew.
  if (made === undefined) throw new ConcurrentModificationError(`webhook endpoint ${endpoint.endpointId} changed while it was being created`);
  // The secret is drawn afresh by each run: finding this run's own, the write refused was its own
  // landed once already (the SDK retried a put whose answer was lost), and this run made it.
  return { endpoint: made, created: made.secret === endpoint.secret };
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: what a receiver checks (README, Webhooks). */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmac(secret, unixSeconds, body)}`;
}

function hmac(secret: string, unixSeconds: number | string, body: string): string {
  return createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
}

/**
 * What a receiver does with a delivery, before it parses the body: the signature must be one of
 * ours over this exact body, and its timestamp within `toleranceSeconds` of the receiver's clock,
 * so a captured delivery cannot be replayed later. The README shows it.
 */
export function verifySignature(
  header: string | undefined,
  rawBody: string,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): boolean {
  const parts = new Map((header ?? '').split(',').map((part) => part.split('=', 2) as [string, string]));
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (t === undefined || v1 === undefined || !/^\d+$/.test(t) || Math.abs(nowSeconds - Number(t)) > toleranceSeconds) return false;
  const expected = Buffer.from(hmac(secret, t, rawBody), 'hex');
  const given = Buffer.from(v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A delivery's Step Functions execution: named by what it delivers, so a second start of it is a no-op. */
export function deliveryName(delivery: Delivery, redelivery?: string): string {
  return [delivery.eventId, delivery.endpointId, ...(redelivery === undefined ? [] : [redelivery])].join('-');
}

export interface PublishDeps {
  readonly events: EventStore;
  readonly endpoints: WebhookEndpointStore;
  readonly deliveries: DeliveryStarter;
}

/**
 * Makes the event of a transition and starts its deliveries. Both steps are idempotent, so a
 * stream record delivered again (or a publisher that died between them: the batch is retried)
 * finds its event written and starts each delivery under the name it already has.
 */
export async function publishTransition(deps: PublishDeps, transition: Transition, object: unknown): Promise<{ eventId: string; created: boolean; deliveries: number }> {
  const event: ChargeonceEvent = { eventId: eventIdOf(transition), merchantId: transition.merchantId, type: transition.type, createdAt: transition.at, object };
  const created = await deps.events.put(event);
  // A crash here leaves the event without its deliveries: the stream delivers the record again.
  const deliveries = await startDeliveries(deps, event);
  return { eventId: event.eventId, created, deliveries };
}

async function startDeliveries(deps: PublishDeps, event: ChargeonceEvent, redelivery?: string): Promise<number> {
  const endpoints = (await deps.endpoints.list(event.merchantId)).filter((endpoint) => subscribes(endpoint, event.type));
  for (const { endpointId } of endpoints) {
    const delivery = { eventId: event.eventId, endpointId };
    await deps.deliveries.start(deliveryName(delivery, redelivery), delivery);
  }
  return endpoints.length;
}

/**
 * `POST /v1/events/{id}/redeliver`: a new delivery to each endpoint the event's type goes to
 * now, under a new name (the first deliveries may have ended either way).
 */
export async function redeliverEvent(deps: PublishDeps & { clock: Clock }, merchantId: string, eventId: string): Promise<{ event: ChargeonceEvent; deliveries: number }> {
  const event = await deps.events.get(eventId);
  if (event === undefined || event.merchantId !== merchantId) throw new NotFoundError(`no event ${eventId}`, { field: 'id' });
  const deliveries = await startDeliveries(deps, event, `r${deps.clock().getTime()}`);
  return { event, deliveries };
}

export interface DeliverDeps {
  readonly events: EventStore;
  readonly endpoints: WebhookEndpointStore;
  readonly sender: WebhookSender;
  readonly clock: Clock;
}

export type DeliverResult = { readonly outcome: 'delivered' | 'endpoint_deleted' | 'unsubscribed' };

/**
 * One attempt of a delivery: the event, signed for this attempt, POSTed to the endpoint as it
 * is now (deleted: nothing more is sent). Every attempt is recorded. A 2xx delivers it; anything
 * else throws {@link WebhookAttemptFailedError} for the state machine to retry with backoff,
 * until the delivery is {@link DELIVERY_GIVE_UP_SECONDS} old: then {@link WebhookDeliveryExpiredError}.
 */
export async function deliverOnce(deps: DeliverDeps, delivery: Delivery, startedAt: string): Promise<DeliverResult> {
  const event = await deps.events.get(delivery.eventId);
  if (event === undefined) throw new NotFoundError(`no event ${delivery.eventId}`);
  const endpoint = await deps.endpoints.get(event.merchantId, delivery.endpointId);
  if (endpoint === undefined) return { outcome: 'endpoint_deleted' };
  if (!subscribes(endpoint, event.type)) return { outcome: 'unsubscribed' };

  const body = JSON.stringify(eventBody(event));
  const started = deps.clock();
  const headers = { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: signatureHeader(endpoint.secret, body, Math.floor(started.getTime() / 1000)) };
  const answer = await deps.sender.post(endpoint.url, body, headers, DELIVERY_TIMEOUT_MS);
  const ended = deps.clock();
  await deps.events.recordAttempt(event.eventId, {
    endpointId: endpoint.endpointId,
    url: endpoint.url,
    at: started.toISOString(),
    durationMs: ended.getTime() - started.getTime(),
    ...('statusCode' in answer ? { statusCode: answer.statusCode } : { error: answer.error }),
  });
  if ('statusCode' in answer && answer.statusCode >= 200 && answer.statusCode < 300) {
    await deps.events.recordOutcome(event.eventId, { endpointId: endpoint.endpointId, status: 'delivered', at: ended.toISOString() });
    return { outcome: 'delivered' };
  }
  const why = 'statusCode' in answer ? `the endpoint answered ${answer.statusCode}` : answer.error;
  if (ended.getTime() - Date.parse(startedAt) >= DELIVERY_GIVE_UP_SECONDS * 1000) {
    throw new WebhookDeliveryExpiredError(`${why}; delivery of ${event.eventId} to ${endpoint.endpointId} started ${startedAt}: giving up`);
  }
  throw new WebhookAttemptFailedError(`${why}; delivery of ${event.eventId} to ${endpoint.endpointId} will be tried again`);
}

/** A delivery given up (its retries spent, or three days gone): recorded failed, for the merchant and the alarm. */
export async function giveUpDelivery(deps: { events: EventStore; clock: Clock }, delivery: Delivery): Promise<void> {
  await deps.events.recordOutcome(delivery.eventId, { endpointId: delivery.endpointId, status: 'failed', at: deps.clock().toISOString() });
}
