/**
 * `npm run localstack:test [-- <vitest args>]`: runs the integration suite against the stack
 * that `npm run localstack:deploy` put into LocalStack (see docs/localstack.md).
 *
 * Reads cdk-outputs.json, creates three merchants with fresh API keys in the deployed table,
 * and runs `vitest run --project integration` with API_URL, API_KEY, OTHER_API_KEY,
 * SHORT_HOLD_API_KEY and PROVIDER_URL set.
 *
 *   AWS_ENDPOINT_URL  LocalStack's endpoint (default http://localhost:4566)
 *   API_URL           the stage URL, if the one derived from the ApiUrl output does not suit
 *   PROVIDER_URL      the fake provider as this machine reaches it (default http://127.0.0.1:12111);
 *                     set it empty when the stack calls Stripe itself
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CDK_OUTPUTS_FILE,
  createMerchant,
  DEFAULT_LOCALSTACK_ENDPOINT,
  localStackClientConfig,
  PROJECT_ROOT,
  readCdkOutputs,
  STACK_NAME,
} from './merchants.ts';

const DEFAULT_PROVIDER_URL = 'http://127.0.0.1:12111';

/**
 * The stage URL on LocalStack's edge port, from the stack's ApiUrl output
 * (`https://<apiId>.execute-api.<region>.<suffix>/<stage>`), in LocalStack's path form
 * `<endpoint>/restapis/<apiId>/<stage>/_user_request_`, which needs no DNS.
 */
function localStackApiUrl(apiUrlOutput: string, endpoint: string): string {
  const url = new URL(apiUrlOutput);
  const apiId = url.hostname.split('.')[0];
  const stage = url.pathname.replace(/^\/+|\/+$/g, '');
  if (!apiId || !url.hostname.includes('.execute-api.') || stage === '' || stage.includes('/')) {
    throw new Error(`cannot read the API id and stage from ApiUrl ${apiUrlOutput}; set API_URL`);
  }
  return `${endpoint.replace(/\/+$/, '')}/restapis/${apiId}/${stage}/_user_request_`;
}

async function main(vitestArgs: string[]): Promise<number> {
  const outputs = readCdkOutputs();
  if (outputs === undefined) {
    throw new Error(`${path.relative(process.cwd(), CDK_OUTPUTS_FILE)} does not exist: run \`npm run localstack:deploy\` first`);
  }
  if (outputs.ApiUrl === undefined || outputs.TableName === undefined) {
    throw new Error(
      `${path.relative(process.cwd(), CDK_OUTPUTS_FILE)} has no ${STACK_NAME}.ApiUrl and TableName: run \`npm run localstack:deploy\` first`,
    );
  }
  const endpoint = process.env.AWS_ENDPOINT_URL ?? DEFAULT_LOCALSTACK_ENDPOINT;
  const apiUrl = process.env.API_URL || localStackApiUrl(outputs.ApiUrl, endpoint);
  const providerUrl = process.env.PROVIDER_URL ?? DEFAULT_PROVIDER_URL;
  if (providerUrl !== '') await assertAnswers(providerUrl);

  const client = new DynamoDBClient(localStackClientConfig(outputs));
  let apiKey: string;
  let otherApiKey: string;
  let shortHoldApiKey: string;
  try {
    const merchant = await createMerchant({ client, tableName: outputs.TableName, name: 'Integration test merchant' });
    const other = await createMerchant({ client, tableName: outputs.TableName, name: 'Integration test, another merchant' });
    // Carts that expire in seconds, for the tests of the schedule's expiry.
    const shortHolds = await createMerchant({
      client,
      tableName: outputs.TableName,
      name: 'Integration test, short holds',
      cartHoldSeconds: 3,
    });
    apiKey = merchant.apiKey;
    otherApiKey = other.apiKey;
    shortHoldApiKey = shortHolds.apiKey;
    console.log(`merchants  ${merchant.merchantId}, ${other.merchantId}, ${shortHolds.merchantId} (table ${outputs.TableName})`);
  } finally {
    client.destroy();
  }
  console.log(`API        ${apiUrl}`);
  console.log(`provider   ${providerUrl || '(none: the stack calls Stripe)'}\n`);

  const vitest = path.join(PROJECT_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const child = spawn(process.execPath, [vitest, 'run', '--project', 'integration', ...vitestArgs], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      API_URL: apiUrl,
      API_KEY: apiKey,
      OTHER_API_KEY: otherApiKey,
      SHORT_HOLD_API_KEY: shortHoldApiKey,
      PROVIDER_URL: providerUrl,
    },
  });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/** Fails early, with what to do, when the fake provider is not running. */
async function assertAnswers(providerUrl: string): Promise<void> {
  try {
    await fetch(new URL('/v1/payment_intents', providerUrl), { signal: AbortSignal.timeout(3000) });
  } catch (error) {
    throw new Error(
      `the fake provider does not answer at ${providerUrl} (${error instanceof Error ? error.message : String(error)}).\n` +
        'Start it with `npx tsx local/fake-provider/main.ts --host 0.0.0.0 --port 12111 --data-dir .local/provider --require-idempotency-key`, ' +
        'or set PROVIDER_URL= (empty) if the stack calls Stripe itself.',
    );
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`localstack:test: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
