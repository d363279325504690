import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createMerchant } from '../../bin/merchants.ts';
import { DynamoMerchantKeyStore } from '../../functions/adapters/dynamodb/merchant-key-store.ts';
import { DEFAULT_LEDGER_SETTINGS } from '../../functions/domain/ledger/fees.ts';
import { localClientConfig } from '../../local/services/dynamodb-local.ts';
import { localTableForThisFile } from './local-table.ts';

const table = localTableForThisFile();

describe('npm run merchant:create’s ledger settings', () => {
  it('stores them where the ledger reads them, the ones not given left at their defaults', async () => {
    // Prepare
    const client = new DynamoDBClient({ ...localClientConfig, endpoint: table().endpoint });

    // Act
    const created = await createMerchant({
      tableName: table().name,
      name: 'Paris shop',
      ledger: { feeBps: 150, feeFixed: 0, payoutDelayDays: 7, timeZone: 'Europe/Paris' },
      client,
    });
    const defaults = await createMerchant({ tableName: table().name, name: 'Plain shop', client });
    client.destroy();

    // Assess
    const merchants = new DynamoMerchantKeyStore(table().db, table().name);
    expect(await merchants.ledgerSettingsOf(created.merchantId)).toEqual({
      ...DEFAULT_LEDGER_SETTINGS,
      feeBps: 150,
      feeFixed: 0,
      payoutDelayDays: 7,
      timeZone: 'Europe/Paris',
    });
    expect(await merchants.ledgerSettingsOf(defaults.merchantId)).toEqual(DEFAULT_LEDGER_SETTINGS);
  });
});
