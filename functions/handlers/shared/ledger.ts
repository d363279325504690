import type { LedgerDeps } from '../../domain/ledger/ledger.ts';
import { once, systemClock } from './once.ts';
import { ledgerStore, merchantKeyStore } from './persistence.ts';

/** What posting and releasing need: the ledger, the merchants' fee settings and the clock. */
export const ledgerDeps = /* @__PURE__ */ once(
  (): LedgerDeps => ({
    ledger: ledgerStore(),
    settingsOf: (merchantId) => merchantKeyStore().ledgerSettingsOf(merchantId),
    clock: systemClock,
  }),
);
