/**
 * `npm run merchant:key -- --merchant-id <id> (--list | --roll [--grace <seconds>] | --revoke <key_id | key>) [--table <table>] [--localstack | --local]`
 *
 * A merchant's API keys, for operators: list them (ids, last four characters, status), roll
 * them (a new key, shown once; the old ones work on for the grace period, 0 by default) or
 * revoke one at once. The API Gateway authorizer caches its answer for a key for 5 minutes,
 * so a key revoked or expired while in use may go on working for up to that long.
 * Where: as `npm run merchant:create` (see bin/create-merchant.ts).
 */
import { MAX_ROLL_GRACE_SECONDS, keyStatus, revokeApiKey, rollApiKeys } from '../functions/domain/api-keys.ts';
import { type CommandFlags, runCommand, tableTarget, UsageError, withKeyStore } from './merchants.ts';

const USAGE = `usage: npm run merchant:key -- --merchant-id <id> (--list | --roll [--grace <seconds>] | --revoke <key_id | key>)
         [--table <table>] [--localstack | --local]

  --merchant-id <id>    the merchant whose keys these are (required)
  --list                its keys: id, last four characters, created, status (active, expiring, expired, revoked)
  --roll                a new key, printed once; every key still usable stops working after --grace
  --grace <seconds>     with --roll: how long the old keys work on, 0 to ${MAX_ROLL_GRACE_SECONDS} (7 days); default 0
  --revoke <ref>        stops one key at once: its id (key_...) or, for a key made before keys had ids, the key itself
  --table, --local, --localstack   where, as for merchant:create
  -h, --help            this text`;

const FLAGS = {
  'merchant-id': { type: 'string' },
  list: { type: 'boolean', default: false },
  roll: { type: 'boolean', default: false },
  grace: { type: 'string' },
  revoke: { type: 'string' },
} as const;

async function main(values: CommandFlags<typeof FLAGS>): Promise<void> {
  const merchantId = values['merchant-id'];
  if (merchantId === undefined) throw new UsageError('--merchant-id is required');
  const actions = [values.list, values.roll, values.revoke !== undefined].filter(Boolean).length;
  if (actions !== 1) throw new UsageError('give exactly one of --list, --roll and --revoke');
  if (values.grace !== undefined && !values.roll) throw new UsageError('--grace goes with --roll');
  // Number('') is 0: an empty value is no number.
  const grace = values.grace === undefined ? 0 : values.grace.trim() === '' ? Number.NaN : Number(values.grace);
  if (!(Number.isSafeInteger(grace) && grace >= 0 && grace <= MAX_ROLL_GRACE_SECONDS)) {
    throw new UsageError(`--grace ${JSON.stringify(values.grace)} must be a whole number of seconds from 0 to ${MAX_ROLL_GRACE_SECONDS}`);
  }
  const target = tableTarget(values);
  const now = new Date();

  try {
    await withKeyStore(target, async (store) => {
      if (values.list) {
        const keys = await store.keysOf(merchantId);
        if (keys.length === 0) console.error(`merchant ${merchantId} has no keys with ids in table ${target.tableName} on ${target.where}.`);
        for (const key of keys) {
          const until = key.revokedAt ?? key.expiresAt;
          console.log([key.keyId, `...${key.hint}`, key.createdAt, keyStatus(key, now), ...(until ? [until] : [])].join('\t'));
        }
      } else if (values.roll) {
        const rolled = await rollApiKeys(store, merchantId, grace, now);
        const ended = rolled.expiring.map((key) => key.keyId ?? `...${key.hint}`).join(', ') || 'none';
        console.error(`Rolled the keys of merchant ${merchantId} on ${target.where}: new key ${rolled.keyId}; old keys (${ended}) stop at ${rolled.expiresAt}.`);
        console.error('The key is shown this once; only its SHA-256 is stored:\n');
        console.log(rolled.apiKey);
      } else {
        const revoked = await revokeApiKey(store, merchantId, values.revoke!, now);
        console.error(`Revoked key ${revoked.keyId ?? `...${revoked.hint ?? ''}`} of merchant ${merchantId} on ${target.where}.`);
      }
    });
  } finally {
    target.client?.destroy();
  }
}

await runCommand('merchant:key', USAGE, FLAGS, main);
