import { AttentionReason, PaymentStatus, isTerminal } from '../../functions/domain/payment.ts';
import { CAPTURE_DEADLINE_MARGIN_SECONDS } from '../../functions/domain/provider.ts';
import { violations } from '../support/invariants/ledger.ts';
import { STRIPE_SEARCH_LAG_MS } from '../support/strict/stripe.ts';
import { FINISHED, type SwimClass } from '../../functions/domain/carts/model.ts';
import type { Payment } from '../../functions/domain/payment.ts';
import type { Ledger } from '../../local/fake-provider/ledger.ts';
import type { SchoolState } from '../support/invariants/school.ts';
import type { SchoolContents } from '../support/in-memory-school-store.ts';
import { Api } from './api.ts';
import { CartApi } from './cart-api.ts';
import { seedSchool } from './school.ts';
import { runLedgerMapping } from './ledger-mapping.ts';
import { runReconciler } from './reconciler.ts';
import { type StepBindings, productSteps, runSagas } from './sagas.ts';
import { type SimState, simInvariants } from './invariants.ts';
import { type Actor, type Decision, GO } from './scheduler.ts';
import { World, type WorldOptions } from './world.ts';

/** The schedule runs the reconciler every minute. */
const SCHEDULE_MS = 60_000;
/** Turns of the schedule a settling world may take: a payment given up waits days for its authorization's last day, and a 500 Stripe keeps for a key is retried every few minutes for a day. */
const MAX_SETTLING_ROUNDS = 2000;
/** Gates granted in one run of every actor before it counts as a livelock. */
const MAX_GRANTS_PER_RUN = 20_000;

export interface SimulationOptions extends WorldOptions {
  /** Payments (and, separately, refunds) the reconciler looks at per run. */
  readonly reconcileBatch: number;
  /** How often the reconciler restarts a payment's saga before it gives up on it. */
  readonly maxResumes: number;
  /** The domain function behind each saga step: the product's, unless a test breaks one on purpose. */
  readonly steps?: StepBindings;
}

/** An invariant broke: the history fails here, with what broke and, when traced, how it got there. */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
  constructor(
    readonly violations: readonly string[],
    trace: readonly string[] | undefined,
  ) {
    super([...violations, ...(trace === undefined ? [] : ['--- trace ---', ...trace])].join('\n'));
  }
}

/**
 * One simulated deployment: the world, its API, its sagas and its schedule, checked after every
 * gate for what must always hold, and settled at the end: every actor run to its end, the
 * reconciler run minute by minute and the clock moved to the next deadline, until nothing is
 * left to do; then checked for everything.
 */
export class Simulation {
  readonly world: World;
  readonly api: Api;
  readonly carts: CartApi;

  constructor(private readonly options: SimulationOptions) {
    this.world = new World(options);
    this.api = new Api(this.world);
    this.carts = new CartApi(this.api);
    runSagas(this.world, options.steps ?? productSteps);
    runLedgerMapping(this.world);
  }

  /** The world before its history: the school's classes, accounts and swimmers. */
  async setUp(): Promise<void> {
    await seedSchool(this.world);
  }

  /** One run of the schedule's reconciler, as a new actor. */
  reconcile(): Actor {
    return runReconciler(this.world, this.options.reconcileBatch, this.options.maxResumes);
  }

  /** Lets `actor` through its gate, then checks what must always hold. */
  async grant(actor: Actor, decision: Decision = GO): Promise<void> {
    await this.world.grant(actor, decision);
    this.check('always');
  }

  /**
   * Runs every actor (and every actor they start) to its end, in an order the world's seed
   * picks: an actor chosen runs on for a few gates as often as not, as real ones run in bursts.
   */
  async runAll(): Promise<void> {
    let current: Actor | undefined;
    for (let grants = 0; this.world.scheduler.actors().length > 0; grants++) {
      if (grants >= MAX_GRANTS_PER_RUN) {
        throw new InvariantViolation([`livelock: ${MAX_GRANTS_PER_RUN} gates and still running`], this.world.trace);
      }
      const actors = this.world.scheduler.actors();
      if (current === undefined || current.done || this.world.random() < 0.5) {
        current = actors[Math.floor(this.world.random() * actors.length)] as Actor;
      }
      await this.grant(current);
    }
  }

  /** Brings the world to rest, then checks everything; throws an {@link InvariantViolation}. */
  async settle(): Promise<void> {
    for (let round = 0; ; round++) {
      await this.runAll();
      // The nemesis breaks calls while the world first runs free; then it lets the world settle.
      this.world.nemesisOn = false;
      if (this.world.stripe.completeInFlight() > 0) continue;
      if (this.isAtRest()) break;
      if (round >= MAX_SETTLING_ROUNDS) {
        throw new InvariantViolation(
          [`not at rest after ${MAX_SETTLING_ROUNDS} runs of the schedule`, ...violations(simInvariants, this.state(), 'settled')],
          this.world.trace,
        );
      }
      this.world.clock.advance(this.nextDueMs() - this.world.clock.ms);
      this.world.log('the schedule runs the reconciler');
      this.reconcile();
      await this.world.scheduler.settle();
    }
    this.check('settled');
    this.countEnds();
  }

