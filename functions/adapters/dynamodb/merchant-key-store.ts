import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { NewApiKey, StoredApiKey } from '../../domain/api-keys.ts';
import { DEFAULT_LEDGER_SETTINGS, type LedgerSettings } from '../../domain/ledger/fees.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { DEFAULT_POINT_VALUE, type Merchant, type MerchantKeyStore, type MerchantSettings, type SettingsChange } from '../../domain/merchant.ts';

/** Each ledger setting and the attribute of the merchant's item that holds it. */
const LEDGER_ATTRIBUTES = {
  feeBps: 'fee_bps',
  feeFixed: 'fee_fixed',
  payoutDelayDays: 'payout_delay_days',
  timeZone: 'time_zone',
  refundsReturnFees: 'refunds_return_fees',
} as const satisfies Record<keyof LedgerSettings, string>;
import { translateDynamoError } from './client.ts';
import { MERCHANT_REGISTRY_PARTITION, merchantRegistrySk } from './table.ts';

export class DynamoMerchantKeyStore implements MerchantKeyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findKeyByHash(keyHash: string): Promise<StoredApiKey | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: apiKeyKey(keyHash) })).catch(translateDynamoError);
    return Item ? storedApiKey(Item) : undefined;
  }

  /** The merchant's key references (`KEY#<id>` in its partition), then the keys themselves, where their state is. */
  async keysOf(merchantId: string): Promise<StoredApiKey[]> {
    const hashes: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db
        .send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :key)',
            ExpressionAttributeValues: { ':pk': `MERCHANT#${merchantId}`, ':key': 'KEY#' },
            ProjectionExpression: 'key_hash',
            ExclusiveStartKey: startKey,
          }),
        )
        .catch(translateDynamoError);
      hashes.push(...(page.Items ?? []).map((item) => item.key_hash as string));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    const keys: StoredApiKey[] = [];
    // BatchGetItem takes 100 keys at a time and may hand some back unprocessed.
    for (let i = 0; i < hashes.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = hashes.slice(i, i + 100).map(apiKeyKey);
      while (pending !== undefined && pending.length > 0) {
        const answer: BatchGetCommandOutput = await this.db
          .send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }))
          .catch(translateDynamoError);
        keys.push(...(answer.Responses?.[this.tableName] ?? []).map(storedApiKey));
        pending = answer.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return keys.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async revokeKey(keyHash: string, at: string): Promise<void> {
    await this.updateKey(keyHash, 'SET revoked_at = if_not_exists(revoked_at, :at)', { ':at': at });
  }

  async expireKey(keyHash: string, at: string): Promise<void> {
    await this.updateKey(keyHash, 'SET valid_until = :at', { ':at': at }, 'attribute_not_exists(valid_until) OR valid_until > :at').catch((error: unknown) => {
      // It expires sooner already.
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    });
  }

  private async updateKey(keyHash: string, update: string, values: Record<string, unknown>, condition?: string): Promise<void> {
    const command = new UpdateCommand({
      TableName: this.tableName,
      Key: apiKeyKey(keyHash),
      UpdateExpression: update,
      // Never makes a key item out of nothing.
      ConditionExpression: ['attribute_exists(pk)', ...(condition ? [`(${condition})`] : [])].join(' AND '),
      ExpressionAttributeValues: values,
    });
    await this.db.send(command).catch(translateDynamoError);
  }

  async merchantOf(merchantId: string): Promise<Merchant | undefined> {
    const Item = await this.merchantItem(merchantId);
    return Item === undefined ? undefined : { merchantId, name: Item.merchant_name as string };
  }

  async settingsOf(merchantId: string): Promise<MerchantSettings> {
    return settingsOfItem(await this.merchantItem(merchantId));
  }

  async updateSettings(merchantId: string, change: SettingsChange): Promise<MerchantSettings> {
    const changed = (Object.keys(SETTING_ATTRIBUTES) as (keyof SettingsChange)[]).filter((setting) => change[setting] !== undefined);
    const { Attributes } = await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: merchantKey(merchantId),
          UpdateExpression: `SET ${changed.map((setting) => `${SETTING_ATTRIBUTES[setting]} = :${setting}`).join(', ')}`,
          // Settings of a merchant that has none: never an item out of nothing.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: Object.fromEntries(changed.map((setting) => [`:${setting}`, change[setting]])),
          ReturnValues: 'ALL_NEW',
        }),
      )
      .catch((error: unknown) => {
        if ((error as Error).name === 'ConditionalCheckFailedException') throw new NotFoundError(`no merchant ${merchantId}`);
        return translateDynamoError(error);
      });
    return settingsOfItem(Attributes);
  }

  async ledgerSettingsOf(merchantId: string): Promise<LedgerSettings> {
    const Item = await this.merchantItem(merchantId);
    const stored = Object.entries(LEDGER_ATTRIBUTES).flatMap(([setting, attribute]) =>
      Item?.[attribute] === undefined ? [] : [[setting, Item[attribute]]],
    );
    return { ...DEFAULT_LEDGER_SETTINGS, ...Object.fromEntries(stored) };
  }

  private async merchantItem(merchantId: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: merchantKey(merchantId) }))
      .catch(translateDynamoError);
    return Item;
  }

  async addMerchantKey(merchant: Merchant, key: NewApiKey): Promise<void> {
    const createdAt = new Date().toISOString();
    const ledger = Object.entries(merchant.ledger ?? {}).filter(([, value]) => value !== undefined) as [keyof LedgerSettings, unknown][];
    await this.db
      .send(
        new TransactWriteCommand({
          TransactItems: [
            {
              // An update, not a put: a merchant's settings survive a key added without them.
              Update: {
                TableName: this.tableName,
                Key: merchantKey(merchant.merchantId),
                UpdateExpression: [
                  'SET #type = :type, merchant_id = :id, merchant_name = :name, created_at = if_not_exists(created_at, :now)',
                  ...(merchant.pointValue !== undefined ? ['point_value = :pointValue'] : []),
                  ...(merchant.cartHoldSeconds !== undefined ? ['cart_hold_seconds = :holdSeconds'] : []),
                  ...ledger.map(([setting]) => `${LEDGER_ATTRIBUTES[setting]} = :${setting}`),
                ].join(', '),
                ExpressionAttributeNames: { '#type': 'type' },
                ExpressionAttributeValues: {
                  ':type': 'merchant',
                  ':id': merchant.merchantId,
                  ':name': merchant.name,
                  ':now': createdAt,
                  ...(merchant.pointValue !== undefined && { ':pointValue': merchant.pointValue }),
                  ...(merchant.cartHoldSeconds !== undefined && { ':holdSeconds': merchant.cartHoldSeconds }),
                  ...Object.fromEntries(ledger.map(([setting, value]) => [`:${setting}`, value])),
                },
              },
            },
            {
              // Its registry entry, which the settlement schedule enumerates; its place there survives a key added later.
              Update: {
                TableName: this.tableName,
                Key: { pk: MERCHANT_REGISTRY_PARTITION, sk: merchantRegistrySk(merchant.merchantId) },
                UpdateExpression: 'SET #type = :type, merchant_id = :id, created_at = if_not_exists(created_at, :now)',
                ExpressionAttributeNames: { '#type': 'type' },
                ExpressionAttributeValues: { ':type': 'merchant_registry', ':id': merchant.merchantId, ':now': createdAt },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...apiKeyKey(key.keyHash),
                  type: 'api_key',
                  key_id: key.keyId,
                  hint: key.hint,
                  merchant_id: merchant.merchantId,
                  merchant_name: merchant.name,
                  created_at: createdAt,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              // Lists the merchant's keys without a scan; the key's state stays on its own item.
              Put: {
                TableName: this.tableName,
                Item: { pk: `MERCHANT#${merchant.merchantId}`, sk: `KEY#${key.keyId}`, type: 'api_key_ref', key_hash: key.keyHash },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      )
      .catch(translateDynamoError);
  }
}

const apiKeyKey = (keyHash: string) => ({ pk: `APIKEY#${keyHash}`, sk: 'APIKEY' });
const merchantKey = (merchantId: string) => ({ pk: `MERCHANT#${merchantId}`, sk: 'MERCHANT' });

/** Each setting and the attribute of the merchant's item that holds it. */
const SETTING_ATTRIBUTES = { pointValue: 'point_value', cartHoldSeconds: 'cart_hold_seconds' } as const satisfies Record<keyof MerchantSettings, string>;

function settingsOfItem(item: Record<string, unknown> | undefined): MerchantSettings {
  return {
    pointValue: typeof item?.point_value === 'number' ? item.point_value : DEFAULT_POINT_VALUE,
    ...(typeof item?.cart_hold_seconds === 'number' && { cartHoldSeconds: item.cart_hold_seconds }),
  };
}

function storedApiKey(item: Record<string, unknown>): StoredApiKey {
  return {
    keyHash: (item.pk as string).slice('APIKEY#'.length),
    merchant: { merchantId: item.merchant_id as string, name: item.merchant_name as string },
    createdAt: item.created_at as string,
    ...(typeof item.key_id === 'string' && { keyId: item.key_id }),
    ...(typeof item.hint === 'string' && { hint: item.hint }),
    ...(typeof item.valid_until === 'string' && { expiresAt: item.valid_until }),
    ...(typeof item.revoked_at === 'string' && { revokedAt: item.revoked_at }),
  };
}
