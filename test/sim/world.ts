import { reconcileAfterSeconds } from '../../functions/config/env.ts';
import { ChargeonceError } from '../../functions/domain/errors.ts';
import type { LedgerDeps } from '../../functions/domain/ledger/ledger.ts';
import { InMemorySchoolStore } from '../support/in-memory-school-store.ts';
import { StrictMerchantKeyStore } from '../support/strict/merchant-key-store.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { StrictIdempotencyStore } from '../support/strict/idempotency-store.ts';
import { StrictPaymentRepository, type StrictStoreOptions } from '../support/strict/payments.ts';
import { StrictLedgerStore } from '../support/strict/ledger.ts';
import { StrictRefundRepository } from '../support/strict/refunds.ts';
import { StrictStream } from '../support/strict/stream.ts';
import { STRIPE_SEARCH_LAG_MS, StrictStripe, strictProvider } from '../support/strict/stripe.ts';
import { type Execution, StrictWorkflow } from '../support/strict/workflow.ts';
import { type Pass, type Ports, type Services, gatedPorts } from './gated-ports.ts';
import { type Machines, loadDeployment } from './deployment.ts';
import type { GivenUp } from './ledger-mapping.ts';
import { type Actor, type BreakageMix, type Decision, GO, type Gate, Invocation, Killed, Scheduler, breakages, decisionOf } from './scheduler.ts';

/** This deployment's tag on its charges. */
export const DEPLOYMENT = 'sim';

/** Where a history's clock starts. */
const SIM_EPOCH_MS = Date.parse('2026-01-05T00:00:00.000Z');

/** How far DynamoDB's `by_due` index may trail the table in the simulation. */
const INDEX_LAG_MS = 1000;

/** Shards of the table's stream: records of items in different shards reach the ledger in any order. */
const STREAM_SHARDS = 3;

/** One-shot: the next call of this label gets this decision instead of going through. */
export interface ArmedFault {
  readonly label: string;
  readonly decision: Decision;
}

/**
 * Breaks calls at random while it is on: each call that would go through breaks with
 * probability `rate`, a breakage drawn from `mix`, at most `MAX_NEMESIS_STRIKES` times a history.
 */
export interface Nemesis {
  readonly rate: number;
  readonly mix: BreakageMix;
}

const MAX_NEMESIS_STRIKES = 12;

export interface WorldOptions {
  /** Seeds the world's own choices: retry jitter and the order actors run in when the history lets them all run. */
  readonly seed: number;
  /** Replaces the school's store, to run the simulation against a deliberately broken one. */
  readonly schoolStore?: () => InMemorySchoolStore;
  /** Replaces the ledger's store, to run the simulation against a deliberately broken one. */
  readonly ledgerStore?: () => StrictLedgerStore;
  /** Replaces the refund repository, to run the simulation against a deliberately broken one. */
  readonly refundRepository?: (payments: StrictPaymentRepository, options: StrictStoreOptions) => StrictRefundRepository;
  /** Keep a line per event, for a replay. */
  readonly trace?: boolean;
  readonly nemesis?: Nemesis;
}

/**
 * Everything a history acts on: the strict in-memory ports (DynamoDB's tables and index, the
 * school's store, Stripe, Step Functions), one clock, the scheduler of its actors, and what it
 * saw (answers, counts, the events when traced).
 */
export class World {
  readonly clock = new ManualClock(SIM_EPOCH_MS);
  readonly scheduler = new Scheduler();
  readonly machines: Machines = loadDeployment().machines;
  private readonly lambdaTimeoutMs = loadDeployment().lambdaTimeoutMs;
  /** The ledger poster's event source mapping, as the template declares it. */
  readonly ledgerMapping = loadDeployment().ledgerMapping;
  /** The table's stream: every write of a payment or refund. */
  readonly stream = new StrictStream(STREAM_SHARDS);
  readonly ledger: StrictLedgerStore;
  /** Stream records the ledger's mapping gave up on: each a posting that may be missing. */
  readonly ledgerGivenUp: GivenUp[] = [];
  readonly payments: StrictPaymentRepository;
  readonly refunds: StrictRefundRepository;
  readonly keys: StrictIdempotencyStore;
  readonly school: InMemorySchoolStore;
  /** The merchants and their settings, as the table keeps them. */
  readonly merchants = new StrictMerchantKeyStore();
  readonly stripe: StrictStripe;
  readonly paymentWorkflow: StrictWorkflow;
  readonly refundWorkflow: StrictWorkflow;
  /** The product's ports without gates: what the environment (not a Lambda) uses. */
  readonly ports: Ports;
  readonly reconcileAfterSeconds = reconcileAfterSeconds();
  readonly armed: ArmedFault[] = [];
  readonly counts = new Map<string, number>();
  /** Errors no code path of the product should raise (a bug, not a fault the history made). */
  readonly unexpected: string[] = [];
  readonly trace: string[] | undefined;
  /** Every execution started, of either saga, in order, with the actor that runs it. */
  readonly executions: { readonly saga: keyof Machines; readonly execution: Execution; readonly actor: Actor }[] = [];
  /** Starts the actor that runs an execution; set by whoever runs the sagas. */
  runExecution: ((saga: keyof Machines, execution: Execution) => Actor) | undefined;
  /** Whether the nemesis strikes: the simulation turns it off so that the world can settle. */
  nemesisOn = true;
  private nemesisStrikes = 0;
  private nextRandom: number;
  private lastNumber = 0;