  /** How each payment and refund ended, with its reason: what the histories reached, for the tests that count it. */
  private countEnds(): void {
    const { world } = this;
    for (const p of world.payments.all()) world.count(`payment ended ${p.status}${p.declineCode === undefined ? '' : ` ${p.declineCode}`}`);
    for (const r of world.refunds.all()) world.count(`refund ended ${r.status}${r.failureReason === undefined ? '' : ` ${r.failureReason}`}`);
    const school = world.school.contents();
    for (const c of school.carts) world.count(`cart ended ${c.status}${c.lastFailure === undefined ? '' : ` after ${c.lastFailure}`}`);
    for (const p of school.purchases) world.count(`purchase ${p.purchaseKey.split(':')[0]?.startsWith('pi_') ? 'by card' : p.purchaseKey.split(':')[0]}${p.points > 0 ? ' with points' : ''}`);
  }

  /**
   * What the invariants read. Between gates the provider's live ledger is enough; settled, its
   * authorizations past their window must have lapsed first, as Stripe lapses them on its own.
   */
  state(when: 'always' | 'settled' = 'settled'): SimState {
    const { world } = this;
    const stored = world.school.contents();
    const payments = world.payments.all();
    const provider = when === 'settled' ? world.stripe.snapshot() : world.stripe.current();
    return {
      world,
      stored,
      school: schoolStateOf(stored, payments, provider),
      answers: this.api.answers,
      ledger: {
        payments,
        refunds: world.refunds.all(),
        provider,
      },
    };
  }

  check(when: 'always' | 'settled'): void {
    const found = violations(simInvariants, this.state(when), when);
    if (found.length > 0) throw new InvariantViolation(found, this.world.trace);
  }

  /**
   * Nothing running, and nothing left for the reconciler but what waits for people: every
   * payment finished, or marked for a person for a reason no later look can lift (one marked
   * because the provider could not be reached is looked at again, hourly, until it can); every
   * refund finished and not due for another look; every cart finished, its held seats gone; and
   * no authorization open.
   */
  private isAtRest(): boolean {
    const { world } = this;
    if (world.scheduler.actors().length > 0 || world.stripe.inFlightCount > 0 || world.stream.undelivered() > 0) return false;
    const school = world.school.contents();
    return (
      school.carts.every((cart) => FINISHED.has(cart.status)) &&
      school.holds.length === 0 &&
      world.stripe.snapshot().paymentIntents.every((pi) => pi.status !== 'requires_capture') &&
      world.payments.all().every((p) => isTerminal(p.status) || p.needsAttention?.reason === AttentionReason.CapturesDisagree) &&
      world.refunds.all().every((r) => r.reconcileAt === undefined)
    );
  }

  /**
   * When the schedule next has something to do: the earliest deadline still ahead (a payment,
   * refund, cart or hold due, a lease ending, an open authorization entering its last day or
   * becoming old enough for the reconciler to see), and never sooner than the schedule's next
   * minute.
   */
  private nextDueMs(): number {
    const { world } = this;
    const now = world.clock.ms;
    const school = world.school.contents();
    const due = [
      ...[...world.payments.all(), ...world.refunds.all()].map((record) => record.reconcileAt),
      ...[...school.carts, ...school.holds].map((item) => item.dueAt),
    ]
      .filter((at) => at !== undefined)
      .map((at) => Date.parse(at));
    // Something already due waits only for the schedule's next minute.
    if (due.some((at) => at <= now)) return now + SCHEDULE_MS;
    const authorizations = world.stripe
      .snapshot()
      .paymentIntents.filter((pi) => pi.status === 'requires_capture')
      .flatMap((pi) => [
        (pi.charge?.captureBefore ?? Number.POSITIVE_INFINITY) * 1000 - CAPTURE_DEADLINE_MARGIN_SECONDS * 1000,
        pi.created * 1000 + world.reconcileAfterSeconds * 1000 + STRIPE_SEARCH_LAG_MS,
      ]);
    const leases = world.payments.all().flatMap((p) => (p.lease === undefined ? [] : [Date.parse(p.lease.expiresAt)]));
    const lastDays = world.payments
      .all()
      .filter((p) => p.status === PaymentStatus.Authorized && p.captureBefore !== undefined)
      .map((p) => Date.parse(p.captureBefore as string) - CAPTURE_DEADLINE_MARGIN_SECONDS * 1000);
    const ahead = [...due, ...authorizations, ...leases, ...lastDays].filter((at) => at > now && Number.isFinite(at));
    return ahead.length === 0 ? now + SCHEDULE_MS : Math.max(now + SCHEDULE_MS, Math.min(...ahead));
  }


}

/** The school's promises' view of the store: each class with its hold and student items counted. */
function schoolStateOf(stored: SchoolContents, payments: readonly Payment[], provider: Ledger): SchoolState {
  const count = (items: readonly { readonly merchantId: string; readonly classId: string }[], of: SwimClass) =>
    items.filter((item) => item.merchantId === of.merchantId && item.classId === of.classId).length;
  return {
    classes: stored.classes.map((c) => ({ ...c, counted: { held: count(stored.holds, c), students: count(stored.students, c) } })),
    accounts: stored.accounts,
    purchases: stored.purchases,
    payments,
    provider,
  };
}
