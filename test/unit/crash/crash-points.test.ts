import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedCrash, crashAt, crashFired, crashPoints } from '../../../functions/crash/crash-points.ts';
import { withCrashPoints } from '../../../functions/crash/crashing-ports.ts';
import { createPayment } from '../../../functions/domain/create-payment.ts';
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

  it('lists every point once', () => {
    expect(new Set(crashPoints).size).toBe(crashPoints.length);
    expect(crashPoints).toContain('mark-succeeded:after-write');
  });
});

describe('withCrashPoints', () => {
  it('dies after a write has landed, so the write stays and nothing after it runs', async () => {
    // Prepare
    const clock = () => new Date();
    const payments = new StrictPaymentRepository({ clock });
    const workflow = new StrictWorkflow(clock);
    process.env.CRASH_AT = 'create-payment:after-write#after-write';
    const deps = withCrashPoints(
      { payments, workflow, clock, reconcileAfterSeconds: 60 },
      'create-payment',
    );

    // Act
    const attempt = createPayment(deps, 'm_1', { orderNo: 'o-1', amount: 1, currency: USD, paymentMethod: 'pm_card_visa' });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(SimulatedCrash);
    expect(payments.all()).toHaveLength(1);
    expect(workflow.executions.size).toBe(0);
  });

  it('refuses a boundary the registry does not list for the function', async () => {
    const payments = new StrictPaymentRepository({ clock: () => new Date() });
    const deps = withCrashPoints({ payments }, 'capture');

    await expect(deps.payments.create({} as never)).rejects.toThrow('unregistered crash point capture:before-write');
  });
});
