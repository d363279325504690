import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_POINT_VALUE, type Merchant, type MerchantKeyStore, type MerchantSettings } from '../../domain/merchant.ts';
import { translateDynamoError } from './client.ts';

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
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: { pk: `MERCHANT#${merchantId}`, sk: 'MERCHANT' } }))
      .catch(translateDynamoError);
    return {
      pointValue: typeof Item?.point_value === 'number' ? Item.point_value : DEFAULT_POINT_VALUE,
      ...(typeof Item?.cart_hold_seconds === 'number' && { cartHoldSeconds: Item.cart_hold_seconds }),
    };
  }

  async addMerchantKey(merchant: Merchant, keyHash: string): Promise<void> {
    const createdAt = new Date().toISOString();
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
                ].join(', '),
                ExpressionAttributeNames: { '#type': 'type' },
                ExpressionAttributeValues: {
                  ':type': 'merchant',
                  ':id': merchant.merchantId,
                  ':name': merchant.name,
                  ':now': createdAt,
                  ...(merchant.pointValue !== undefined && { ':pointValue': merchant.pointValue }),
                  ...(merchant.cartHoldSeconds !== undefined && { ':holdSeconds': merchant.cartHoldSeconds }),
                },
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
