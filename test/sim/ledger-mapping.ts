import { postChange } from '../../functions/domain/ledger/ledger.ts';
import { deliverWithRetries, matchesAny } from '../../local/services/streams-poller.ts';
import type { StreamRecord } from '../support/strict/stream.ts';
import { type Actor, Killed } from './scheduler.ts';
import type { World } from './world.ts';

/** What the mapping gave up on, as its on-failure queue receives it. */
export interface GivenUp {
  readonly shard: number;
  readonly sequences: readonly number[];
  readonly error: string;
}

/** Lambda's backoff between retries of a stream batch: from a second, doubling, at most a minute. */
const retryBackoffMs = (retry: number) => Math.min(60_000, 1000 * 2 ** (retry - 1));

/**
 * The ledger poster's event source mapping (the template's: batch size, filter, retries,
 * bisection) over the world's stream. Per shard, one delivery at a time, an actor like any
 * other: it reads from the shard's checkpoint, keeps what the filter passes, invokes the poster
 * (the product's domain, its ledger store behind gates) with each batch, each invocation a
 * Lambda the history may kill at any gate or whose answer it may lose (then the batch comes
 * again: a record is delivered at least once), and moves the checkpoint only once the batch
 * was taken or given up on (`world.ledgerGivenUp`).
 */
export function runLedgerMapping(world: World): void {
  const mapping = world.ledgerMapping;
  const delivering = new Set<number>();
  const deliverShard = (shard: number) => {
    if (delivering.has(shard)) return;
    delivering.add(shard);
    world.spawn(`ledger mapping shard ${shard} #${world.nextNumber()}`, 'ledger-mapping', async (actor) => {
      // The mapping is Lambda's own service: only the invocations it makes are Lambdas that can die.
      actor.invocation.ended = true;
      for (;;) {
        const read = world.stream.read(shard, mapping.batchSize);
        if (read.length === 0) break;
        const passing = read.filter((record) => matchesAny(mapping.filters, filterViewOf(record)));
        await deliverWithRetries(passing, {
          invoke: (batch) => invokePoster(world, actor, batch),
          maximumRetryAttempts: mapping.maximumRetryAttempts,
          bisect: mapping.bisectBatchOnFunctionError,
          backoff: async (retry) => {
            await world.sleep(actor, retryBackoffMs(retry));
          },
          giveUp: (batch, retries, error) => {
            world.ledgerGivenUp.push({ shard, sequences: batch.map((r) => r.sequence), error: `after ${retries} retries: ${describe(error)}` });
          },
        });
        world.stream.checkpoint(shard, read.length);
      }
      delivering.delete(shard);
    });
  };
  world.stream.onRecord = deliverShard;
}

/**
 * One invocation of the ledger poster with `batch`, as its handler runs it: each change posted
 * in order, the first failure failing the batch. Rejects as the invocation failed: it threw,
 * died, or its answer was lost.
 */
async function invokePoster(world: World, actor: Actor, batch: readonly StreamRecord[]): Promise<void> {
  if (batch.length === 0) return;
  actor.invocation = world.invocation('ledger-poster');
  const deps = world.ledgerDeps(world.portsOf(actor));
  let failure: unknown;
  try {
    for (const { change } of batch) world.count(`ledger ${await postChange(deps, change)}`);
  } catch (error) {
    failure = error;
  }
  const { invocation } = actor;
  if (invocation.killed) throw new Killed('ledger poster');
  const decision = await world.returning(actor);
  invocation.ended = true;
  if (decision.kind === 'crash') throw new Killed('ledger poster, before it answered');
  if (decision.kind === 'fault') {
    world.count('ledger batch answer lost');
    throw new Error("the ledger poster's answer was lost");
  }
  if (failure !== undefined) {
    world.count(`ledger batch failed: ${failure instanceof Error ? failure.name : 'Error'}`);
    world.noteUnexpected('ledger poster', failure);
    throw failure;
  }
}

/** The parts of a stream record the mapping's filter criteria look at, as DynamoDB Streams gives them. */
function filterViewOf({ change }: StreamRecord) {
  return {
    eventName: change.before === undefined ? 'INSERT' : 'MODIFY',
    dynamodb: { NewImage: { type: { S: change.kind }, status: { S: change.after.status } } },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
