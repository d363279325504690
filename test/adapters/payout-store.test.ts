import { describe, expect, it } from 'vitest';
import { DynamoLedgerStore } from '../../functions/adapters/dynamodb/ledger-store.ts';
import { DynamoPayoutStore } from '../../functions/adapters/dynamodb/payout-store.ts';
import { failingChecks } from '../contracts/contract.ts';
import { describePayoutStoreContract, payoutStoreContract } from '../contracts/payout-store.contract.ts';
import { localTableForThisFile } from './local-table.ts';
import { weakenedConditions } from './weakened-client.ts';

/** The payouts' DynamoDB store held to its contract on DynamoDB Local, and each of its guards weakened once. */
const table = localTableForThisFile();

describePayoutStoreContract('DynamoPayoutStore on DynamoDB Local', () => ({
  payouts: new DynamoPayoutStore(table().db, table().name),
  ledger: new DynamoLedgerStore(table().db, table().name),
}));

describe('each guard of a payout, weakened on purpose, fails the contract on DynamoDB Local', () => {
  it.each([
    {
      edit: 'the balance is moved whether or not available covers the payout',
      from: '#available >= :covers',
      caughtBy: 'refuses a payout that available does not cover, writing none of it',
    },
    {
      edit: 'a payout is replaced whatever version it is at',
      from: '#status = :status AND #version = :version',
      caughtBy: 'refuses a change over a payout that moved on since it was read, writing none of its posting',
    },
  ])('$edit', async ({ from, caughtBy }) => {
    // Prepare
    const weakened = weakenedConditions(table().db, from, '');

    // Act
    const failures = await failingChecks(payoutStoreContract, () => ({
      payouts: new DynamoPayoutStore(weakened.db, table().name),
      ledger: new DynamoLedgerStore(table().db, table().name),
    }));

    // Assess
    expect(weakened.strikes()).toBeGreaterThan(0);
    expect(Object.keys(failures)).toContain(caughtBy);
  });
});
