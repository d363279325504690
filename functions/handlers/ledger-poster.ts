import type { DynamoDBStreamEvent } from 'aws-lambda';
import { sourceChangeOf } from '../adapters/dynamodb/stream-changes.ts';
import { Metric } from '../config/metrics.ts';
import { asInvocationOf } from '../crash/invocation.ts';
import { postChange } from '../domain/ledger/ledger.ts';
import { ledgerDeps } from './shared/ledger.ts';
import { errorFields, logger, serviceMetrics as metrics } from './shared/observability.ts';

const metricOf = {
  posted: Metric.LedgerPosted,
  already_posted: Metric.LedgerAlreadyPosted,
  nothing_to_post: Metric.LedgerNothingToPost,
} as const;

/**
 * The table's stream, filtered to succeeded payments and refunds: each change posted in the
 * order of its shard. A record that fails fails the batch, which the event source mapping
 * delivers again (split in two, so a record that keeps failing ends up alone and then in the
 * on-failure queue); records posted before it are posted once more as a no-op.
 */
export function handler(event: DynamoDBStreamEvent): Promise<{ posted: number }> {
  return asInvocationOf('ledger-poster', async () => {
    let posted = 0;
    try {
      for (const record of event.Records) {
        const change = sourceChangeOf(record);
        if (change === undefined) continue;
        const fields = { kind: change.kind, id: change.kind === 'payment' ? change.after.paymentNo : change.after.refundNo, sequence: record.dynamodb?.SequenceNumber };
        try {
          const outcome = await postChange(ledgerDeps(), change);
          if (outcome === 'posted') posted += 1;
          logger.info('ledger', { ...fields, outcome });
          metrics.add(metricOf[outcome]);
        } catch (error) {
          logger.error('could not post to the ledger', { ...fields, ...errorFields(error) });
          metrics.add(Metric.LedgerPostFailed);
          throw error;
        }
      }
      return { posted };
    } finally {
      metrics.publish();
    }
  });
}
