import { WorkflowUnavailableError } from '../../../functions/domain/errors.ts';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPayment } from '../../../functions/domain/create-payment.ts';
import { type ReconcileDeps, reconcilePayments } from '../../../functions/domain/reconcile.ts';
import { FakeWorkflow } from '../../support/fake-workflow.ts';
import { InMemoryPayments } from '../../support/in-memory-payments.ts';
import { USD } from '../../support/in-memory-provider.ts';

let payments: InMemoryPayments;
let workflow: FakeWorkflow;
let now: Date;
let deps: ReconcileDeps;

beforeEach(() => {
  payments = new InMemoryPayments();
  workflow = new FakeWorkflow();
  now = new Date('2026-11-23T10:00:00Z');
  deps = { payments, workflow, clock: () => now, reconcileAfterSeconds: 300, maxResumes: 2 };
});

async function stuckPayment(started = true) {
  workflow.failStarts = !started;
  const { payment } = await createPayment(deps, 'm_1', {
    orderNo: `o-${Math.random()}`,
    amount: 100,
    currency: USD,
    paymentMethod: 'pm_card_visa',
  });
  workflow.failStarts = false;
  now = new Date(now.getTime() + 301_000);
  return payment;
}

describe('reconcilePayments', () => {
  it('ignores payments that are not yet due', async () => {
    await createPayment(deps, 'm_1', { orderNo: 'fresh', amount: 1, currency: USD, paymentMethod: 'pm_card_visa' });

    expect(await reconcilePayments(deps, 10)).toEqual([]);
  });

  it('leaves a running execution alone and moves the deadline', async () => {
    const payment = await stuckPayment();

    const [outcome] = await reconcilePayments(deps, 10);

    expect(outcome?.decision).toBe('still_running');
    expect((await payments.get(payment.paymentNo))?.reconcileAt).toBe(new Date(now.getTime() + 300_000).toISOString());
    expect(workflow.executions.size).toBe(1);
  });

  it('starts the first execution of a payment whose start was lost', async () => {
    const payment = await stuckPayment(false);

    const [outcome] = await reconcilePayments(deps, 10);

    expect(outcome?.decision).toBe('started');
    expect(await workflow.describe(payment.paymentNo)).toBe('RUNNING');
  });

  it('resumes a payment whose execution ended without finishing it under a new name', async () => {
    const payment = await stuckPayment();
    workflow.end(payment.paymentNo, 'FAILED');

    const [outcome] = await reconcilePayments(deps, 10);

    expect(outcome?.decision).toBe('resumed');
    expect(await workflow.describe(`${payment.paymentNo}-r1`)).toBe('RUNNING');
    expect((await payments.get(payment.paymentNo))?.resumeCount).toBe(1);
  });

  it('gives a payment up after the allowed resumes', async () => {
    const payment = await stuckPayment();
    for (const name of [payment.paymentNo, `${payment.paymentNo}-r1`, `${payment.paymentNo}-r2`]) {
      await workflow.start(payment.paymentNo, name);
      workflow.end(name, 'ABORTED');
      await reconcilePayments(deps, 10);
      now = new Date(now.getTime() + 301_000);
    }

    const stored = await payments.get(payment.paymentNo);

    expect(stored?.resumeCount).toBe(2);
    expect(stored?.reconcileAt! > new Date(now.getTime() + 3000_000).toISOString()).toBe(true);
  });

  it('skips a payment another actor moved while it was looked at', async () => {
    const payment = await stuckPayment();
    workflow.end(payment.paymentNo, 'FAILED');
    const describe = workflow.describe.bind(workflow);
    workflow.describe = async (name) => {
      payments.tamper(payment.paymentNo, {});
      return describe(name);
    };

    const [outcome] = await reconcilePayments(deps, 10);

    expect(outcome?.decision).toBe('skipped');
    expect(workflow.executions.has(`${payment.paymentNo}-r1`)).toBe(false);
  });

  it('goes on with the batch when one payment cannot be looked at', async () => {
    const first = await stuckPayment();
    const second = await stuckPayment(false);
    const describe = workflow.describe.bind(workflow);
    workflow.describe = async (name) => {
      if (name === first.paymentNo) throw new WorkflowUnavailableError('Step Functions is unavailable');
      return describe(name);
    };

    const outcomes = await reconcilePayments(deps, 10);

    expect(outcomes.find((o) => o.paymentNo === first.paymentNo)?.decision).toBe('errored');
    expect(outcomes.find((o) => o.paymentNo === second.paymentNo)?.decision).toBe('started');
  });
});
