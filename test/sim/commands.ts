import fc from 'fast-check';
import { cartHoldSeconds, idempotencyLeaseSeconds, reconcileAfterSeconds, reconcileLeaseSeconds } from '../../functions/config/env.ts';
import { PAYMENT_WINDOW_SECONDS } from '../../functions/domain/carts/model.ts';
import { KEY_RETENTION_SECONDS } from '../../functions/domain/idempotency.ts';
import { type Currency, minimumCharge } from '../../functions/domain/money.ts';
import { PaymentStatus, awaitsCapture } from '../../functions/domain/payment.ts';
import type { CaptureRequest } from '../../functions/domain/manual-capture.ts';
import type { ChargeWorkflow } from '../../functions/domain/ports.ts';
import { CAPTURE_DEADLINE_MARGIN_SECONDS, CARD_AUTHORIZATION_WINDOW_SECONDS, IDEMPOTENCY_KEY_TRUSTED_FOR_MS } from '../../functions/domain/provider.ts';
import { REFUND_FAILURE_REASONS } from '../../local/fake-provider/faults.ts';
import { STRIPE_KEY_LIFETIME_MS } from '../support/strict/stripe.ts';
import { callLabels } from './gated-ports.ts';
import { loadDeployment } from './deployment.ts';
import { type Actor, type BreakageMix, type Decision, GO, breakages, decisionOf } from './scheduler.ts';
import type { Simulation } from './simulation.ts';
import { MERCHANTS, MERCHANT_SETTINGS } from './school.ts';
import { describeDecision } from './world.ts';

/** One step of a history. Every command can run in any world: one that finds nothing to act on does nothing. */
export interface Command {
  run(sim: Simulation): Promise<void>;
  toString(): string;
}

/** A kind of command a history may hold, and how often. Carts add theirs to the registry. */
export interface CommandKind {
  readonly name: string;
  readonly weight: number;
  readonly arbitrary: fc.Arbitrary<Command>;
}


/** Stripe's test cards: mostly good ones, then every way a card fails, and one the provider does not know. */
export const cards = fc.oneof(
  { weight: 8, arbitrary: fc.constant('pm_card_visa') },
  { weight: 1, arbitrary: fc.constant('pm_card_mastercard') },
  { weight: 2, arbitrary: fc.constant('pm_card_chargeDeclined') },
  { weight: 1, arbitrary: fc.constant('pm_card_chargeDeclinedInsufficientFunds') },
  { weight: 1, arbitrary: fc.constant('pm_card_authenticationRequired') },
  { weight: 1, arbitrary: fc.constant('pm_card_doesNotExist') },
);

/** A breakage drawn as the history's mix weighs them. */
const decisionsBy = (mix: BreakageMix): fc.Arbitrary<Decision> =>
  fc
    .record({
      breakage: fc.oneof(...breakages.filter((b) => mix[b] > 0).map((b) => ({ weight: mix[b], arbitrary: fc.constant(b) }))),
      variant: fc.nat(5),
    })
    .map(({ breakage, variant }) => decisionOf(breakage, variant));

/** Waits for a new actor to reach its first gate. */
async function started(sim: Simulation): Promise<void> {
  await sim.world.scheduler.settle();
}

/** Enough for a saga through every retry; an actor still running past it is left to the history. */
const MAX_STEPS_OF_AN_ACTOR = 200;

/**
 * How a request goes: most are answered before anything else happens, and then the saga they
 * started runs to its end as well, or is left for the history to interleave, or runs twice (a
 * duplicate execution races it: Lambda and Step Functions deliver at least once); the rest are
 * left waiting at their first call.
 */
type Pace = 'to the end' | 'answered, its saga left' | 'answered, its saga racing a duplicate' | 'left waiting';
export const paces: fc.Arbitrary<Pace> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Pace>('to the end') },
  { weight: 3, arbitrary: fc.constant<Pace>('answered, its saga left') },
  { weight: 2, arbitrary: fc.constant<Pace>('answered, its saga racing a duplicate') },
  { weight: 2, arbitrary: fc.constant<Pace>('left waiting') },
);

