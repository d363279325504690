import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ChargeonceEvent, DeliveryAttempt, DeliveryOutcome, EventStore, EventType } from '../../domain/events.ts';
import type { ListPage, ListQuery } from '../../domain/lists.ts';
import type { WebhookEndpoint, WebhookEndpointStore } from '../../domain/webhooks.ts';
import { translateDynamoError } from './client.ts';
import { listKeysOf, queryList } from './table.ts';

/** An event as stored: in its own partition, with its delivery attempts and outcomes beside it. */
interface EventItem {
  pk: string;
  sk: 'EVENT';
  type: 'event';
  event_id: string;
  merchant_id: string;
  event_type: EventType;
  created_at: string;
  object: unknown;
}

interface AttemptItem {
  pk: string;
  sk: string;
  type: 'delivery_attempt';
  endpoint_id: string;
  url: string;
  at: string;
  status_code?: number;
  error?: string;
  duration_ms: number;
}

interface OutcomeItem {
  pk: string;
  sk: string;
  type: 'delivery_outcome';
  endpoint_id: string;
  status: DeliveryOutcome['status'];
  at: string;
}

const eventPk = (eventId: string) => `EVENT#${eventId}`;
const eventKey = (eventId: string) => ({ pk: eventPk(eventId), sk: 'EVENT' as const });
const ATTEMPT_PREFIX = 'ATTEMPT#';
const OUTCOME_PREFIX = 'DELIVERY#';

/**
 * Events in the payments table (`EVENT#<event_id>` / `EVENT`), listed per merchant through the
 * `by_merchant` index; each attempt (`ATTEMPT#<at>#<endpoint_id>`) and each delivery's latest
 * outcome (`DELIVERY#<endpoint_id>`) in the event's partition, so `GET /v1/events/{id}` is one query.
 */
export class DynamoEventStore implements EventStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(event: ChargeonceEvent): Promise<boolean> {
    const item: EventItem = {
      ...eventKey(event.eventId),
      type: 'event',
      event_id: event.eventId,
      merchant_id: event.merchantId,
      event_type: event.type,
      created_at: event.createdAt,
      object: event.object,
      ...listKeysOf('event', event.merchantId, event.createdAt, event.eventId),
    } as EventItem;
    return putIfAbsent(this.db, this.tableName, item);
  }

  async get(eventId: string): Promise<ChargeonceEvent | undefined> {
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: eventKey(eventId), ConsistentRead: true }))
      .catch(translateDynamoError);
    return Item === undefined ? undefined : fromItem(Item as EventItem);
  }

  async list(merchantId: string, query: ListQuery<{ readonly type?: EventType }>): Promise<ListPage<ChargeonceEvent>> {
    const { type } = query.filters;
    const page = await queryList<EventItem>(
      this.db,
      this.tableName,
      { kind: 'event', merchantId, tableKeyOf: eventKey },
      query,
      type === undefined ? undefined : { expression: '#eventType = :eventType', names: { '#eventType': 'event_type' }, values: { ':eventType': type } },
    );
    return { data: page.data.map(fromItem), hasMore: page.hasMore };
  }

  async recordAttempt(eventId: string, attempt: DeliveryAttempt): Promise<void> {
    const item: AttemptItem = {
      pk: eventPk(eventId),
      sk: `${ATTEMPT_PREFIX}${attempt.at}#${attempt.endpointId}`,
      type: 'delivery_attempt',
      endpoint_id: attempt.endpointId,
      url: attempt.url,
      at: attempt.at,
      ...(attempt.statusCode !== undefined && { status_code: attempt.statusCode }),
      ...(attempt.error !== undefined && { error: attempt.error }),
      duration_ms: attempt.durationMs,
    };
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: item })).catch(translateDynamoError);
  }

  async recordOutcome(eventId: string, outcome: DeliveryOutcome): Promise<void> {
    const item: OutcomeItem = {
      pk: eventPk(eventId),
      sk: `${OUTCOME_PREFIX}${outcome.endpointId}`,
      type: 'delivery_outcome',
      endpoint_id: outcome.endpointId,
      status: outcome.status,
      at: outcome.at,
    };
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: item })).catch(translateDynamoError);
  }

  async history(eventId: string): Promise<{ attempts: DeliveryAttempt[]; outcomes: DeliveryOutcome[] }> {
    const items = await queryPartition<Record<string, unknown>>(this.db, this.tableName, eventPk(eventId));
    const attempts = (items.filter((item) => item['type'] === 'delivery_attempt') as unknown as AttemptItem[]).map((item) => ({
      endpointId: item.endpoint_id,
      url: item.url,
      at: item.at,
      ...(item.status_code !== undefined && { statusCode: item.status_code }),
      ...(item.error !== undefined && { error: item.error }),
      durationMs: item.duration_ms,
    }));
    const outcomes = (items.filter((item) => item['type'] === 'delivery_outcome') as unknown as OutcomeItem[]).map((item) => ({
      endpointId: item.endpoint_id,
      status: item.status,
      at: item.at,
    }));
    return { attempts, outcomes };
  }
}

