import { createHash } from 'node:crypto';
import type { Cart } from './carts/model.ts';
import type { ListPage, ListQuery } from './lists.ts';
import { CaptureMethod, type Payment } from './payment.ts';
import type { Payout } from './payout.ts';
import type { Refund } from './refund.ts';

/**
 * What a merchant hears about: one event per status transition of a payment, a refund, a cart
 * or a payout that ended, and a manual payment's authorization (it waits for the merchant). An
 * automatic payment's `authorized` is a step of its capture, so it makes no event.
 */
export const EventType = {
  PaymentAuthorized: 'payment.authorized',
  PaymentSucceeded: 'payment.succeeded',
  PaymentFailed: 'payment.failed',
  PaymentCanceled: 'payment.canceled',
  RefundSucceeded: 'refund.succeeded',
  RefundFailed: 'refund.failed',
  CartApplied: 'cart.applied',
  CartDone: 'cart.done',
  CartExpired: 'cart.expired',
  CartCanceled: 'cart.canceled',
  PayoutPaid: 'payout.paid',
  PayoutFailed: 'payout.failed',
  PayoutCanceled: 'payout.canceled',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export const eventTypes: readonly EventType[] = Object.values(EventType);

/**
 * The statuses a record may enter that make an event whatever the record: what the publisher's
 * stream filter passes, with a manual payment's `authorized` apart.
 */
export const eventfulStatuses: readonly string[] = [
  ...new Set(eventTypes.filter((type) => type !== EventType.PaymentAuthorized).map((type) => type.slice(type.indexOf('.') + 1))),
];

export function isEventType(value: string): value is EventType {
  return (eventTypes as readonly string[]).includes(value);
}

/** A change of a record the merchant cares about, as the table's stream carries it: before and after. */
export type ResourceChange =
  | { readonly kind: 'payment'; readonly before?: Payment; readonly after: Payment }
  | { readonly kind: 'refund'; readonly before?: Refund; readonly after: Refund }
  | { readonly kind: 'cart'; readonly before?: Cart; readonly after: Cart }
  | { readonly kind: 'payout'; readonly before?: Payout; readonly after: Payout };

/** A status a record entered that makes an event. */
export interface Transition {
  readonly type: EventType;
  readonly merchantId: string;
  /** The record's own id (payment_no, refund_no, cart_id, payout_no). */
  readonly resourceId: string;
  /** When the record entered the status (its `updated_at`): the event's `created`. */
  readonly at: string;
  /** The record's version once in the status: tells apart two entries into one status (a refund failed, revived, failed again). */
  readonly version: number;
}

/**
 * The transition a change makes, if it makes one: the record's status differs from its status
 * before (a record written in its status makes its event too), and the new status is one that
 * names an event. Any other write of the record (a version bump, a lease, a refunded total)
 * makes none, so a redelivered or repeated write never makes a second transition.
 */
export function transitionOf(change: ResourceChange): Transition | undefined {
  const { after, before } = change;
  if (before !== undefined && before.status === after.status) return undefined;
  const type = `${change.kind}.${after.status}`;
  if (!isEventType(type)) return undefined;
  if (change.kind === 'payment' && type === EventType.PaymentAuthorized && change.after.captureMethod !== CaptureMethod.Manual) return undefined;
  const resourceId = resourceIdOf(change);
  return { type, merchantId: after.merchantId, resourceId, at: after.updatedAt, version: after.version };
}

/** The record's own id: its payment_no, refund_no, cart_id or payout_no. */
function resourceIdOf(change: ResourceChange): string {
  switch (change.kind) {
    case 'payment':
      return change.after.paymentNo;
    case 'refund':
      return change.after.refundNo;
    case 'cart':
      return change.after.cartId;
    case 'payout':
      return change.after.payoutNo;
  }
}

/**
 * An event's id follows from its transition alone (the record, the status entered, the version
 * that entered it), so every delivery of the same stream record, and every publisher that
 * retries it, names the same event: the store writes it once.
 */
export function eventIdOf(transition: Pick<Transition, 'type' | 'resourceId' | 'merchantId' | 'version'>): string {
  const digest = createHash('sha256')
    .update(`${transition.merchantId}\u0000${transition.resourceId}\u0000${transition.type}\u0000${transition.version}`)
    .digest('hex');
  return `evt_${digest.slice(0, 24)}`;
}

const EVENT_ID = /^evt_[0-9a-f]{24}$/;

export function isEventId(value: string): boolean {
  return EVENT_ID.test(value);
}

export interface ChargeonceEvent {
  readonly eventId: string;
  readonly merchantId: string;
  readonly type: EventType;
  readonly createdAt: string;
  /** The record as the API returned it at the transition. */
  readonly object: unknown;
}

/** The event as the API shows it and as a webhook carries it. */
export function eventBody(event: ChargeonceEvent) {
  return {
    id: event.eventId,
    object: 'event' as const,
    type: event.type,
    created: Math.floor(Date.parse(event.createdAt) / 1000),
    data: { object: event.object },
  };
}

/** One POST of an event to an endpoint, as recorded. */
export interface DeliveryAttempt {
  readonly endpointId: string;
  readonly url: string;
  readonly at: string;
  /** The endpoint's HTTP status; absent when it never answered (timeout, refused connection). */
  readonly statusCode?: number;
  /** Why it failed, when it did without a status. */
  readonly error?: string;
  readonly durationMs: number;
}

/** How a delivery of an event to an endpoint ended. */
export interface DeliveryOutcome {
  readonly endpointId: string;
  readonly status: 'delivered' | 'failed';
  readonly at: string;
}

export interface EventStore {
  /** Writes the event unless its id exists: `false` when it did (a repeat of its transition). */
  put(event: ChargeonceEvent): Promise<boolean>;
  get(eventId: string): Promise<ChargeonceEvent | undefined>;
  /** The merchant's events, newest first, of one type when given. */
  list(merchantId: string, query: ListQuery<{ readonly type?: EventType }>): Promise<ListPage<ChargeonceEvent>>;
  recordAttempt(eventId: string, attempt: DeliveryAttempt): Promise<void>;
  recordOutcome(eventId: string, outcome: DeliveryOutcome): Promise<void>;
  /** Every attempt, oldest first, and every outcome of the event's deliveries. */
  history(eventId: string): Promise<{ attempts: DeliveryAttempt[]; outcomes: DeliveryOutcome[] }>;
}