export async function request(sim: Simulation, actor: Actor, pace: Pace): Promise<void> {
  const { world } = sim;
  const before = world.executions.length;
  await started(sim);
  if (pace === 'left waiting') return;
  await runToEnd(sim, actor);
  const sagas = world.executions.slice(before);
  if (pace === 'to the end') {
    for (const saga of sagas) await runToEnd(sim, saga.actor);
  }
  if (pace !== 'answered, its saga racing a duplicate') return;
  for (const { saga, execution } of sagas) {
    await startDuplicate(sim, saga === 'payment' ? world.paymentWorkflow : world.refundWorkflow, execution);
  }
}

async function runToEnd(sim: Simulation, actor: Actor): Promise<void> {
  for (let steps = 0; !actor.done && steps < MAX_STEPS_OF_AN_ACTOR; steps++) await sim.grant(actor);
}

async function startDuplicate(sim: Simulation, workflow: ChargeWorkflow, execution: { readonly id: string; readonly name: string }) {
  await workflow.start(execution.id, `${execution.name}-duplicate-${sim.world.nextNumber()}`);
  await started(sim);
}

export function pick<T>(items: readonly T[], index: number): T | undefined {
  return items.length === 0 ? undefined : items[index % items.length];
}

/**
 * Mostly euros; now and then a currency ISO 4217 lists and the API takes but Stripe does not
 * support, which the provider refuses at authorization.
 */
const EUR = 'EUR' as Currency;
const currencies = fc.oneof({ weight: 12, arbitrary: fc.constant(EUR) }, { weight: 1, arbitrary: fc.constant('CUP' as Currency) });

/** Amounts: the usual ones, and now and then one under the currency's minimum, which the API refuses. */
const paymentAmounts = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(1000, 2500) },
  { weight: 1, arbitrary: fc.constant(minimumCharge(EUR) - 1) },
);

