import { afterEach, describe, expect, it } from 'vitest';
import { apiRoutes, payoutSteps, refundSteps, sagaSteps, webhookSteps } from '../../../functions/catalog.ts';
import {
  SimulatedCrash,
  crashAt,
  crashFired,
  crashFunctions,
  crashPoints,
  crossingsSoFar,
  kebab,
} from '../../../functions/crash/crash-points.ts';
import { paymentRepositoryCalls, withCrashPoints, workflowCalls } from '../../../functions/crash/crashing-ports.ts';
import { asInvocationOf } from '../../../functions/crash/invocation.ts';
import { createPayment } from '../../../functions/domain/create-payment.ts';
import type { ChargeWorkflow, PaymentRepository } from '../../../functions/domain/ports.ts';
import { USD } from '../../support/currencies.ts';
import { StrictPaymentRepository } from '../../support/strict/payments.ts';
import { StrictWorkflow } from '../../support/strict/workflow.ts';

afterEach(() => {
  delete process.env.CRASH_AT;
});

describe('crashAt', () => {
  it('does nothing when CRASH_AT is unset', () => {
    expect(() => crashAt('capture:before-provider')).not.toThrow();
  });

  it('dies once at the configured point, as a killed Lambda reports it, then lets the restart through', () => {
    process.env.CRASH_AT = 'capture:after-provider#once';

    expect(() => crashAt('capture:after-provider')).toThrow(SimulatedCrash);
    expect(() => crashAt('capture:after-provider')).not.toThrow();
    expect(crashFired('capture:after-provider')).toBe(true);
  });

  it('names the crash Runtime.ExitError, which the state machine neither retries nor catches', () => {
    process.env.CRASH_AT = 'authorize:before-provider#name';

    expect(() => crashAt('authorize:before-provider')).toThrow(expect.objectContaining({ name: 'Runtime.ExitError' }));
  });

  it('arms several points at once and leaves the others alone', () => {
    process.env.CRASH_AT = 'authorize:before-provider,reconciler:before-start#several';

    expect(() => crashAt('capture:before-provider')).not.toThrow();
    expect(() => crashAt('reconciler:before-start')).toThrow(SimulatedCrash);
  });

  it('dies at the Nth crossing of a point when told @N, and only there', () => {
    process.env.CRASH_AT = 'settle-cart:before-write@3#nth';

    expect(() => crashAt('settle-cart:before-write')).not.toThrow();
    expect(() => crashAt('settle-cart:before-write')).not.toThrow();
    expect(() => crashAt('settle-cart:before-write')).toThrow(expect.objectContaining({ point: 'settle-cart:before-write', crossing: 3 }));
    expect(() => crashAt('settle-cart:before-write')).not.toThrow();
    expect(crashFired('settle-cart:before-write', 3)).toBe(true);
    expect(crashFired('settle-cart:before-write', 1)).toBe(false);
  });

  it('counts the crossings of each point under the tag, and counts afresh under a new tag', () => {
    process.env.CRASH_AT = '#count-1';
    crashAt('checkout:before-write');
    crashAt('checkout:before-write');
    crashAt('checkout:before-start');
    expect(crossingsSoFar()).toEqual({ 'checkout:before-write': 2, 'checkout:before-start': 1 });

    process.env.CRASH_AT = 'checkout:before-write#count-2';
    expect(crossingsSoFar()).toEqual({});
    expect(() => crashAt('checkout:before-write')).toThrow(SimulatedCrash);
  });

  it('refuses a CRASH_AT that names no crash point, which would never fire', () => {
    process.env.CRASH_AT = 'capture:before-write#typo';

    expect(() => crashAt('capture:before-provider')).toThrow('CRASH_AT: no crash point capture:before-write');
  });

  it('lists every point once', () => {
    expect(new Set(crashPoints).size).toBe(crashPoints.length);
    expect(crashPoints).toContain('mark-succeeded:after-write');
  });
});

describe('the registry', () => {
  it('has one crash function per function the catalog deploys, and no other', () => {
    const deployed = [
      ...apiRoutes.map((route) => route.id),
      ...Object.keys(sagaSteps),
      ...Object.keys(refundSteps),
      ...Object.keys(payoutSteps),
      ...Object.keys(webhookSteps),
    ].map(kebab);

    expect([...crashFunctions].sort()).toEqual([...deployed, 'authorizer', 'reconciler', 'ledger-poster', 'settle-day', 'event-publisher'].sort());
  });

  it('gives a GET route no crash point: it changes nothing', () => {
    const getRoutes = apiRoutes.filter((route) => route.method === 'GET').map((route) => kebab(route.id));

    expect(getRoutes.length).toBeGreaterThan(0);
    expect(crashPoints.filter((point) => getRoutes.some((fn) => point.startsWith(`${fn}:`)))).toEqual([]);
  });
});

describe('withCrashPoints', () => {
  const wrapped = () => {
    const clock = () => new Date();
    const payments = new StrictPaymentRepository({ clock });
    const workflow = new StrictWorkflow(clock);
    const deps = {
      payments: withCrashPoints<PaymentRepository>(payments, paymentRepositoryCalls),
      workflow: withCrashPoints<ChargeWorkflow>(workflow, workflowCalls),
      clock,
      reconcileAfterSeconds: 60,
    };
    return { payments, workflow, deps };
  };
  const order = (orderNo: string) => ({ orderNo, amount: 1, currency: USD, paymentMethod: 'pm_card_visa' });

  it('dies after a write has landed, so the write stays and nothing after it runs', async () => {
    // Prepare
    const { payments, workflow, deps } = wrapped();
    process.env.CRASH_AT = 'create-payment:after-write#after-write';

    // Act
    const attempt = asInvocationOf('create-payment', () => createPayment(deps, 'm_1', order('o-1')));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(SimulatedCrash);
    expect(payments.all()).toHaveLength(1);
    expect(workflow.executions.size).toBe(0);
  });

  it('names the point after the function whose invocation makes the call, and counts each crossing', async () => {
    // Prepare
    const { deps } = wrapped();
    process.env.CRASH_AT = '#named';

    // Act
    await asInvocationOf('create-payment', () => createPayment(deps, 'm_1', order('o-1')));
    await asInvocationOf('checkout', () => createPayment(deps, 'm_1', order('o-2')));

    // Assess: the reads (a replay's look-up) cross nothing.
    expect(crossingsSoFar()).toEqual({
      'create-payment:before-write': 1,
      'create-payment:after-write': 1,
      'create-payment:before-start': 1,
      'create-payment:after-start': 1,
      'checkout:before-write': 1,
      'checkout:after-write': 1,
      'checkout:before-start': 1,
      'checkout:after-start': 1,
    });
  });

  it('crosses nothing and never dies outside a function invocation', async () => {
    // Prepare
    const { payments, workflow, deps } = wrapped();
    process.env.CRASH_AT = 'create-payment:before-write#outside';

    // Act
    await createPayment(deps, 'm_1', order('o-1'));

    // Assess
    expect(payments.all()).toHaveLength(1);
    expect(workflow.executions.size).toBe(1);
    expect(crossingsSoFar()).toEqual({});
  });

  it('refuses a boundary the registry does not list for the function', async () => {
    const { deps } = wrapped();
    process.env.CRASH_AT = '#unlisted';

    const attempt = asInvocationOf('get-payment', () => createPayment(deps, 'm_1', order('o-1')));

    await expect(attempt).rejects.toThrow('unregistered crash point get-payment:before-write');
  });
});
