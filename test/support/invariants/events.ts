import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../../functions/adapters/dynamodb/client.ts';
import { localClientConfig } from '../../../local/services/dynamodb-local.ts';

/** A payment or refund as its status stands, and an event as it names its record. */
export interface EventedRecord {
  readonly kind: 'payment' | 'refund';
  readonly id: string;
  readonly status: string;
  /** A manual payment: its `authorized` makes an event too (`payment.authorized`). */
  readonly manual?: boolean;
}
export interface RecordedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly resourceId: string;
}

const FINAL = ['succeeded', 'failed', 'canceled'];

/**
 * Exactly one event per transition, over plain data: every payment and refund in a final status
 * has exactly one event of the transition into it (a lost event, or a second one, breaks it),
 * and every payment or refund event names a record that is in that status (no event without
 * its change), but for `refund.failed` of a refund revived since (the provider refunded after
 * all: it failed, then succeeded, two transitions). A manual payment authorized or captured has
 * exactly one `payment.authorized`, one closed otherwise at most one (a card declined at once
 * was never authorized), and an automatic payment none. One line per break; none when they hold.
 */
export function eventViolations(records: readonly EventedRecord[], events: readonly RecordedEvent[]): string[] {
  const found: string[] = [];
  const byKey = new Map<string, RecordedEvent[]>();
  for (const event of events) byKey.set(`${event.type}|${event.resourceId}`, [...(byKey.get(`${event.type}|${event.resourceId}`) ?? []), event]);
  const statusOf = new Map(records.map((record) => [`${record.kind}|${record.id}`, record.status]));
  for (const record of records) {
    if (!FINAL.includes(record.status)) continue;
    const made = byKey.get(`${record.kind}.${record.status}|${record.id}`) ?? [];
    if (made.length !== 1) found.push(`${record.kind} ${record.id} is ${record.status} with ${made.length} ${record.kind}.${record.status} events`);
  }
  for (const record of records) {
    if (record.kind !== 'payment') continue;
    const authorized = (byKey.get(`payment.authorized|${record.id}`) ?? []).length;
    const expected = !record.manual ? [0] : ['authorized', 'succeeded'].includes(record.status) ? [1] : [0, 1];
    if (!expected.includes(authorized)) found.push(`payment ${record.id} (${record.manual ? 'manual' : 'automatic'}, ${record.status}) has ${authorized} payment.authorized events`);
  }
  for (const event of events) {
    const [kind, status] = event.type.split('.');
    if (kind !== 'payment' && kind !== 'refund') continue;
    // Counted above: a manual payment moves on from authorized.
    if (event.type === 'payment.authorized' && statusOf.has(`payment|${event.resourceId}`)) continue;
    const actual = statusOf.get(`${kind}|${event.resourceId}`);
    const revived = event.type === 'refund.failed' && actual !== undefined;
    if (actual !== status && !revived) found.push(`event ${event.eventId} (${event.type}) names ${kind} ${event.resourceId}, which is ${actual ?? 'missing'}`);
  }
  return found;
}

/**
 * {@link eventViolations} of a stack's table, read whole (a test's scan, never the product's),
 * once its stream is delivered; of one merchant's records and events when `merchantId` is given.
 */
export async function stackEventViolations(table: { readonly endpoint: string; readonly name: string }, merchantId?: string): Promise<string[]> {
  const db = createDocumentClient(new DynamoDBClient({ ...localClientConfig, endpoint: table.endpoint }));
  const records: EventedRecord[] = [];
  const events: RecordedEvent[] = [];
  try {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(new ScanCommand({ TableName: table.name, ExclusiveStartKey: startKey, ConsistentRead: true }));
      for (const item of page.Items ?? []) {
        if (merchantId !== undefined && item['merchant_id'] !== merchantId) continue;
        if (item['type'] === 'payment') records.push({ kind: 'payment', id: item['payment_no'], status: item['status'], manual: item['capture_method'] === 'manual' });
        if (item['type'] === 'refund') records.push({ kind: 'refund', id: item['refund_no'], status: item['status'] });
        if (item['type'] === 'event') {
          const object = item['object'] as Record<string, string>;
          events.push({ eventId: item['event_id'], type: item['event_type'], resourceId: object['refund_no'] ?? object['payment_no'] ?? object['cart_id'] ?? '' });
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  } finally {
    db.destroy();
  }
  return eventViolations(records, events);
}