const pay: fc.Arbitrary<Command> = fc
  .record({
    merchant: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
    order: fc.nat(3),
    amount: paymentAmounts,
    currency: currencies,
    card: cards,
    key: fc.option(fc.constantFrom('key-1', 'key-2'), { nil: undefined, freq: 3 }),
    pace: paces,
    manual: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .map(({ merchant, order, amount, currency, card, key, pace, manual }) => ({
    toString: () =>
      `pay(${MERCHANTS[merchant]}, order-${order}, ${amount} ${currency}, ${card}${manual ? ', manual' : ''}${key === undefined ? '' : `, ${key}`}, ${pace})`,
    async run(sim: Simulation) {
      const actor = sim.api.pay({
        merchantId: MERCHANTS[merchant] as string,
        orderNo: `order-${order}`,
        amount,
        currency,
        paymentMethod: card,
        headerKey: key,
        manual,
      });
      await request(sim, actor, pace);
    },
  }));

/** What the merchant says of a manual payment, from the payment as it stands when it says it. */
const merchantWords = {
  'capture all': (): CaptureRequest => ({ action: 'capture' }),
  'capture part': (p: { amount: number }): CaptureRequest => ({ action: 'capture', amount: Math.max(1, Math.floor(p.amount / 3)) }),
  'capture more than authorized': (p: { amount: number }): CaptureRequest => ({ action: 'capture', amount: p.amount + 1 }),
  cancel: (): CaptureRequest => ({ action: 'cancel' }),
};

/** The merchant captures or cancels a manual payment: mostly one waiting for it, sometimes any payment (refused, or a repeat). */
const decide: fc.Arbitrary<Command> = fc
  .record({
    payment: fc.nat(),
    decision: fc.constantFrom(...(Object.keys(merchantWords) as (keyof typeof merchantWords)[])),
    key: fc.option(fc.constantFrom('decide-key-1', 'decide-key-2'), { nil: undefined, freq: 3 }),
    pace: paces,
  })
  .map(({ payment: index, decision, key, pace }) => ({
    toString: () => `decide(payment #${index}, ${decision}${key === undefined ? '' : `, ${key}`}, ${pace})`,
    async run(sim: Simulation) {
      const payments = sim.world.payments.all();
      const waiting = payments.filter(awaitsCapture);
      const payment = pick(waiting.length > 0 && index % 4 !== 0 ? waiting : payments, index);
      if (payment === undefined) return;
      const actor = sim.api.decide({ merchantId: payment.merchantId, paymentNo: payment.paymentNo, request: merchantWords[decision](payment), headerKey: key });
      await request(sim, actor, pace);
    },
  }));

/** How much a refund asks for, from the payment as it stands when the request is made. */
const refundAmounts = {
  full: (p: { amount: number }) => p.amount,
  half: (p: { amount: number }) => Math.floor(p.amount / 2),
  cent: () => 1,
  rest: (p: { amountCaptured: number; amountRefunded: number }) => Math.max(1, p.amountCaptured - p.amountRefunded),
  'more than paid': (p: { amount: number }) => p.amount + 1,
};

const refund: fc.Arbitrary<Command> = fc
  .record({
    payment: fc.nat(),
    otherMerchant: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    amount: fc.constantFrom(...(Object.keys(refundAmounts) as (keyof typeof refundAmounts)[])),
    operator: fc.constantFrom('op-1', 'op-2'),
    key: fc.option(fc.constantFrom('refund-key-1', 'refund-key-2'), { nil: undefined, freq: 3 }),
    expected: fc.constantFrom('none', 'as seen', 'stale'),
    // Now and then the provider refuses the first request for it, keeping nothing for its key:
    // with a duplicate execution's request let through, the refund races itself.
    refusedOnce: fc.oneof({ weight: 7, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    pace: paces,
  })
  .map(({ payment: index, otherMerchant, amount, operator, key, expected, refusedOnce, pace }) => ({
    toString: () =>
      `refund(payment #${index}, ${amount}${otherMerchant ? ', by the other merchant' : ''}, ${operator}${key === undefined ? '' : `, ${key}`}, expected ${expected}${refusedOnce ? ', refused once' : ''}, ${pace})`,
    async run(sim: Simulation) {
      if (refusedOnce) sim.world.armed.push({ label: 'provider.refundCharge', decision: { kind: 'fault', fault: 'refused', variant: 0 } });
      // Mostly a captured payment: a refund of anything else is refused before it starts.
      const payments = sim.world.payments.all();
      const captured = payments.filter((p) => p.status === PaymentStatus.Succeeded);
      const payment = pick(captured.length > 0 && index % 4 !== 0 ? captured : payments, index);
      if (payment === undefined) return;
      const actor = sim.api.refund({
        merchantId: otherMerchant ? (MERCHANTS.find((m) => m !== payment.merchantId) as string) : payment.merchantId,
        paymentNo: payment.paymentNo,
        amount: refundAmounts[amount](payment),
        operatorId: operator,
        headerKey: key,
        ...(expected !== 'none' && { expectedAmountRefunded: payment.amountRefunded + (expected === 'stale' ? 1 : 0) }),
      });
      await request(sim, actor, pace);
    },
  }));

/** A client sends one of its requests again, exactly: a retry, or a second click. */
const resend: fc.Arbitrary<Command> = fc.record({ back: fc.nat(3), pace: paces }).map(({ back, pace }) => ({
  toString: () => `send again(request #${back} from the latest, ${pace})`,
  async run(sim: Simulation) {
    const sent = pick([...sim.api.sent].reverse(), back);
    if (sent === undefined) return;
    await request(sim, sent.again(), pace);
  },
}));

/** One gate of one actor: through, or broken as `decision` says. */
const stepWith = (decisions: fc.Arbitrary<Decision>): fc.Arbitrary<Command> =>
  fc.record({ actor: fc.nat(7), decision: decisions }).map(({ actor, decision }) => ({
    toString: () => `step(actor #${actor}, ${describeDecision(decision)})`,
    async run(sim: Simulation) {
      const chosen = pick(sim.world.scheduler.actors(), actor);
      if (chosen !== undefined) await sim.grant(chosen, decision);
    },
  }));

const MAX_STEPS_TO_PROVIDER = 50;

/**
 * Runs one actor up to its next provider call (where most races between executions are
 * decided), or up to a wait: time passes for every actor alike, so one actor's retries never
 * run alone through minutes of backoff while the others (a stream's other shard) stand still.
 */
const runToProvider: fc.Arbitrary<Command> = fc.nat(7).map((actor) => ({
  toString: () => `run to the provider(actor #${actor})`,
  async run(sim: Simulation) {
    const chosen: Actor | undefined = pick(sim.world.scheduler.actors(), actor);
    for (let steps = 0; chosen !== undefined && !chosen.done && steps < MAX_STEPS_TO_PROVIDER; steps++) {
      await sim.grant(chosen);
      if (chosen.gate?.kind === 'call' && chosen.gate.label.startsWith('provider.')) return;
      if (chosen.gate?.kind === 'sleep') return;
    }
  },
}));

const runAll: fc.Arbitrary<Command> = fc.constant({
  toString: () => 'run everything',
  run: (sim: Simulation) => sim.runAll(),
});

const reconcile: fc.Arbitrary<Command> = fc.constant({
  toString: () => 'reconcile',
  async run(sim: Simulation) {
    sim.reconcile();
    await started(sim);
  },
});

/** A second execution of a saga for the same payment or refund, racing the first (Lambda and Step Functions deliver at least once). */
const duplicate: fc.Arbitrary<Command> = fc.nat(3).map((back) => ({
  toString: () => `duplicate(execution #${back} from the latest)`,
  async run(sim: Simulation) {
    const { world } = sim;
    const original = pick([...world.executions].reverse(), back);
    if (original === undefined) return;
    await startDuplicate(sim, original.saga === 'payment' ? world.paymentWorkflow : world.refundWorkflow, original.execution);
  },
}));

/** Calls that move money come up more often than the provider's reads. */
const providerCalls = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('provider.authorizeCharge', 'provider.captureCharge', 'provider.voidCharge', 'provider.refundCharge') },
  { weight: 1, arbitrary: fc.constantFrom(...callLabels.filter((label) => label.startsWith('provider.'))) },
);
const otherCalls = fc.constantFrom(...callLabels.filter((label) => !label.startsWith('provider.')));

/** A fault for the next call of one kind, whoever makes it. */
const armAt = (labels: fc.Arbitrary<string>, decisions: fc.Arbitrary<Decision>): fc.Arbitrary<Command> =>
  fc.record({ label: labels, decision: decisions }).map(({ label, decision }) => ({
    toString: () => `arm(${label}, ${describeDecision(decision)})`,
    async run(sim: Simulation) {
      sim.world.armed.push({ label, decision });
    },
  }));

/** Every deadline the product keeps, and a moment past it. */
function clockJumps(): Record<string, number> {
  const timeout = loadDeployment().machines.payment.TimeoutSeconds ?? 3600;
  return {
    'a second': 1000,
    "past an Idempotency-Key's lease": idempotencyLeaseSeconds() * 1000 + 1,
    "past the reconciler's lease": reconcileLeaseSeconds() * 1000 + 1,
    'past the reconcile delay': reconcileAfterSeconds() * 1000 + 1,
    'past 15 minutes: a pay-now checkout is due': PAYMENT_WINDOW_SECONDS.pay_now * 1000 + 1,
    "past a short-hold merchant's cart holds": MERCHANT_SETTINGS['merchant-b'].cartHoldSeconds * 1000 + 1,
    "past the default cart holds": cartHoldSeconds() * 1000 + 1,
    "past an execution's timeout": timeout * 1000 + 1,
    'past the hours a provider key is trusted': IDEMPOTENCY_KEY_TRUSTED_FOR_MS + 1,
    'past 24 hours: every idempotency key expires, a pay-in-store checkout is due': Math.max(
      KEY_RETENTION_SECONDS * 1000,
      STRIPE_KEY_LIFETIME_MS,
      PAYMENT_WINDOW_SECONDS.pay_in_store * 1000,
    ) + 1,
    "into an authorization's last day": (CARD_AUTHORIZATION_WINDOW_SECONDS - CAPTURE_DEADLINE_MARGIN_SECONDS) * 1000 + 1,
    'past the 7-day capture window': CARD_AUTHORIZATION_WINDOW_SECONDS * 1000 + 1,
  };
}

const clock: fc.Arbitrary<Command> = fc.constantFrom(...Object.entries(clockJumps())).map(([name, ms]) => ({
  toString: () => `clock(${name})`,
  async run(sim: Simulation) {
    sim.world.clock.advance(ms);
  },
}));

/**
 * Stripe holds the next refunds pending, as it does when the balance cannot cover them, each
 * settling by itself some time later (seconds, within the saga's looks, past them, days), as
 * Stripe always settles one in the end.
 */
const holdRefunds: fc.Arbitrary<Command> = fc
  .record({
    count: fc.integer({ min: 1, max: 3 }),
    status: fc.constantFrom('succeeded', 'succeeded', 'failed', 'canceled'),
    afterSeconds: fc.constantFrom(10, 90, 600, 3600, 3 * 24 * 3600),
    reason: fc.constantFrom(...REFUND_FAILURE_REASONS),
  })
  .map(({ count, status, afterSeconds, reason }) => ({
    toString: () => `hold refunds pending(${count}, then ${status} after ${afterSeconds} s)`,
    async run(sim: Simulation) {
      sim.world.stripe.holdNextRefunds(count, {
        settle: { status, afterSeconds, ...(status === 'failed' && { failureReason: reason }) },
      });
    },
  }));

/** Stripe settles a pending refund before its time: the history says when. */
const settleRefund: fc.Arbitrary<Command> = fc
  .record({ refund: fc.nat(), status: fc.constantFrom('succeeded', 'failed', 'canceled') })
  .map(({ refund: index, status }) => ({
    toString: () => `settle a pending refund(#${index}, ${status})`,
    async run(sim: Simulation) {
      const pending = sim.world.stripe.current().refunds.filter((refund) => refund.status === 'pending');
      const chosen = pick(pending, index);
      if (chosen !== undefined) sim.world.stripe.settleRefund(chosen.id, status);
    },
  }));

/** What the services do in their own time: indexes catch up, abandoned requests land, TTL deletes. */
const services = {
  'the by_due index catches up': (sim: Simulation) => {
    sim.world.payments.catchUpIndex();
    sim.world.refunds.catchUpIndex();
  },
  "Stripe's search catches up": (sim: Simulation) => sim.world.stripe.catchUpSearch(),
  'requests in flight at Stripe land': (sim: Simulation) => void sim.world.stripe.completeInFlight(),
  'DynamoDB TTL deletes expired keys': (sim: Simulation) => void sim.world.keys.sweepExpired(),
};

const service: fc.Arbitrary<Command> = fc.constantFrom(...(Object.keys(services) as (keyof typeof services)[])).map((name) => ({
  toString: () => name,
  async run(sim: Simulation) {
    services[name](sim);
  },
}));

/** What a history is made of: its kinds of command, given how it breaks calls. Carts add theirs. */
export type CommandRegistry = (mix: BreakageMix) => readonly CommandKind[];

/** The payments and refunds part of a history. */
export const paymentCommands: CommandRegistry = (mix) => {
  const decisions = decisionsBy(mix);
  return [
    { name: 'pay', weight: 6, arbitrary: pay },
    { name: 'refund', weight: 4, arbitrary: refund },
    { name: 'decide', weight: 2, arbitrary: decide },
    { name: 'send again', weight: 3, arbitrary: resend },
    { name: 'step', weight: 14, arbitrary: stepWith(fc.constant(GO)) },
    { name: 'break a step', weight: 3, arbitrary: stepWith(decisions) },
    { name: 'run to the provider', weight: 5, arbitrary: runToProvider },
    { name: 'run everything', weight: 3, arbitrary: runAll },
    { name: 'reconcile', weight: 3, arbitrary: reconcile },
    { name: 'duplicate', weight: 3, arbitrary: duplicate },
    { name: 'arm a provider fault', weight: 2, arbitrary: armAt(providerCalls, decisions) },
    { name: 'arm another fault', weight: 1, arbitrary: armAt(otherCalls, decisions) },
    { name: 'clock', weight: 2, arbitrary: clock },
    { name: 'hold refunds pending', weight: 1, arbitrary: holdRefunds },
    { name: 'settle a pending refund', weight: 1, arbitrary: settleRefund },
    { name: 'service', weight: 1, arbitrary: service },
  ];
};
