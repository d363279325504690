import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** `npm run merchant:create` with `args`, against an endpoint where nothing listens: what it says and how it exits. */
function createMerchant(...args: string[]) {
  const run = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), ['bin/create-merchant.ts', '--name', 'Shop', '--table', 'payments', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' },
  });
  return { status: run.status, stderr: run.stderr };
}

describe('npm run merchant:create', () => {
  it.each([
    ['--fee-bps=1.5', /--fee-bps "1.5" must be a whole number of basis points from 0 to 10000/],
    ['--fee-bps=10001', /--fee-bps "10001" must be a whole number of basis points/],
    ['--fee-fixed=-1', /--fee-fixed "-1" must be a whole number of minor units, 0 or more/],
    ['--payout-delay-days=', /--payout-delay-days "" must be a whole number of days from 0 to 365/],
    ['--time-zone=Mars/Olympus_Mons', /--time-zone "Mars\/Olympus_Mons" must be an IANA time zone/],
  ])('refuses %s naming the flag, before it reaches the table', (flag, said) => {
    // Act
    const { status, stderr } = createMerchant(flag);

    // Assess
    expect(status).toBe(1);
    expect(stderr).toMatch(said);
    expect(stderr).not.toMatch(/nothing answers/);
  });

  it('takes valid ledger settings on to the table (here: nothing answers there)', () => {
    // Act
    const { status, stderr } = createMerchant('--fee-bps=150', '--fee-fixed=0', '--payout-delay-days=7', '--time-zone=Europe/Paris');

    // Assess
    expect(status).toBe(1);
    expect(stderr).toMatch(/nothing answers at http:\/\/127.0.0.1:9/);
  });
});