/** Every item of a partition (those whose sort key starts with `prefix`, when given), read consistently, page after page. */
async function queryPartition<T>(db: DynamoDBDocumentClient, tableName: string, pk: string, prefix?: string): Promise<T[]> {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db
      .send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: prefix === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ...(prefix !== undefined && { ':prefix': prefix }) },
          ConsistentRead: true,
          ...(startKey !== undefined && { ExclusiveStartKey: startKey }),
        }),
      )
      .catch(translateDynamoError);
    items.push(...((page.Items ?? []) as T[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

function fromItem(item: EventItem): ChargeonceEvent {
  return { eventId: item.event_id, merchantId: item.merchant_id, type: item.event_type, createdAt: item.created_at, object: item.object };
}

/** An endpoint as stored, in its merchant's partition (`MERCHANT#<id>` / `WEBHOOK#<endpoint_id>`): a merchant's list is one query. */
interface EndpointItem {
  pk: string;
  sk: string;
  type: 'webhook_endpoint';
  endpoint_id: string;
  merchant_id: string;
  url: string;
  enabled_events: string[];
  description?: string;
  secret: string;
  created_at: string;
}

/** Writes `item` unless an item of its key exists: false, with nothing written, when one does. */
async function putIfAbsent(db: DynamoDBDocumentClient, tableName: string, item: object): Promise<boolean> {
  try {
    await db.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    return translateDynamoError(error);
  }
}

const ENDPOINT_PREFIX = 'WEBHOOK#';
const merchantPk = (merchantId: string) => `MERCHANT#${merchantId}`;
const endpointKey = (merchantId: string, endpointId: string) => ({ pk: merchantPk(merchantId), sk: `${ENDPOINT_PREFIX}${endpointId}` });

export class DynamoWebhookEndpointStore implements WebhookEndpointStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(endpoint: WebhookEndpoint): Promise<boolean> {
    const item: EndpointItem = {
      ...endpointKey(endpoint.merchantId, endpoint.endpointId),
      type: 'webhook_endpoint',
      endpoint_id: endpoint.endpointId,
      merchant_id: endpoint.merchantId,
      url: endpoint.url,
      enabled_events: [...endpoint.enabledEvents],
      ...(endpoint.description !== undefined && { description: endpoint.description }),
      secret: endpoint.secret,
      created_at: endpoint.createdAt,
    };
    return putIfAbsent(this.db, this.tableName, item);
  }

  async get(merchantId: string, endpointId: string): Promise<WebhookEndpoint | undefined> {
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: endpointKey(merchantId, endpointId), ConsistentRead: true }))
      .catch(translateDynamoError);
    return Item === undefined ? undefined : endpointFromItem(Item as EndpointItem);
  }

  async list(merchantId: string): Promise<WebhookEndpoint[]> {
    const items = await queryPartition<EndpointItem>(this.db, this.tableName, merchantPk(merchantId), ENDPOINT_PREFIX);
    return items.map(endpointFromItem);
  }

  async delete(merchantId: string, endpointId: string): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({ TableName: this.tableName, Key: endpointKey(merchantId, endpointId), ConditionExpression: 'attribute_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return translateDynamoError(error);
    }
  }
}

function endpointFromItem(item: EndpointItem): WebhookEndpoint {
  return {
    endpointId: item.endpoint_id,
    merchantId: item.merchant_id,
    url: item.url,
    enabledEvents: item.enabled_events as WebhookEndpoint['enabledEvents'],
    ...(item.description !== undefined && { description: item.description }),
    secret: item.secret,
    createdAt: item.created_at,
  };
}
