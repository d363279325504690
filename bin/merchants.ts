/**
 * Merchants and their API keys, for operators: what `npm run merchant:create` and
 * `npm run localstack:test` use. Keys are made and stored by the product's own code
 * (`issueApiKey`, `DynamoMerchantKeyStore`): only a key's SHA-256 reaches
 * the table, and the key itself is returned once, to be shown once.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../functions/adapters/dynamodb/client.ts';
import { DynamoMerchantKeyStore } from '../functions/adapters/dynamodb/merchant-key-store.ts';
import type { LedgerSettings } from '../functions/domain/ledger/fees.ts';
import { issueApiKey } from '../functions/domain/api-keys.ts';
import { ChargeonceError } from '../functions/domain/errors.ts';
import { localClientConfig } from '../local/services/dynamodb-local.ts';
import type { LocalOutputs } from '../local/local-stack.ts';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');
/** The stack's name in `bin/app.ts`, and so its key in `cdk-outputs.json`. */
export const STACK_NAME = 'Chargeonce';
/** Where `cdk deploy --outputs-file` / `npm run localstack:deploy` write the stack's outputs. */
export const CDK_OUTPUTS_FILE = path.join(PROJECT_ROOT, 'cdk-outputs.json');
/** Where `npm start` writes the local stack's outputs. */
export const LOCAL_OUTPUTS_FILE = path.join(PROJECT_ROOT, '.local', 'outputs.json');
/** LocalStack's edge endpoint when `AWS_ENDPOINT_URL` does not name another. */
export const DEFAULT_LOCALSTACK_ENDPOINT = 'http://localhost:4566';

const MERCHANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_NAME_LENGTH = 200;

export interface CreateMerchantOptions extends TableTarget {
  readonly name: string;
  /** An existing merchant's id adds one more key to it (and updates its name); default: a new id. */
  readonly merchantId?: string;
  /** Minor units one loyalty point is worth at checkout; default 1. */
  readonly pointValue?: number;
  /** How long the merchant's carts hold seats; default the deployment's. */
  readonly cartHoldSeconds?: number;
  /** Its fee, payout delay and time zone, as the ledger reads them; each the default unless given. */
  readonly ledger?: Partial<LedgerSettings>;
}

export interface CreatedMerchant {
  readonly merchantId: string;
  readonly name: string;
  /** The only copy of the key: the table holds its SHA-256. */
  readonly apiKey: string;
}

/** The caller's input is wrong or missing (as opposed to the table, the endpoint or credentials). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function newMerchantId(): string {
  return `merchant_${randomBytes(8).toString('hex')}`;
}

/** Stores a merchant and a new API key for it in `tableName`; returns the key, once. */
export async function createMerchant(options: CreateMerchantOptions): Promise<CreatedMerchant> {
  const name = options.name.trim();
  if (name === '') throw new UsageError('the merchant name is empty');
  if (name.length > MAX_NAME_LENGTH) throw new UsageError(`the merchant name is longer than ${MAX_NAME_LENGTH} characters`);
  const merchantId = options.merchantId ?? newMerchantId();
  if (!MERCHANT_ID_PATTERN.test(merchantId)) {
    throw new UsageError(`merchant id ${JSON.stringify(merchantId)} must be 1-64 letters, digits, "_" or "-"`);
  }

  const { apiKey } = await withKeyStore(options, (store) =>
    issueApiKey(store, {
      merchantId,
      name,
      ...(options.pointValue !== undefined && { pointValue: options.pointValue }),
      ...(options.cartHoldSeconds !== undefined && { cartHoldSeconds: options.cartHoldSeconds }),
      ...(options.ledger !== undefined && { ledger: options.ledger }),
    }),
  );
  return { merchantId, name, apiKey };
}

/** Where an operator's command finds the merchants: the table, and the client to reach it (default: the AWS SDK's own environment). */
export interface TableTarget {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
}

/** Runs `work` on the table's merchant key store, its AWS failures reworded into what to do. */
export async function withKeyStore<T>(target: TableTarget, work: (store: DynamoMerchantKeyStore) => Promise<T>): Promise<T> {
  if (target.tableName.trim() === '') throw new UsageError('the table name is empty');
  const client = target.client ?? new DynamoDBClient({});
  try {
    return await work(new DynamoMerchantKeyStore(createDocumentClient(client), target.tableName));
  } catch (error) {
    // The domain's own refusal (no such key or merchant) says what is wrong already.
    if (error instanceof ChargeonceError && error.httpStatus < 500) throw error;
    throw await explainAwsError(error, target.tableName, client);
  } finally {
    if (target.client === undefined) client.destroy();
  }
}

/** The flags every operator command takes for where it works, and its help. */
export const TARGET_FLAGS = {
  table: { type: 'string' },
  localstack: { type: 'boolean', default: false },
  local: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export type CommandFlags<F extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: F & typeof TARGET_FLAGS; strict: true; allowPositionals: false }>>['values'];

/**
 * Runs an operator command: its flags parsed (with {@link TARGET_FLAGS}), `--help` answered
 * with `usage`, then `main`; a failure is one line on stderr (and the usage, when the
 * arguments were at fault) and exit code 1.
 */
