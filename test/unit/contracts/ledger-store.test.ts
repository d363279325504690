import { describeLedgerStoreContract } from '../../contracts/ledger-store.contract.ts';
import { StrictLedgerStore } from '../../support/strict/ledger.ts';

describeLedgerStoreContract('StrictLedgerStore', () => new StrictLedgerStore());
