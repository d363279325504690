import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { IdempotencyRecord, IdempotencyStore, KeyLease, StoredResponse } from '../../domain/idempotency.ts';
import { translateDynamoError } from './client.ts';

/** An idempotency key's record: one item, deleted by the table's TTL after `expires_at`. */
interface KeyItem {
  pk: string;
  sk: 'IDEMPOTENCY';
  type: 'idempotency_key';
  parameters: Record<string, string>;
  lease_owner?: string;
  /** Milliseconds since the epoch. */
  lease_expires_at?: number;
  response_status?: number;
  /** The answer as JSON text: stored as the API sent it, whatever its shape. */
  response_body?: string;
  expires_at: number;
}

const keyOf = (id: string) => ({ pk: `IDEMPOTENCY#${id}`, sk: 'IDEMPOTENCY' as const });

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(id: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: keyOf(id), ConsistentRead: true }))
      .catch(translateDynamoError);
    return Item ? fromItem(id, Item as KeyItem) : undefined;
  }

  async claim(record: IdempotencyRecord, nowSeconds: number): Promise<IdempotencyRecord | undefined> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(record),
          // TTL deletes lazily: an expired record still present counts as absent.
          ConditionExpression: 'attribute_not_exists(pk) OR expires_at <= :now',
          ExpressionAttributeValues: { ':now': nowSeconds },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return fromItem(record.id, unmarshall(error.Item as Record<string, AttributeValue>) as KeyItem);
      }
      return translateDynamoError(error);
    }
  }

  async takeOver(
    id: string,
    lapsed: KeyLease,
    lease: KeyLease,
    parameters: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keyOf(id),
        // `parameters` is one of DynamoDB's reserved words.
        UpdateExpression: 'SET lease_owner = :owner, lease_expires_at = :expires, #parameters = :parameters',
        ConditionExpression:
          'lease_owner = :lapsedOwner AND lease_expires_at = :lapsedExpires AND attribute_not_exists(response_status)',
        ExpressionAttributeNames: { '#parameters': 'parameters' },
        ExpressionAttributeValues: {
          ':owner': lease.owner,
          ':expires': lease.expiresAt,
          ':parameters': { ...parameters },
          ':lapsedOwner': lapsed.owner,
          ':lapsedExpires': lapsed.expiresAt,
        },
      }),
    );
  }

  async complete(id: string, owner: string, response: StoredResponse): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keyOf(id),
        UpdateExpression: 'SET response_status = :status, response_body = :body REMOVE lease_owner, lease_expires_at',
        ConditionExpression: 'lease_owner = :owner',
        ExpressionAttributeValues: { ':owner': owner, ':status': response.status, ':body': JSON.stringify(response.body) },
      }),
    );
  }

  async release(id: string, owner: string): Promise<void> {
    await this.conditionally(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keyOf(id),
        ConditionExpression: 'lease_owner = :owner',
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
  }

  /** Sends a conditional write; false when its condition failed. */
  private async conditionally(command: UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.db.send(command);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return translateDynamoError(error);
    }
  }
}

function toItem(record: IdempotencyRecord): KeyItem {
  return {
    ...keyOf(record.id),
    type: 'idempotency_key',
    parameters: { ...record.parameters },
    ...(record.lease && { lease_owner: record.lease.owner, lease_expires_at: record.lease.expiresAt }),
    ...(record.response && {
      response_status: record.response.status,
      response_body: JSON.stringify(record.response.body),
    }),
    expires_at: record.expiresAt,
  };
}

function fromItem(id: string, item: KeyItem): IdempotencyRecord {
  return {
    id,
    parameters: item.parameters,
    ...(item.lease_owner !== undefined &&
      item.lease_expires_at !== undefined && { lease: { owner: item.lease_owner, expiresAt: item.lease_expires_at } }),
    ...(item.response_status !== undefined && {
      response: { status: item.response_status, body: JSON.parse(item.response_body ?? 'null') },
    }),
    expiresAt: item.expires_at,
  };
}
