import { addSwimmer, createAccount, createClass } from '../../functions/domain/carts/catalog.ts';
import type { CheckoutDeps } from '../../functions/domain/carts/checkout.ts';
import { USD } from './currencies.ts';
import { InMemorySchoolStore } from './in-memory-school-store.ts';
import { ManualClock } from './manual-clock.ts';
import { StrictPaymentRepository } from './strict/payments.ts';
import { StrictRefundRepository } from './strict/refunds.ts';
import { StrictWorkflow } from './strict/workflow.ts';

export const T0 = Date.parse('2026-11-23T10:00:00Z');
export const HOLD_SECONDS = 1800;
export const RECONCILE_AFTER_SECONDS = 60;

/**
 * The school's domain on in-memory ports as strict as the services (the store, payments,
 * refunds, Step Functions' executions), a clock the test moves, conflict backoffs that only
 * record what they would wait.
 */
export function schoolWorld() {
  const time = new ManualClock(T0);
  const store = new InMemorySchoolStore();
  const payments = new StrictPaymentRepository({ clock: time.clock });
  const refunds = new StrictRefundRepository(payments, { clock: time.clock });
  const workflow = new StrictWorkflow(time.clock);
  const backoffs: number[] = [];
  const common = { payments, workflow, clock: time.clock, reconcileAfterSeconds: RECONCILE_AFTER_SECONDS };
  const deps: CheckoutDeps = {
    store,
    clock: time.clock,
    holdSeconds: HOLD_SECONDS,
    reconcileAfterSeconds: RECONCILE_AFTER_SECONDS,
    settingsOf: async () => ({ pointValue: 1 }),
    payments,
    paymentCreation: common,
    refundCreation: { ...common, refunds },
    conflictRetry: {
      retries: 6,
      sleep: async (ms) => {
        backoffs.push(ms);
      },
      random: () => 0.5,
    },
  };

  async function aClass(merchantId: string, seats = 5, price = 3000, currency = USD) {
    return (await createClass(deps, merchantId, { name: 'Dolphins', seatsTotal: seats, price, currency })).value;
  }

  /** An account with one swimmer. */
  async function aFamily(merchantId: string) {
    const { accountId } = (await createAccount(deps, merchantId, {})).value;
    const { swimmerId } = (await addSwimmer(deps, merchantId, accountId, { name: 'Ada' })).value;
    return { accountId, swimmerId };
  }

  return { deps, store, time, payments, refunds, workflow, backoffs, aClass, aFamily };
}

type Reads = 'getCart' | 'getAccount' | 'getStudent' | 'getSwimmer' | 'getClass';

/**
 * Runs `meanwhile` once, right after the store's next `read` answered: another actor acting
 * between this one's read and its commit.
 */
export function afterNextRead(store: InMemorySchoolStore, read: Reads, meanwhile: () => Promise<unknown>): void {
  const reads = store as unknown as Record<Reads, (...args: unknown[]) => Promise<unknown>>;
  const original = reads[read];
  reads[read] = async (...args) => {
    const answer = await original.apply(store, args);
    reads[read] = original;
    await meanwhile();
    return answer;
  };
}
