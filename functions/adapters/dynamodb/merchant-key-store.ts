import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_LEDGER_SETTINGS, type LedgerSettings } from '../../domain/ledger/fees.ts';
import { DEFAULT_POINT_VALUE, type Merchant, type MerchantKeyStore, type MerchantSettings } from '../../domain/merchant.ts';

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

  async findMerchantByKeyHash(keyHash: string): Promise<Merchant | undefined> {
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: { pk: `APIKEY#${keyHash}`, sk: 'APIKEY' } }))
      .catch(translateDynamoError);
    return Item ? { merchantId: Item.merchant_id as string, name: Item.merchant_name as string } : undefined;
  }

  async settingsOf(merchantId: string): Promise<MerchantSettings> {
    const Item = await this.merchantItem(merchantId);
    return {
      pointValue: typeof Item?.point_value === 'number' ? Item.point_value : DEFAULT_POINT_VALUE,
      ...(typeof Item?.cart_hold_seconds === 'number' && { cartHoldSeconds: Item.cart_hold_seconds }),
    };
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
      .send(new GetCommand({ TableName: this.tableName, Key: { pk: `MERCHANT#${merchantId}`, sk: 'MERCHANT' } }))
      .catch(translateDynamoError);
    return Item;
  }

  async addMerchantKey(merchant: Merchant, keyHash: string): Promise<void> {
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
                Key: { pk: `MERCHANT#${merchant.merchantId}`, sk: 'MERCHANT' },
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
                  pk: `APIKEY#${keyHash}`,
                  sk: 'APIKEY',
                  type: 'api_key',
                  merchant_id: merchant.merchantId,
                  merchant_name: merchant.name,
                  created_at: createdAt,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      )
      .catch(translateDynamoError);
  }
}