export async function runCommand<F extends ParseArgsOptionsConfig>(
  name: string,
  usage: string,
  flags: F,
  main: (values: CommandFlags<F>) => Promise<void>,
): Promise<void> {
  try {
    const parsed = parseArgs({ args: process.argv.slice(2), options: { ...flags, ...TARGET_FLAGS }, strict: true, allowPositionals: false });
    if ((parsed.values as { help?: boolean }).help) console.log(usage);
    else await main(parsed.values as CommandFlags<F>);
  } catch (error) {
    console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    const badArguments = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (badArguments) console.error(`\n${usage}`);
    process.exitCode = 1;
  }
}

/** Where an operator's command works: `--table`, `--local` (`npm start`'s stack) or `--localstack`, else the AWS SDK's own environment. */
export function tableTarget(values: { readonly table?: string | undefined; readonly local?: boolean | undefined; readonly localstack?: boolean | undefined }): {
  readonly tableName: string;
  readonly client: DynamoDBClient | undefined;
  /** The endpoint, in words, for what the command prints. */
  readonly where: string;
} {
  if (values.localstack && values.local) throw new UsageError('--localstack and --local exclude each other');
  let tableName: string | undefined = values.table;
  let client: DynamoDBClient | undefined;
  let where: string;
  if (values.local) {
    const target = localRuntimeTarget();
    tableName ??= target.tableName;
    client = new DynamoDBClient(target.config);
    where = `the local stack (${target.config.endpoint})`;
  } else {
    // cdk-outputs.json names the table, and LocalStack's region; it only has to be readable when needed.
    let outputs: StackOutputs | undefined;
    let unreadable: unknown;
    try {
      outputs = readCdkOutputs();
    } catch (error) {
      unreadable = error;
    }
    tableName ??= process.env.TABLE_NAME || outputs?.TableName;
    if (!tableName && unreadable !== undefined) throw unreadable;
    if (values.localstack) {
      const config = localStackClientConfig(outputs);
      client = new DynamoDBClient(config);
      where = `LocalStack (${config.endpoint}, ${String(config.region)})`;
    } else {
      where = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL ?? 'AWS';
    }
  }
  if (tableName === undefined || tableName === '') {
    throw new UsageError(
      `no table: pass --table <name>, set TABLE_NAME, or deploy with --outputs-file ${path.relative(process.cwd(), CDK_OUTPUTS_FILE)}`,
    );
  }

  return { tableName, client, where };
}

/** Rewords the failures an operator meets (no table, no credentials, nothing listening) into what to do. */
async function explainAwsError(error: unknown, tableName: string, client: DynamoDBClient): Promise<Error> {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  const endpoint = await client.config.endpoint?.().catch(() => undefined);
  const url = endpoint
    ? `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}`
    : (process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL);
  const at = url ? ` at ${url}` : '';
  const region = await client.config.region().catch(() => undefined);
  if (name === 'ResourceNotFoundException') {
    return new Error(`table ${tableName} does not exist${at} in region ${region ?? '(none)'}`, { cause: error });
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new Error(`no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (${message})`, { cause: error });
  }
  if (/region is missing/i.test(message)) {
    return new Error('no AWS region: set AWS_REGION, or a region in your AWS profile', { cause: error });
  }
  const code = (error as { code?: string; cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
  if (code === 'ECONNREFUSED') {
    return new Error(`nothing answers${at || ' at the DynamoDB endpoint'}: is it running?`, { cause: error });
  }
  return error instanceof Error ? error : new Error(message);
}

/** The Chargeonce stack's outputs, as `cdk deploy --outputs-file` writes them. */
export interface StackOutputs {
  readonly ApiUrl?: string;
  readonly TableName?: string;
  readonly StateMachineArn?: string;
  readonly StripeSecretArn?: string;
}

/** The stack's outputs from `file`, or undefined when there is no such file. */
export function readCdkOutputs(file = CDK_OUTPUTS_FILE): StackOutputs | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: Record<string, StackOutputs | undefined>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, StackOutputs | undefined>;
  } catch (error) {
    throw new Error(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const outputs = parsed[STACK_NAME];
  if (outputs === undefined) throw new Error(`${file} has no outputs of the ${STACK_NAME} stack`);
  return outputs;
}

/**
 * A DynamoDB client for a LocalStack deployment, with what `cdklocal` deploys with: its
 * endpoint (`AWS_ENDPOINT_URL`, else http://localhost:4566), the region of the deployed
 * state machine (else us-east-1) and LocalStack's `test` credentials.
 */
export function localStackClientConfig(outputs?: StackOutputs): DynamoDBClientConfig & { endpoint: string } {
  const region = outputs?.StateMachineArn?.split(':')[3] || 'us-east-1';
  return {
    endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL ?? DEFAULT_LOCALSTACK_ENDPOINT,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

/**
 * The table and a DynamoDB client of the running local stack (`npm start`), from the
 * outputs it writes. DynamoDB Local keeps one database per access key and region, so the
 * client uses the local stack's own.
 */
export function localRuntimeTarget(file = LOCAL_OUTPUTS_FILE): { tableName: string; config: DynamoDBClientConfig & { endpoint: string } } {
  if (!existsSync(file)) throw new Error(`${file} does not exist: start the local stack with \`npm start\` first`);
  const outputs = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalOutputs>;
  if (!outputs.tableName || !outputs.dynamoDbEndpoint) {
    throw new Error(`${file} names no table or DynamoDB endpoint: restart the local stack with \`npm start\``);
  }
  return { tableName: outputs.tableName, config: { ...localClientConfig, endpoint: outputs.dynamoDbEndpoint } };
}
