import { isDeepStrictEqual } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../../functions/adapters/dynamodb/client.ts';
import { DynamoLedgerStore } from '../../../functions/adapters/dynamodb/ledger-store.ts';
import { DynamoMerchantKeyStore } from '../../../functions/adapters/dynamodb/merchant-key-store.ts';
import { ledger as providerLedger } from '../../../local/fake-provider/client.ts';
import { localClientConfig } from '../../../local/services/dynamodb-local.ts';
import { merchantLedgerViolations, providerTotalsOf } from './merchant-ledger.ts';

/** Where a stack keeps its ledger and its provider's: the local stack's table and the fake provider. */
export interface StackLedger {
  readonly providerUrl: string;
  readonly table: { readonly endpoint: string; readonly name: string };
}

/**
 * The ledger's promises for each merchant, read from a running stack: its balances and journal
 * from the table, its fee settings from its merchant record, against the fake provider's ledger.
 * Without `merchantIds`, every merchant the provider holds a PaymentIntent for: a merchant
 * charged and never posted is checked too.
 */
export async function stackLedgerViolations({ providerUrl, table }: StackLedger, merchantIds?: readonly string[]): Promise<string[]> {
  const db = createDocumentClient(new DynamoDBClient({ ...localClientConfig, endpoint: table.endpoint }));
  const store = new DynamoLedgerStore(db, table.name);
  const merchants = new DynamoMerchantKeyStore(db, table.name);
  const provider = await providerLedger(providerUrl);
  const ids = merchantIds ?? [...new Set(provider.paymentIntents.map((pi) => pi.metadata['merchant_id']).filter((id) => id !== undefined))];
  const found: string[] = [];
  for (const id of ids) {
    const [{ balances, journal }, settings] = await Promise.all([consistentLedgerOf(store, id), merchants.ledgerSettingsOf(id)]);
    found.push(...merchantLedgerViolations({ merchantId: id, balances, journal }, providerTotalsOf(provider, id), settings));
  }
  db.destroy();
  return found;
}

/**
 * A merchant's balances and journal as of one moment, while the stack may still post to them (the
 * schedule releasing funds, a stream record arriving late). Every posting writes its journal
 * entries and its balances in one transaction, so a journal read between two reads of the same
 * balances is of their moment; read apart, a posting committed between the reads looks like a
 * journal that does not add up.
 */
async function consistentLedgerOf(store: DynamoLedgerStore, merchantId: string) {
  for (let attempt = 1; ; attempt++) {
    const before = await store.balances(merchantId);
    const journal = await store.journal(merchantId);
    const balances = await store.balances(merchantId);
    if (isDeepStrictEqual(before, balances) || attempt === 5) return { balances, journal };
  }
}
