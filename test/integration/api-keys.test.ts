import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createMerchant, newMerchantId } from '../../bin/merchants.ts';
import { localClientConfig } from '../../local/services/dynamodb-local.ts';
import { api, target } from '../support/target.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

const tableOf = () => {
  const found = target().table;
  if (found === undefined) throw new Error('the key tests need the stack’s table (the local stack gives it)');
  return found;
};

/** `npm run merchant:key` against the stack's table: what it printed and how it exited. */
function merchantKey(...args: string[]) {
  const { endpoint, name } = tableOf();
  const run = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), ['bin/merchant-key.ts', '--table', name, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_REGION: localClientConfig.region,
      AWS_ACCESS_KEY_ID: localClientConfig.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localClientConfig.credentials.secretAccessKey,
    },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A merchant of this test alone, with one key no request has used yet (so the authorizer has cached nothing for it). */
async function newMerchant() {
  const { endpoint, name } = tableOf();
  const client = new DynamoDBClient({ ...localClientConfig, endpoint });
  try {
    return await createMerchant({ tableName: name, name: 'Key holder', merchantId: newMerchantId(), client });
  } finally {
    client.destroy();
  }
}

const statusWith = async (key: string) => (await api('GET', '/v1/balance', undefined, { key })).status;

describe('npm run merchant:key', () => {
  it('rolls a merchant’s keys: the new key works, the old one (no grace) is refused, and the list shows both', async () => {
    // Prepare
    const merchant = await newMerchant();

    // Act
    const rolled = merchantKey('--merchant-id', merchant.merchantId, '--roll');
    const listed = merchantKey('--merchant-id', merchant.merchantId, '--list');

    // Assess
    expect(rolled.status, rolled.stderr).toBe(0);
    const newKey = rolled.stdout.trim();
    expect(await statusWith(newKey)).toBe(200);
    expect(await statusWith(merchant.apiKey)).toBe(401);
    const lines = listed.stdout.trim().split('\n').map((line) => line.split('\t'));
    expect(lines.map(([, hint, , status]) => [hint, status])).toEqual([
      [`...${newKey.slice(-4)}`, 'active'],
      [`...${merchant.apiKey.slice(-4)}`, 'expired'],
    ]);
  });

  it('revokes one key by its id, leaving the merchant’s other keys working', async () => {
    // Prepare
    const merchant = await newMerchant();
    const kept = merchantKey('--merchant-id', merchant.merchantId, '--roll', '--grace', '3600').stdout.trim();
    const [, oldKeyId] = /^(key_[0-9a-f]{16})\t\.\.\.(.{4})/m.exec(
      merchantKey('--merchant-id', merchant.merchantId, '--list')
        .stdout.split('\n')
        .find((line) => line.includes(`...${merchant.apiKey.slice(-4)}`)) ?? '',
    ) ?? [];

    // Act
    const revoked = merchantKey('--merchant-id', merchant.merchantId, '--revoke', oldKeyId ?? 'no id listed');

    // Assess
    expect(revoked.status, revoked.stderr).toBe(0);
    expect(await statusWith(merchant.apiKey)).toBe(401);
    expect(await statusWith(kept)).toBe(200);
  });

  it('refuses another merchant’s key, and says what is wrong without touching the table for bad flags', async () => {
    // Prepare
    const merchant = await newMerchant();

    // Act
    const foreign = merchantKey('--merchant-id', 'merchant_other', '--revoke', merchant.apiKey);
    const twoActions = merchantKey('--merchant-id', merchant.merchantId, '--list', '--roll');
    const badGrace = merchantKey('--merchant-id', merchant.merchantId, '--roll', '--grace', '700000');

    // Assess
    expect(foreign.status).toBe(1);
    expect(foreign.stderr).toMatch(/merchant merchant_other has no such API key/);
    expect(twoActions.stderr).toMatch(/exactly one of --list, --roll and --revoke/);
    expect(badGrace.stderr).toMatch(/--grace "700000" must be a whole number of seconds from 0 to 604800/);
    expect(await statusWith(merchant.apiKey)).toBe(200);
  });
});
