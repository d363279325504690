/**
 * `npm run merchant:create -- --name <name> [--merchant-id <id>] [--point-value <n>] [--cart-hold-seconds <n>] [--fee-bps <n>] [--fee-fixed <n>] [--payout-delay-days <n>] [--time-zone <zone>] [--table <table>] [--localstack | --local]`
 *
 * Creates a merchant and a new API key for it in the stack's table and prints the key, once:
 * the table keeps only its SHA-256. `--merchant-id` of an existing merchant adds one more key
 * to it (and updates its name).
 *
 * Where: the AWS SDK's own environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB /
 * AWS_ENDPOINT_URL...) for a deployed stack; `--localstack` for a `cdklocal` deployment
 * (LocalStack's endpoint, region and test credentials); `--local` for `npm start`'s stack.
 * The table: `--table`, else TABLE_NAME, else `Chargeonce.TableName` in cdk-outputs.json
 * (with `--local`: the local stack's table).
 */
import { DEFAULT_LEDGER_SETTINGS, type LedgerSettings, ledgerSettingsProblems } from '../functions/domain/ledger/fees.ts';
import { type CommandFlags, createMerchant, runCommand, STACK_NAME, tableTarget, UsageError } from './merchants.ts';

const USAGE = `usage: npm run merchant:create -- --name <name> [--merchant-id <id>] [--point-value <n>] [--cart-hold-seconds <n>]
         [--fee-bps <n>] [--fee-fixed <n>] [--payout-delay-days <n>] [--time-zone <zone>] [--table <table>] [--localstack | --local]

  --name <name>         the merchant's display name (required)
  --merchant-id <id>    default: a new merchant_<random> id; an existing id gets one more key
  --point-value <n>     minor units one loyalty point is worth at checkout (default 1)
  --cart-hold-seconds <n>  how long this merchant's carts hold seats (default: CART_HOLD_SECONDS, 30 min)
  --fee-bps <n>         the fee's percentage part, in basis points of each captured amount (default ${DEFAULT_LEDGER_SETTINGS.feeBps})
  --fee-fixed <n>       the fee's fixed part, in minor units per captured payment (default ${DEFAULT_LEDGER_SETTINGS.feeFixed})
  --payout-delay-days <n>  days from capture until funds are available (default ${DEFAULT_LEDGER_SETTINGS.payoutDelayDays})
  --time-zone <zone>    the IANA time zone its settlement days are cut in (default ${DEFAULT_LEDGER_SETTINGS.timeZone})
  --table <table>       default: TABLE_NAME, else ${STACK_NAME}.TableName in cdk-outputs.json
  --localstack          target LocalStack (AWS_ENDPOINT_URL, default http://localhost:4566)
  --local               target the local stack of \`npm start\` (its table, in DynamoDB Local)
  -h, --help            this text`;

/** A setting given as a whole number, 1 or more; undefined when not given. */
function wholeNumberOption(raw: string | undefined, option: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!(Number.isSafeInteger(value) && value >= 1)) throw new UsageError(`${option} must be a whole number, 1 or more`);
  return value;
}

/** The ledger's flags, by the setting each sets. */
const LEDGER_FLAGS = {
  feeBps: 'fee-bps',
  feeFixed: 'fee-fixed',
  payoutDelayDays: 'payout-delay-days',
  timeZone: 'time-zone',
} as const satisfies Partial<Record<keyof LedgerSettings, string>>;
type LedgerSetting = keyof typeof LEDGER_FLAGS;

/** The ledger settings given, checked by the ledger's own rule; a {@link UsageError} names the first flag at fault. */
function ledgerOptions(values: Partial<Record<string, unknown>>): Partial<LedgerSettings> | undefined {
  const given: Partial<Record<LedgerSetting, string | number>> = {};
  for (const [setting, flag] of Object.entries(LEDGER_FLAGS) as [LedgerSetting, string][]) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    // Number('') is 0: an empty value is no number.
    given[setting] = setting === 'timeZone' ? raw : raw.trim() === '' ? Number.NaN : Number(raw);
  }
  const [problem] = Object.entries(ledgerSettingsProblems(given as Partial<LedgerSettings>)) as [LedgerSetting, string][];
  if (problem !== undefined) {
    const [setting, why] = problem;
    throw new UsageError(`--${LEDGER_FLAGS[setting]} ${JSON.stringify(values[LEDGER_FLAGS[setting]])} ${why}`);
  }
  return Object.keys(given).length === 0 ? undefined : (given as Partial<LedgerSettings>);
}

const FLAGS = {
  name: { type: 'string' },
  'merchant-id': { type: 'string' },
  'point-value': { type: 'string' },
  'cart-hold-seconds': { type: 'string' },
  'fee-bps': { type: 'string' },
  'fee-fixed': { type: 'string' },
  'payout-delay-days': { type: 'string' },
  'time-zone': { type: 'string' },
} as const;

async function main(values: CommandFlags<typeof FLAGS>): Promise<void> {
  if (values.name === undefined) throw new UsageError('--name is required');
  const pointValue = wholeNumberOption(values['point-value'], '--point-value');
  const cartHoldSeconds = wholeNumberOption(values['cart-hold-seconds'], '--cart-hold-seconds');
  const ledger = ledgerOptions(values);

  const { tableName, client, where } = tableTarget(values);

  try {
    const merchant = await createMerchant({
      tableName,
      name: values.name,
      ...(values['merchant-id'] !== undefined && { merchantId: values['merchant-id'] }),
      ...(pointValue !== undefined && { pointValue }),
      ...(cartHoldSeconds !== undefined && { cartHoldSeconds }),
      ...(ledger !== undefined && { ledger }),
      ...(client !== undefined && { client }),
    });
    console.error(`Created an API key for merchant ${merchant.merchantId} (${merchant.name}) in table ${tableName} on ${where}.`);
    console.error('The key is shown this once; only its SHA-256 is stored:\n');
    console.log(merchant.apiKey);
  } finally {
    client?.destroy();
  }
}

await runCommand('merchant:create', USAGE, FLAGS, main);