  constructor(readonly options: WorldOptions) {
    this.nextRandom = options.seed >>> 0;
    this.trace = options.trace ? [] : undefined;
    const storeOptions: StrictStoreOptions = { clock: this.clock.clock, indexLagMs: INDEX_LAG_MS, stream: this.stream };
    this.ledger = options.ledgerStore?.() ?? new StrictLedgerStore();
    this.payments = new StrictPaymentRepository(storeOptions);
    this.refunds = options.refundRepository?.(this.payments, storeOptions) ?? new StrictRefundRepository(this.payments, storeOptions);
    this.keys = new StrictIdempotencyStore(this.clock.clock);
    this.school = options.schoolStore?.() ?? new InMemorySchoolStore();
    this.stripe = new StrictStripe({ clock: this.clock.clock, searchLagMs: STRIPE_SEARCH_LAG_MS });
    const started = (saga: keyof Machines) => (execution: Execution) => {
      if (this.runExecution === undefined) throw new Error('nothing runs the sagas of this world');
      this.executions.push({ saga, execution, actor: this.runExecution(saga, execution) });
      this.count(`execution started: ${saga}`);
    };
    const timeout = (saga: keyof Machines) => this.machines[saga].TimeoutSeconds ?? Number.POSITIVE_INFINITY;
    this.paymentWorkflow = new StrictWorkflow(this.clock.clock, timeout('payment'), started('payment'));
    this.refundWorkflow = new StrictWorkflow(this.clock.clock, timeout('refund'), started('refund'));
    this.ports = {
      payments: this.payments,
      refunds: this.refunds,
      keys: this.keys,
      provider: strictProvider(this.stripe),
      paymentWorkflow: this.paymentWorkflow,
      refundWorkflow: this.refundWorkflow,
      school: this.school,
      ledger: this.ledger,
    };
    this.services = { stripe: this.stripe, school: this.school };
  }

  private readonly services: Services;

  /** Starts `body` as an actor that runs as one invocation of the Lambda function `fn`. */
  spawn(name: string, fn: string, body: (actor: Actor) => Promise<void>): Actor {
    return this.scheduler.spawn(name, this.invocation(fn), body);
  }

  /** A new invocation of `fn`, starting now and stopped by Lambda at the function's timeout. */
  invocation(fn: string): Invocation {
    return new Invocation(fn, this.clock.ms + this.lambdaTimeoutMs);
  }

  /** The product's ports as `actor`'s Lambda sees them: every call a gate. */
  portsOf(actor: Actor): Ports {
    return gatedPorts(this.ports, this.services, actor, this.pass);
  }

  private readonly pass: Pass = (actor, label) => actor.wait({ kind: 'call', label });

  /** What posting and releasing funds need, through `ports`, as the handlers' `ledgerDeps` builds it. */
  ledgerDeps(ports: Ports): LedgerDeps {
    return { ledger: ports.ledger, settingsOf: (merchantId) => this.merchants.ledgerSettingsOf(merchantId), clock: this.clock.clock };
  }

  /** Waits `ms` of the world's clock (the clock moves when the history lets the actor wake). */
  async sleep(actor: Actor, ms: number): Promise<Decision> {
    return actor.wait({ kind: 'sleep', wakeAtMs: this.clock.ms + ms });
  }

