import { describe, expect, it } from 'vitest';
import { DynamoLedgerStore } from '../../functions/adapters/dynamodb/ledger-store.ts';
import { failingChecks } from '../contracts/contract.ts';
import { describeLedgerStoreContract, ledgerStoreContract } from '../contracts/ledger-store.contract.ts';
import { localTableForThisFile } from './local-table.ts';
import { weakenedConditions } from './weakened-client.ts';

/** The ledger's DynamoDB store held to its contract on DynamoDB Local, and each of its guards weakened once. */
const table = localTableForThisFile();

describeLedgerStoreContract('DynamoLedgerStore on DynamoDB Local', () => new DynamoLedgerStore(table().db, table().name));

describe('each guard of a posting, weakened on purpose, fails the contract on DynamoDB Local', () => {
  it.each([
    {
      edit: 'a journal transaction is put whether or not its key exists',
      from: 'attribute_not_exists(pk)',
      caughtBy: 'writes a posting once: delivered again, it changes no balance and adds no journal transaction',
    },
    {
      edit: 'a charge is updated whatever version it is at',
      from: '#version = :version',
      caughtBy: 'refuses a posting over a charge that changed since it was read, writing none of it',
    },
  ])('$edit', async ({ from, caughtBy }) => {
    // Prepare
    const weakened = weakenedConditions(table().db, from, '');

    // Act
    const failures = await failingChecks(ledgerStoreContract, () => new DynamoLedgerStore(weakened.db, table().name));

    // Assess
    expect(weakened.strikes()).toBeGreaterThan(0);
    expect(Object.keys(failures)).toContain(caughtBy);
  });
});
