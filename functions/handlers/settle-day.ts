import type { Context } from 'aws-lambda';
import { Metric } from '../config/metrics.ts';
import { EnvVar, requireEnv } from '../config/env.ts';
import { providerBalanceLedgerCalls, withCrashPoints } from '../crash/crashing-ports.ts';
import { asInvocationOf } from '../crash/invocation.ts';
import { stripeProviderFromEnv } from '../adapters/stripe/client.ts';
import { ValidationError } from '../domain/errors.ts';
import { type SettleDeps, type SettleOutcome, settleDueDays } from '../domain/ledger/settle.ts';
import { isSettlementDate } from '../domain/ledger/settlement-day.ts';
import type { ProviderBalanceLedger } from '../domain/provider.ts';
import { once } from './shared/once.ts';
import { merchantKeyStore, settlementStore } from './shared/persistence.ts';
import { errorFields, logger, serviceMetrics as metrics } from './shared/observability.ts';

/** A day is settled this long after it ended: the stream posts its last payments meanwhile. */
const GRACE_MS = 30 * 60_000;
/** Both sides are read this far around the day: a capture each side dates a moment apart, across midnight, still matches. */
const MATCH_MARGIN_MS = 60 * 60_000;
/** Days per merchant per run: a schedule that stopped for a month catches up over a few runs. */
const MAX_DAYS_PER_RUN = 7;

/**
 * What EventBridge sends (its `time` is the run's clock), or what a person sends to settle
 * again by hand: `detail.merchant_id` and `detail.date` narrow the run to one merchant and to
 * days through that date. A day already settled is never written again.
 */
export interface SettleDayEvent {
  readonly time?: string;
  readonly detail?: { readonly date?: string; readonly merchant_id?: string };
}

const settleDeps = /* @__PURE__ */ once(
  async (): Promise<Omit<SettleDeps, 'clock'>> => ({
    store: settlementStore(),
    provider: withCrashPoints<ProviderBalanceLedger>(await stripeProviderFromEnv(), providerBalanceLedgerCalls),
    timeZoneOf: async (merchantId) => (await merchantKeyStore().ledgerSettingsOf(merchantId)).timeZone,
    deployment: requireEnv(EnvVar.DeploymentId),
    graceMs: GRACE_MS,
    matchMarginMs: MATCH_MARGIN_MS,
    maxDaysPerRun: MAX_DAYS_PER_RUN,
  }),
);

/** Left for the merchant in hand when the run stops taking new ones: its provider listing and writes. */
const STOP_BEFORE_END_MS = 5_000;

/** Invoked by its EventBridge schedule every hour: writes the statements of every merchant day that has ended. */
export function handler(
  event: SettleDayEvent = {},
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<{ written: number; alreadyWritten: number; failed: number; mismatches: number }> {
  return asInvocationOf('settle-day', () => run(event, () => (context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY) < STOP_BEFORE_END_MS));
}

async function run(event: SettleDayEvent, outOfTime: () => boolean) {
  try {
    const { now, merchantId, through } = parseEvent(event);
    const { outcomes, unattributed } = await settleDueDays(
      { ...(await settleDeps()), clock: () => now, outOfTime },
      { ...(merchantId && { merchantId }), ...(through && { through }) },
    );
    metrics.add(Metric.SettlementRuns);
    for (const outcome of outcomes) report(outcome);
    for (const { id, type, source, amount, currency, createdAt } of unattributed) {
      logger.warn('the provider moved money for no merchant of ours', { provider_transaction: id, type, source, amount, currency, created_at: createdAt });
    }
    const count = (kind: SettleOutcome['outcome']) => outcomes.filter((o) => o.outcome === kind).length;
    // Alarmed with the statements' differences: money the ledger cannot put on any statement.
    const mismatches = outcomes.reduce((total, o) => total + (o.outcome === 'written' ? o.mismatches.length : 0), unattributed.length);
    metrics.add(Metric.SettlementMismatches, mismatches);
    return { written: count('written'), alreadyWritten: count('already_written'), failed: count('errored'), mismatches };
  } finally {
    metrics.publish();
  }
}

function report({ merchantId, date, currency, outcome, statementId, mismatches, error }: SettleOutcome): void {
  const fields = { merchant_id: merchantId, date, currency, settlement_id: statementId, outcome };
  if (outcome === 'errored') {
    logger.error('could not settle the day', { ...fields, ...errorFields(error) });
    metrics.add(Metric.SettlementFailed);
    return;
  }
  metrics.add(outcome === 'written' ? Metric.SettlementStatementsWritten : Metric.SettlementStatementsAlreadyWritten);
  // Counted when written only: a rerun finds the same differences on the same statement.
  if (outcome === 'written' && mismatches.length > 0) logger.warn('the provider and the ledger differ', { ...fields, mismatches });
  else logger.info('settled the day', fields);
}

function parseEvent(event: SettleDayEvent): { now: Date; merchantId?: string; through?: string } {
  const now = event.time === undefined ? new Date() : new Date(event.time);
  if (Number.isNaN(now.getTime())) throw new ValidationError('time', `must be an ISO 8601 instant, got ${event.time}`);
  const { date, merchant_id: merchantId } = event.detail ?? {};
  if (date !== undefined && !isSettlementDate(date)) throw new ValidationError('detail.date', `must be a date YYYY-MM-DD, got ${date}`);
  if (merchantId !== undefined && (typeof merchantId !== 'string' || merchantId === '')) throw new ValidationError('detail.merchant_id', 'must name a merchant');
  return { now, ...(merchantId !== undefined && { merchantId }), ...(date !== undefined && { through: date }) };
}
