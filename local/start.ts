import path from 'node:path';
import { parseArgs } from 'node:util';
import { EnvVar } from '../functions/config/env.ts';
import { startLocalStack } from './local-stack.ts';

/**
 * `npm start`: the whole system on this machine, from the app synthesized into cdk.out/ (again
 * only when its sources changed). `--cdk-out DIR` runs the cloud assembly in DIR as it is.
 * `PORT` moves the API (default 3000), `OPS_PORT` the ops page (default 3001); `--in-memory`
 * keeps DynamoDB in memory instead of under `.local/` (`LOCAL_DATA_DIR` moves it);
 * `RECONCILE_AFTER_SECONDS` (default 60) and `RECONCILE_EVERY_SECONDS` (default: the schedule
 * rule's rate) set how soon an unfinished payment is picked up and how often the reconciler
 * runs. `CRASH_AT` and `CRASH_AUDIT=1` arm the functions' crash points (functions/crash/).
 */
const { values: flags } = parseArgs({ options: { 'cdk-out': { type: 'string' }, 'in-memory': { type: 'boolean' } } });
const port = portNumber('PORT', 3000);
const opsPort = portNumber('OPS_PORT', 3001);
const dataDir = path.resolve(process.env.LOCAL_DATA_DIR ?? path.join(import.meta.dirname, '..', '.local'));

try {
  const stack = await startLocalStack({
    dataDir,
    port,
    opsPort,
    // The ops page shows the functions' metrics, which they then emit (and the console does not print).
    metrics: true,
    inMemory: flags['in-memory'] === true,
    ...(flags['cdk-out'] !== undefined && { cdkOut: path.resolve(flags['cdk-out']) }),
    reconcileAfterSeconds: positiveNumber('RECONCILE_AFTER_SECONDS', 60),
    ...(process.env.RECONCILE_EVERY_SECONDS && { reconcileEveryMs: positiveNumber('RECONCILE_EVERY_SECONDS', 60) * 1000 }),
    // The crash switches reach the functions only through the stack, never from the template.
    crashAudit: process.env[EnvVar.CrashAudit] === '1',
    log: (line) => console.log(`  ${line}`),
  });
  if (process.env[EnvVar.CrashAt]) stack.setCrashAt(process.env[EnvVar.CrashAt]);
  console.log(`
Chargeonce is running locally.

  API URL   ${stack.apiUrl}
  API key   ${stack.apiKey}   (demo merchant)
  ops page  ${stack.opsUrl}
  outputs   ${path.relative(process.cwd(), stack.outputsFile)}

Try it:

  curl -s -X POST ${stack.apiUrl}/v1/payments \\
    -H "Authorization: Bearer ${stack.apiKey}" \\
    -H "Content-Type: application/json" \\
    -d '{"order_no": "order-1", "amount": 1250, "currency": "USD", "payment_method": "pm_card_visa"}'

Ctrl-C stops everything.`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping...');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (error) {
  console.error(`\nthe local stack could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

function portNumber(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a port number, got ${process.env[name]}`);
    process.exit(1);
  }
  return value;
}

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0)) {
    console.error(`${name} must be a positive number of seconds, got ${raw}`);
    process.exit(1);
  }
  return value;
}
