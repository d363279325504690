import { describe, expect, it } from 'vitest';
import { providerPayoutSteps, providerRefundSteps, providerSteps } from '../../functions/catalog.ts';
import { EnvVar } from '../../functions/config/env.ts';
import { STRIPE_API_BASE_CONTEXT } from '../../lib/chargeonce-stack.ts';
import { logicalIdOf, synthesize } from './synth.ts';

/**
 * STRIPE_API_BASE of every Lambda function of the template, by logical id (undefined when
 * absent), and the logical ids of the functions that call the provider.
 */
function synthesizeWith(context: Record<string, unknown> = {}) {
  const { stack, template } = synthesize(context);
  const functions = template.findResources('AWS::Lambda::Function');
  const byFunction: Record<string, unknown> = Object.fromEntries(
    Object.entries(functions).map(([id, fn]) => [id, fn.Properties.Environment?.Variables?.[EnvVar.StripeApiBase]]),
  );
  const providerCallerIds = [
    ...providerSteps.map((name) => logicalIdOf(stack.functions.sagaSteps[name])),
    ...providerRefundSteps.map((name) => logicalIdOf(stack.functions.refundSteps[name])),
    ...providerPayoutSteps.map((name) => logicalIdOf(stack.functions.payoutSteps[name])),
    logicalIdOf(stack.functions.reconciler),
    logicalIdOf(stack.functions.settleDay),
  ];
  return { byFunction, providerCallerIds };
}

describe(`the ${STRIPE_API_BASE_CONTEXT} context`, () => {
  it('leaves STRIPE_API_BASE out of every function when unset: the provider steps call Stripe', () => {
    // Act
    const { byFunction } = synthesizeWith();

    // Assess
    expect(Object.keys(byFunction).length).toBeGreaterThan(0);
    expect(Object.values(byFunction).filter((value) => value !== undefined)).toEqual([]);
  });

  it('treats an empty value as unset', () => {
    // Act
    const { byFunction } = synthesizeWith({ [STRIPE_API_BASE_CONTEXT]: '' });

    // Assess
    expect(Object.values(byFunction).filter((value) => value !== undefined)).toEqual([]);
  });

  it('sets STRIPE_API_BASE on exactly the provider steps, the reconciler and the settlement when set', () => {
    // Prepare
    const apiBase = 'http://host.docker.internal:12111';

    // Act
    const { byFunction, providerCallerIds } = synthesizeWith({ [STRIPE_API_BASE_CONTEXT]: apiBase });

    // Assess
    const withBase = Object.keys(byFunction).filter((id) => byFunction[id] !== undefined);
    expect(withBase.sort()).toEqual([...providerCallerIds].sort());
    expect(withBase).toHaveLength(providerSteps.length + providerRefundSteps.length + providerPayoutSteps.length + 2);
    for (const id of withBase) expect(byFunction[id], id).toBe(apiBase);
  });

  it.each(['host.docker.internal:12111', 'ftp://example.com', 'not a url'])('refuses %j at synth time', (value) => {
    // Act, Assess
    expect(() => synthesize({ [STRIPE_API_BASE_CONTEXT]: value })).toThrow(/stripeApiBase must be an http\(s\) URL/);
  });
});