  /**
   * A wait inside `actor`'s Lambda (a backoff, a poll): the history may kill the Lambda there,
   * and then nothing after it runs.
   */
  lambdaSleep(actor: Actor, where: string): (ms: number) => Promise<void> {
    return async (ms) => {
      const decision = await this.sleep(actor, ms);
      if (decision.kind === 'crash') actor.invocation.killedBy ??= 'crash';
      if (actor.invocation.killed) throw new Killed(where);
    };
  }

  /** The end of `actor`'s Lambda invocation: its answer may yet be lost, or the Lambda die. */
  async returning(actor: Actor): Promise<Decision> {
    return actor.wait({ kind: 'return' });
  }

  /**
   * Lets `actor` through its gate with `decision` (a one-shot fault armed for that call takes
   * the place of a plain go) and waits for it to stop again.
   */
  async grant(actor: Actor, decision: Decision = GO): Promise<void> {
    const gate = actor.gate;
    if (gate === undefined) throw new Error(`${actor.name} is not at a gate`);
    if (gate.kind === 'sleep' && gate.wakeAtMs > this.clock.ms) this.clock.advance(gate.wakeAtMs - this.clock.ms);
    let chosen = decision.kind === 'go' && gate.kind === 'call' ? (this.takeArmed(gate.label) ?? this.strike() ?? decision) : decision;
    const { invocation } = actor;
    const where = gate.kind === 'call' ? gate.label : gate.kind;
    if (!invocation.ended && !invocation.killed && this.clock.ms > invocation.deadlineMs) {
      // Lambda stopped the function at its timeout: nothing after that point runs.
      invocation.killedBy = 'timeout';
      chosen = { kind: 'crash', after: false };
      this.count(`Lambda timed out at ${where}`);
    } else if (chosen.kind !== 'go') {
      this.count(`${chosen.kind === 'fault' ? `fault ${chosen.fault}` : describeDecision(chosen)} at ${where}`);
    }
    this.log(`${actor.name} ${describeGate(gate)} -> ${invocation.killedBy === 'timeout' ? 'Lambda timed out' : describeDecision(chosen)}`);
    await this.scheduler.grant(actor, chosen);
  }

  /** In [0, 1), from the world's seed (mulberry32). */
  random(): number {
    this.nextRandom = (this.nextRandom + 0x6d2b79f5) >>> 0;
    let t = this.nextRandom;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A number unique in this world: lease owners, instance names. */
  nextNumber(): number {
    return ++this.lastNumber;
  }

  /** Records a failure no path of the product means to raise: anything but its own typed errors and a death. */
  noteUnexpected(where: string, error: unknown): void {
    if (error instanceof ChargeonceError || error instanceof Killed) return;
    this.unexpected.push(`${where}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }

  count(what: string, by = 1): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + by);
  }

  log(line: string): void {
    this.trace?.push(`${new Date(this.clock.ms).toISOString()} ${line}`);
  }

  private strike(): Decision | undefined {
    const nemesis = this.options.nemesis;
    if (nemesis === undefined || !this.nemesisOn || this.nemesisStrikes >= MAX_NEMESIS_STRIKES) return undefined;
    const total = breakages.reduce((sum, breakage) => sum + nemesis.mix[breakage], 0);
    if (total === 0 || this.random() >= nemesis.rate) return undefined;
    this.nemesisStrikes++;
    let draw = this.random() * total;
    const breakage = breakages.find((candidate) => (draw -= nemesis.mix[candidate]) < 0) ?? 'transient';
    return decisionOf(breakage, Math.floor(this.random() * 6));
  }

  private takeArmed(label: string): Decision | undefined {
    const index = this.armed.findIndex((fault) => fault.label === label);
    if (index === -1) return undefined;
    const [fault] = this.armed.splice(index, 1);
    this.log(`armed fault struck ${label}`);
    return fault?.decision;
  }
}

export function describeDecision(decision: Decision): string {
  switch (decision.kind) {
    case 'go':
      return 'go';
    case 'crash':
      return decision.after ? 'crash after' : 'crash before';
    case 'fault':
      return `fault ${decision.fault}${decision.variant === 0 ? '' : `/${decision.variant}`}`;
  }
}

function describeGate(gate: Gate): string {
  switch (gate.kind) {
    case 'call':
      return gate.label;
    case 'sleep':
      return `sleep until ${new Date(gate.wakeAtMs).toISOString()}`;
    case 'return':
      return 'return';
  }
}
