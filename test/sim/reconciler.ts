import { reconcileLeaseSeconds } from '../../functions/config/env.ts';
import { creditFailedPayBack } from '../../functions/domain/carts/fulfilment.ts';
import { sweepCarts } from '../../functions/domain/carts/sweep.ts';
import { releaseDueFunds } from '../../functions/domain/ledger/ledger.ts';
import { reconcile } from '../../functions/domain/reconcile.ts';
import { StrictPayoutStore } from '../support/strict/payouts.ts';
import { StrictWorkflow } from '../support/strict/workflow.ts';
import { type Actor, Killed } from './scheduler.ts';
import { schoolDeps } from './school.ts';
import { DEPLOYMENT, type World } from './world.ts';

/** One run of the schedule's reconciler, then its sweep of carts and holds and its release of funds, as its handler runs them: a Lambda invocation like any other. */
export function runReconciler(world: World, batchSize: number, maxResumes: number): Actor {
  return world.spawn(`reconciler #${world.nextNumber()}`, 'reconciler', async (actor) => {
    const ports = world.portsOf(actor);
    try {
      const outcomes = await reconcile(
        {
          payments: ports.payments,
          workflow: ports.paymentWorkflow,
          refunds: ports.refunds,
          refundWorkflow: ports.refundWorkflow,
          // The simulated histories make no payouts.
          payouts: new StrictPayoutStore(),
          payoutWorkflow: new StrictWorkflow(world.clock.clock),
          provider: ports.provider,
          clock: world.clock.clock,
          reconcileAfterSeconds: world.reconcileAfterSeconds,
          maxResumes,
          deployment: DEPLOYMENT,
          leaseSeconds: reconcileLeaseSeconds(),
          newLeaseOwner: () => `reconciler-${world.nextNumber()}`,
          onRefundFailed: (refund) => creditFailedPayBack(schoolDeps(world, actor, ports, true), refund),
        },
        batchSize,
      );
      for (const outcome of outcomes) {
        world.count(`reconciled ${outcome.refundNo === undefined ? 'payment' : 'refund'}: ${outcome.decision}`);
        world.log(`${actor.name} ${outcome.refundNo ?? outcome.paymentNo} ${outcome.decision}`);
      }
      for (const swept of await sweepCarts(schoolDeps(world, actor, ports, true), batchSize)) {
        world.count(`swept ${swept.classId === undefined ? 'cart' : 'hold'}: ${swept.decision}`);
        world.log(`${actor.name} ${swept.cartId} ${swept.decision}`);
        // The sweep records what it could not do and goes on; a Lambda that died stops here.
        if (swept.error instanceof Killed) throw swept.error;
        if (swept.error !== undefined) world.noteUnexpected('cart sweep', swept.error);
      }
      for (const released of await releaseDueFunds(world.ledgerDeps(ports), batchSize)) {
        world.count(`released funds: ${released.outcome}`);
        // As the sweep: a charge not released is left for the next run; a Lambda that died stops here.
        if (released.error instanceof Killed) throw released.error;
        if (released.error !== undefined) world.noteUnexpected('release of funds', released.error);
      }
    } catch (error) {
      if (error instanceof Killed) world.count('reconciler died');
      else world.noteUnexpected('reconciler', error);
    }
  });
}
