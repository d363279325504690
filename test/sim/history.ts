import fc from 'fast-check';
import { reconcileMaxResumes } from '../../functions/config/env.ts';
import { cartCommands } from './cart-commands.ts';
import { type Command, type CommandRegistry, paymentCommands } from './commands.ts';
import { type BreakageMix, breakages } from './scheduler.ts';
import { Simulation, type SimulationOptions } from './simulation.ts';
import type { Nemesis } from './world.ts';

/** A history: the world's seed and settings, then what happens to it, in order. */
export interface History {
  readonly seed: number;
  readonly reconcileBatch: number;
  readonly maxResumes: number;
  readonly nemesis: Nemesis;
  readonly commands: readonly Command[];
}

/** Payments, refunds and carts: what a history is made of. */
export const everyCommand: CommandRegistry = (mix) => [...paymentCommands(mix), ...cartCommands(mix)];

/** How often each way of breaking a call comes up, before a history's swarm weighs them again. */
export const USUAL_BREAKAGES: BreakageMix = {
  'crash before': 1,
  'crash after': 1,
  transient: 4,
  lost: 3,
  timeout: 2,
  refused: 2,
  // Kept by Stripe for 24 hours: a payment meeting one is given up to people, so rarely.
  error500: 1,
};

/** The most commands one history holds; a failure shrinks to far fewer. */
export const MAX_COMMANDS = 40;

/**
 * One corner of the swarm: factors for some kinds of command (by name) and some breakages, in
 * place of the ones drawn. A history drawn there is still an ordinary history.
 */
export interface Focus {
  readonly commands?: Readonly<Record<string, number>>;
  readonly breakages?: Partial<BreakageMix>;
}

/** The corners a test or `npm run sim -- --focus NAME` draws from, by name. */
export const focuses = {
  /** Where refunds race: many refunds and duplicate executions, provider faults, refusals; no carts. */
  'refund races': {
    commands: {
      ...Object.fromEntries(cartCommands(USUAL_BREAKAGES).map((kind) => [kind.name, 0])),
      refund: 4,
      duplicate: 4,
      'arm a provider fault': 4,
    },
    breakages: { refused: 4 },
  },
  /** Where merchants capture and cancel manual payments: many decisions, no carts, no refunds. */
  'manual capture': {
    commands: {
      ...Object.fromEntries(cartCommands(USUAL_BREAKAGES).map((kind) => [kind.name, 0])),
      refund: 0,
      decide: 4,
    },
  },
} as const satisfies Record<string, Focus>;

export type FocusName = keyof typeof focuses;

/**
 * Histories of the registry's commands. Swarm testing: each history leaves some kinds of command
 * and some ways of breaking calls out, and makes others four times likelier, so combinations a
 * uniform mix makes rare (a refund, a duplicate execution and a refusal at the provider) are
 * common in some histories; `focus` pins some of those factors.
 */
export function histories(registry: CommandRegistry = everyCommand, focus: Focus = {}): fc.Arbitrary<History> {
  const names = registry(USUAL_BREAKAGES).map((kind) => kind.name);
  return fc
    .record({
      seed: fc.integer(),
      // One payment per run finds what a busy reconciler leaves for the next minute.
      reconcileBatch: fc.constantFrom(1, 2, 100),
      // A deployment may give up on a payment sooner than the default (RECONCILE_MAX_RESUMES):
      // the give-up path is then taken by histories far shorter than six dead executions.
      maxResumes: fc.constantFrom(1, 2, reconcileMaxResumes()),
      commandSwarm: fc.array(swarmFactor, { minLength: names.length, maxLength: names.length }),
      breakageSwarm: fc.array(swarmFactor, { minLength: breakages.length, maxLength: breakages.length }),
      // Faults at random calls, until the world is left to settle: none in most histories.
      nemesisRate: fc.constantFrom(0, 0, 0.03, 0.1),
    })
    .chain(({ seed, reconcileBatch, maxResumes, commandSwarm, breakageSwarm, nemesisRate }) => {
      const weighed = Object.fromEntries(
        breakages.map((b, i) => [b, USUAL_BREAKAGES[b] * (focus.breakages?.[b] ?? breakageSwarm[i] ?? 1)]),
      );
      const mix = (Object.values(weighed).some((weight) => weight > 0) ? weighed : USUAL_BREAKAGES) as BreakageMix;
      const kinds = registry(mix);
      const chosen = kinds
        .map((kind, i) => ({ ...kind, weight: kind.weight * (focus.commands?.[kind.name] ?? commandSwarm[i] ?? 1) }))
        .filter((kind) => kind.weight > 0);
      const commands = fc.array(fc.oneof(...(chosen.length > 0 ? chosen : kinds)), { maxLength: MAX_COMMANDS, size: 'max' });
      return commands.map((list): History => ({ seed, reconcileBatch, maxResumes, nemesis: { rate: nemesisRate, mix }, commands: list }));
    });
}

/** Swarm testing: a kind left out of a history, kept as usual, or made four times likelier. */
const swarmFactor = fc.constantFrom(0, 1, 1, 4);

/** What a test may change about the simulated product: the broken variants the simulator must catch. */
export type Variant = Pick<SimulationOptions, 'steps' | 'refundRepository' | 'schoolStore' | 'ledgerStore'>;

/**
 * Runs `history` to its end and settles the world; throws an {@link InvariantViolation} when a
 * promise broke. Returns the simulation, for its counts.
 */
export async function runHistory(history: History, variant: Variant = {}, trace = false): Promise<Simulation> {
  const sim = new Simulation({ seed: history.seed, reconcileBatch: history.reconcileBatch, maxResumes: history.maxResumes, nemesis: history.nemesis, trace, ...variant });
  await sim.setUp();
  for (const command of history.commands) {
    sim.world.log(`# ${command}`);
    await command.run(sim);
    sim.check('always');
  }
  sim.world.log('# settle');
  await sim.settle();
  return sim;
}

/** The property every history must keep; `seen` adds up the counts of the histories it ran. */
export function everyHistoryHolds(
  variant: Variant = {},
  seen?: Map<string, number>,
  focus?: Focus,
): fc.IAsyncPropertyWithHooks<[History]> {
  return fc.asyncProperty(histories(everyCommand, focus), async (history) => {
    const sim = await runHistory(history, variant);
    if (seen === undefined) return;
    seen.set('histories', (seen.get('histories') ?? 0) + 1);
    for (const [what, count] of sim.world.counts) seen.set(what, (seen.get(what) ?? 0) + count);
  });
}

/**
 * What fast-check found, and how to see it again: the shrunk history, what broke, and the
 * command that replays it with every gate traced.
 */
export function failureReport(result: fc.RunDetails<[History]>, drawn: DrawnFrom = {}): string {
  const error = result.errorInstance;
  return [fc.defaultReportMessage(result) ?? '', error instanceof Error ? error.message : String(error), replayCommand(result, drawn)].join('\n');
}

/** Which product and which corner of the swarm a run drew its histories from: a replay needs both. */
export interface DrawnFrom {
  readonly variant?: string;
  readonly focus?: FocusName;
}

/** The one command that runs a failed history again, traced. */
export function replayCommand(result: fc.RunDetails<[History]>, { variant, focus }: DrawnFrom = {}): string {
  const options = [variant === undefined ? '' : ` --variant '${variant}'`, focus === undefined ? '' : ` --focus '${focus}'`].join('');
  return `replay: npm run sim -- --seed ${result.seed} --path ${result.counterexamplePath}${options} --trace`;
}
