import { reconcileLeaseSeconds, reconcileMaxResumes } from '../../functions/config/env.ts';
import { reconcile } from '../../functions/domain/reconcile.ts';
import { type Actor, Killed } from './scheduler.ts';
import { DEPLOYMENT, type World } from './world.ts';

/** One run of the schedule's reconciler: a Lambda invocation like any other. */
export function runReconciler(world: World, batchSize: number): Actor {
  return world.spawn(`reconciler #${world.nextNumber()}`, 'reconciler', async (actor) => {
    const ports = world.portsOf(actor);
    try {
      const outcomes = await reconcile(
        {
          payments: ports.payments,
          workflow: ports.paymentWorkflow,
          refunds: ports.refunds,
          refundWorkflow: ports.refundWorkflow,
          provider: ports.provider,
          clock: world.clock.clock,
          reconcileAfterSeconds: world.reconcileAfterSeconds,
          maxResumes: reconcileMaxResumes(),
          deployment: DEPLOYMENT,
          leaseSeconds: reconcileLeaseSeconds(),
          newLeaseOwner: () => `reconciler-${world.nextNumber()}`,
        },
        batchSize,
      );
      for (const outcome of outcomes) {
        world.count(`reconciled ${outcome.refundNo === undefined ? 'payment' : 'refund'}: ${outcome.decision}`);
        world.log(`${actor.name} ${outcome.refundNo ?? outcome.paymentNo} ${outcome.decision}`);
      }
    } catch (error) {
      if (error instanceof Killed) world.count('reconciler died');
      else world.noteUnexpected('reconciler', error);
    }
  });
}
