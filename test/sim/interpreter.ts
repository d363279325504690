import type { ExecutionStatus } from '../../functions/domain/ports.ts';

/**
 * Runs a state machine as Step Functions does, from its ASL as synthesized (the definition the
 * CDK app deploys, not a copy): Task states with their Retry (per-retrier attempt counts,
 * exponential backoff, `MaxDelaySeconds`, full jitter) and Catch (`ResultPath`), Task and
 * execution timeouts, Choice, Wait, Pass, Succeed and Fail. Anything else in the definition is
 * refused loudly rather than run approximately: the interpreter must be taught it first.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly TimeoutSeconds?: number;
}

export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
  readonly TimeoutSeconds?: number;
  readonly Choices?: readonly ChoiceRule[];
  readonly Default?: string;
  readonly Seconds?: number;
  readonly SecondsPath?: string;
  readonly Result?: Json;
  readonly ResultPath?: string | null;
  readonly [field: string]: unknown;
}

interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
}

interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath?: string | null;
  readonly Next: string;
}

type ChoiceRule = { readonly Next?: string; readonly Variable?: string; readonly [operator: string]: unknown };

/** A Task's invocation, as its state machine sees it. */
export type TaskResult =
  | { readonly output: Json }
  | { readonly error: { readonly Error: string; readonly Cause: string } };

/** What the interpreter needs from the world it runs in. */
export interface ExecutionHost {
  /** Invokes the Task state's function with `input`. */
  invoke(state: string, input: JsonObject): Promise<TaskResult>;
  /** Waits `ms` of the world's clock. */
  sleep(ms: number): Promise<void>;
  nowMs(): number;
  /** In [0, 1): the jitter of a retry. */
  random(): number;
}

const TASK_FIELDS = new Set(['Type', 'Resource', 'Next', 'End', 'Retry', 'Catch', 'TimeoutSeconds', 'Comment']);
const CHOICE_FIELDS = new Set(['Type', 'Choices', 'Default', 'Comment']);
const WAIT_FIELDS = new Set(['Type', 'Seconds', 'SecondsPath', 'Next', 'End', 'Comment']);
const PASS_FIELDS = new Set(['Type', 'Result', 'ResultPath', 'Next', 'End', 'Comment']);
const END_FIELDS = new Set(['Type', 'Error', 'Cause', 'Comment']);

/** Checks up front that the interpreter models every state and field of `definition`. */
export function requireModelled(definition: AslDefinition): void {
  for (const [name, state] of Object.entries(definition.States)) {
    const allowed = { Task: TASK_FIELDS, Choice: CHOICE_FIELDS, Wait: WAIT_FIELDS, Pass: PASS_FIELDS, Succeed: END_FIELDS, Fail: END_FIELDS }[
      state.Type
    ];
    if (allowed === undefined) throw new Error(`state ${name}: the simulator does not model ${state.Type} states`);
    const unknown = Object.keys(state).filter((field) => !allowed.has(field));
    if (unknown.length > 0) throw new Error(`state ${name}: the simulator does not model ${unknown.join(', ')}`);
  }
}

/** Runs one execution to its end; its status then. */
export async function runExecution(
  definition: AslDefinition,
  input: JsonObject,
  host: ExecutionHost,
): Promise<ExecutionStatus> {
  const startedAtMs = host.nowMs();
  const timedOut = () =>
    definition.TimeoutSeconds !== undefined && host.nowMs() - startedAtMs > definition.TimeoutSeconds * 1000;
  let stateName = definition.StartAt;
  let data: JsonObject = input;
  for (;;) {
    if (timedOut()) return 'TIMED_OUT';
    const state = definition.States[stateName];
    if (state === undefined) throw new Error(`no state ${stateName}`);
    let next: string | undefined;
    switch (state.Type) {
      case 'Succeed':
        return 'SUCCEEDED';
      case 'Fail':
        return 'FAILED';
      case 'Choice':
        next = choose(stateName, state, data);
        break;
      case 'Pass':
        data = assign(data, state.ResultPath, state.Result ?? data);
        next = state.Next;
        break;
      case 'Wait':
        await host.sleep(1000 * (state.SecondsPath === undefined ? (state.Seconds ?? 0) : Number(read(data, state.SecondsPath))));
        next = state.Next;
        break;
      case 'Task': {
        const outcome = await runTask(stateName, state, data, host);
        if (timedOut()) return 'TIMED_OUT';
        if ('failed' in outcome) return 'FAILED';
        data = outcome.data;
        next = outcome.next;
        break;
      }
      default:
        throw new Error(`state ${stateName}: ${state.Type} is not modelled`);
    }
    if (next === undefined) return 'SUCCEEDED';
    stateName = next;
  }
}

