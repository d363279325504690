import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * The simulation's only source of concurrency. Every actor (an API request, a saga execution,
 * a reconciler run) is ordinary async code that stops at a gate before each port call, each
 * sleep and the end of each Lambda invocation; nothing moves until the history grants one
 * actor its gate, so the order of every await that touches a port is the history's choice.
 */

/** What happens at a gate. */
export type Decision =
  | { readonly kind: 'go' }
  /** The Lambda dies there: before the call, or after it changed what it changes. */
  | { readonly kind: 'crash'; readonly after: boolean }
  /** The call fails the way its service can (`variant` picks among a service's transient faults). */
  | { readonly kind: 'fault'; readonly fault: Fault; readonly variant: number };

/**
 * Faults in the service's own terms are chosen where the call is made (a port knows what a lost
 * answer or a refusal means for it); here they are only named.
 * - `transient`: answered before anything ran (5xx, throttling, 429, key in use, a transaction conflict);
 * - `lost`: it ran, and the answer never reached the caller;
 * - `timeout`: the caller gave up; the provider finishes the request later;
 * - `refused`: the provider refused it before it ran (400), keeping nothing for its key;
 * - `error500`: the provider failed inside, and keeps that 500 for the key.
 */
export const faults = ['transient', 'lost', 'timeout', 'refused', 'error500'] as const;
export type Fault = (typeof faults)[number];

export const GO: Decision = { kind: 'go' };

/** Every way a history can break a call. */
export const breakages = ['crash before', 'crash after', ...faults] as const;
export type Breakage = (typeof breakages)[number];

/** How often a history breaks calls each way (relative weights; 0 never). */
export type BreakageMix = Readonly<Record<Breakage, number>>;

export function decisionOf(breakage: Breakage, variant: number): Decision {
  if (breakage === 'crash before' || breakage === 'crash after') return { kind: 'crash', after: breakage === 'crash after' };
  return { kind: 'fault', fault: breakage, variant };
}

export type Gate =
  | { readonly kind: 'call'; readonly label: string }
  | { readonly kind: 'sleep'; readonly wakeAtMs: number }
  /** The end of a Lambda invocation: its answer is about to leave. */
  | { readonly kind: 'return' };

/** What a killed Lambda reports (Lambda's own name for a process that exited mid-invocation). */
export class Killed extends Error {
  override readonly name = 'Runtime.ExitError';
  constructor(where: string) {
    super(`the Lambda died at ${where}`);
  }
}

/**
 * One Lambda invocation: once killed (it crashed, or ran past its timeout and Lambda stopped it),
 * none of its code reaches a port again.
 */
export class Invocation {
  killedBy: 'crash' | 'timeout' | undefined;
  /** Set once its answer has left: its time limit no longer applies. */
  ended = false;

  constructor(
    readonly fn: string,
    /** When Lambda stops it, in the world's milliseconds. */
    readonly deadlineMs: number,
  ) {}

  get killed(): boolean {
    return this.killedBy !== undefined;
  }

  /** The error Step Functions sees for it: Lambda reports a timeout as Lambda.Unknown. */
  get failure(): string {
    return this.killedBy === 'timeout' ? 'Lambda.Unknown' : 'Runtime.ExitError';
  }
}

export class Actor {
  /** The gate it waits at, if it waits. */
  gate: Gate | undefined;
  done = false;
  invocation: Invocation;
  /** The port calls it has made, each settled: the next one waits for them (see gatedPorts). */
  calls: Promise<unknown> = Promise.resolve();
  private resolve: ((decision: Decision) => void) | undefined;

  constructor(
    readonly id: number,
    readonly name: string,
    invocation: Invocation,
  ) {
    this.invocation = invocation;
  }

  /** Waits for the history to let this actor through `gate`. */
  wait(gate: Gate): Promise<Decision> {
    if (this.gate !== undefined) throw new Error(`${this.name} reached a gate while waiting at another`);
    this.gate = gate;
    return new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** Lets the actor through its gate; the caller then waits for it to stop again. */
  release(decision: Decision): Gate {
    const { gate, resolve } = this;
    if (gate === undefined || resolve === undefined) throw new Error(`${this.name} is not at a gate`);
    this.gate = undefined;
    this.resolve = undefined;
    resolve(decision);
    return gate;
  }
}

export class Scheduler {
  private readonly live: Actor[] = [];
  private lastId = 0;
  /** Failures of actors' own code (not of the system they drive): they end the history. */
  readonly broken: unknown[] = [];

  /** Starts `body` as a new actor; it runs up to its first gate once the caller settles. */
  spawn(name: string, invocation: Invocation, body: (actor: Actor) => Promise<void>): Actor {
    const actor = new Actor(++this.lastId, name, invocation);
    this.live.push(actor);
    body(actor).then(
      () => this.end(actor),
      (error: unknown) => {
        this.broken.push(error);
        this.end(actor);
      },
    );
    return actor;
  }

  /** The actors that have not finished, oldest first. */
  actors(): readonly Actor[] {
    return this.live;
  }

  /** Lets `actor` through its gate and waits until it stops at its next gate or finishes. */
  async grant(actor: Actor, decision: Decision): Promise<Gate> {
    const gate = actor.release(decision);
    await this.settle();
    return gate;
  }

  /**
   * Waits until every actor is at a gate or finished. Ports answer in microtasks, so one turn of
   * the event loop runs everything that can run; an actor still moving after it awaits something
   * outside the simulation (a real timer, I/O), which would make the history unrepeatable.
   */
  async settle(): Promise<void> {
    await nextTurn();
    const moving = this.live.filter((actor) => actor.gate === undefined && !actor.done);
    if (moving.length > 0) {
      throw new Error(`${moving.map((a) => a.name).join(', ')} awaits something outside the simulation`);
    }
  }

  private end(actor: Actor): void {
    actor.done = true;
    this.live.splice(this.live.indexOf(actor), 1);
  }
}
