import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Merchant, MerchantKeyStore } from '../../domain/merchant.ts';
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

  async addMerchantKey(merchant: Merchant, keyHash: string): Promise<void> {
    const createdAt = new Date().toISOString();
    await this.db
      .send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk: `MERCHANT#${merchant.merchantId}`,
                  sk: 'MERCHANT',
                  type: 'merchant',
                  merchant_id: merchant.merchantId,
                  merchant_name: merchant.name,
                  created_at: createdAt,
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