async function runTask(
  name: string,
  state: AslState,
  input: JsonObject,
  host: ExecutionHost,
): Promise<{ data: JsonObject; next: string | undefined } | { failed: true }> {
  const attempts = new Map<Retrier, number>();
  for (;;) {
    const startedAtMs = host.nowMs();
    let result = await host.invoke(name, input);
    if (state.TimeoutSeconds !== undefined && host.nowMs() - startedAtMs > state.TimeoutSeconds * 1000) {
      // The function's work stands; its answer came too late to count.
      result = { error: { Error: 'States.Timeout', Cause: `${name} ran past ${state.TimeoutSeconds} s` } };
    }
    if ('output' in result) {
      if (result.output === null || typeof result.output !== 'object' || Array.isArray(result.output)) {
        throw new Error(`${name} returned ${JSON.stringify(result.output)}, not a state`);
      }
      return { data: result.output, next: state.End ? undefined : state.Next };
    }
    const error = result.error.Error;
    const retrier = state.Retry?.find((r) => matches(r.ErrorEquals, error));
    const attempt = retrier === undefined ? 0 : (attempts.get(retrier) ?? 0);
    if (retrier !== undefined && attempt < (retrier.MaxAttempts ?? 3)) {
      attempts.set(retrier, attempt + 1);
      await host.sleep(retryDelayMs(retrier, attempt, host.random()));
      continue;
    }
    const catcher = state.Catch?.find((c) => matches(c.ErrorEquals, error));
    if (catcher === undefined) return { failed: true };
    return { data: assign(input, catcher.ResultPath, result.error), next: catcher.Next };
  }
}

/** Step Functions' backoff: interval x rate^attempt, capped, and with full jitter anywhere below that. */
export function retryDelayMs(retrier: Retrier, attempt: number, random: number): number {
  const base = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** attempt;
  const capped = retrier.MaxDelaySeconds === undefined ? base : Math.min(base, retrier.MaxDelaySeconds);
  return Math.round(1000 * (retrier.JitterStrategy === 'FULL' ? random * capped : capped));
}

function matches(errorEquals: readonly string[], error: string): boolean {
  return errorEquals.some(
    (name) =>
      name === error ||
      (name === 'States.ALL' && error !== 'States.Runtime') ||
      (name === 'States.TaskFailed' && error !== 'States.Timeout' && error !== 'States.Runtime'),
  );
}

function choose(name: string, state: AslState, data: JsonObject): string {
  const rule = (state.Choices ?? []).find((choice) => holds(name, choice, data));
  const next = rule?.Next ?? state.Default;
  if (next === undefined) throw new Error(`state ${name}: no choice matched and there is no Default (States.NoChoiceMatched)`);
  return next;
}

function holds(name: string, rule: ChoiceRule, data: JsonObject): boolean {
  if (Array.isArray(rule['And'])) return (rule['And'] as ChoiceRule[]).every((r) => holds(name, r, data));
  if (Array.isArray(rule['Or'])) return (rule['Or'] as ChoiceRule[]).some((r) => holds(name, r, data));
  if (rule['Not'] !== undefined) return !holds(name, rule['Not'] as ChoiceRule, data);
  if (rule.Variable === undefined) throw new Error(`state ${name}: a choice without a Variable`);
  const value = read(data, rule.Variable);
  if (rule['IsPresent'] !== undefined) return (value !== undefined) === rule['IsPresent'];
  // As Step Functions: a comparison on a path the state lacks fails the execution (guard it with IsPresent in an And).
  if (value === undefined) throw new Error(`state ${name}: the choice reads ${rule.Variable}, which the state lacks (States.Runtime)`);
  if (rule['StringEquals'] !== undefined) return value === rule['StringEquals'];
  if (rule['NumericEquals'] !== undefined) return value === rule['NumericEquals'];
  for (const [operator, compare] of numericComparisons) {
    const bound = rule[operator];
    // Step Functions compares numbers only: a value of another type (or none) fails the rule.
    if (bound !== undefined) return typeof value === 'number' && compare(value, Number(bound));
  }
  if (rule['BooleanEquals'] !== undefined) return value === rule['BooleanEquals'];
  throw new Error(`state ${name}: the simulator does not model the choice ${JSON.stringify(rule)}`);
}

const numericComparisons: readonly [string, (value: number, bound: number) => boolean][] = [
  ['NumericGreaterThan', (value, bound) => value > bound],
  ['NumericGreaterThanEquals', (value, bound) => value >= bound],
  ['NumericLessThan', (value, bound) => value < bound],
  ['NumericLessThanEquals', (value, bound) => value <= bound],
];

/** `$.a.b` of `data`; undefined where absent. Only plain paths: anything else is not modelled. */
function read(data: JsonObject, path: string): Json | undefined {
  let value: Json | undefined = data;
  for (const segment of pathSegments(path)) {
    value = value !== null && typeof value === 'object' && !Array.isArray(value) ? value[segment] : undefined;
  }
  return value;
}

/** `data` with `value` at `path` (`$` replaces it; null discards `value`). */
function assign(data: JsonObject, path: string | null | undefined, value: Json): JsonObject {
  if (path === null) return data;
  const segments = pathSegments(path ?? '$');
  if (segments.length === 0) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('a ResultPath of $ needs an object');
    return value;
  }
  const [first, ...rest] = segments as [string, ...string[]];
  const inner = data[first];
  const child = inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? inner : {};
  return { ...data, [first]: rest.length === 0 ? value : assign(child, `$.${rest.join('.')}`, value) };
}

function pathSegments(path: string): string[] {
  if (path === '$') return [];
  if (!/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) throw new Error(`the simulator does not model the path ${path}`);
  return path.slice(2).split('.');
}
