/**
 * The history of each local execution, as Step Functions' GetExecutionHistory gives it: the
 * interpreter's events (aws-local-stepfunctions) in AWS's event types and details, numbered
 * from 1, times in epoch seconds. The interpreter reports a Task's attempts as failures and
 * retries, not as Lambda's scheduled/started/succeeded: each attempt here is a `TaskScheduled`,
 * each failed one a `TaskFailed`; a caught error shows as the next state entered, as on AWS.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localRegion } from '../assembly/local-account.ts';
import type { ExecutionEvent } from './stepfunctions-local.ts';

/** Without a data directory, the histories of this many ended executions are kept (a test stack runs thousands). */
const ENDED_KEPT_IN_MEMORY = 1000;

/** One event of GetExecutionHistory's answer (the fields this stack fills). */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  /** Epoch seconds. */
  timestamp: number;
  type: string;
  executionStartedEventDetails?: { input?: string };
  executionSucceededEventDetails?: { output?: string };
  executionFailedEventDetails?: { error: string; cause: string };
  stateEnteredEventDetails?: { name: string; input?: string };
  stateExitedEventDetails?: { name: string; output?: string };
  taskScheduledEventDetails?: { resourceType: 'lambda'; resource: 'invoke'; region: string; parameters: string };
  taskFailedEventDetails?: { resourceType: 'lambda'; resource: 'invoke'; error: string; cause: string };
}

type Detail = Omit<HistoryEvent, 'id' | 'previousEventId' | 'timestamp'>;

/**
 * Histories in memory while their executions run; with a data directory, each written to a file
 * of its own once its execution ended, so a restarted stack still shows them (and a save never
 * rewrites every other execution's history); without one, the last ones ended stay in memory.
 */
export class ExecutionHistories {
  private readonly inMemory = new Map<string, HistoryEvent[]>();
  private readonly endedInMemory: string[] = [];
  private readonly directory: string | undefined;

  constructor(dataDir: string | undefined) {
    if (dataDir === undefined) return;
    this.directory = join(dataDir, 'histories');
    mkdirSync(this.directory, { recursive: true });
  }

  add(executionArn: string, event: ExecutionEvent): void {
    const history = this.inMemory.get(executionArn) ?? [];
    this.inMemory.set(executionArn, history);
    for (const detail of awsEventsOf(event)) {
      history.push({ id: history.length + 1, previousEventId: history.length, timestamp: event.timestamp / 1000, ...detail });
    }
  }

  /** The execution ended: its history is complete. */
  close(executionArn: string): void {
    const file = this.fileOf(executionArn);
    const history = this.inMemory.get(executionArn);
    if (history === undefined) return;
    if (file === undefined) {
      this.endedInMemory.push(executionArn);
      for (const oldest of this.endedInMemory.splice(0, Math.max(0, this.endedInMemory.length - ENDED_KEPT_IN_MEMORY))) this.inMemory.delete(oldest);
      return;
    }
    writeFileSync(`${file}.tmp`, JSON.stringify(history));
    renameSync(`${file}.tmp`, file);
    this.inMemory.delete(executionArn);
  }

  /** Oldest first; without `includeData`, as AWS's `includeExecutionData: false`, no inputs or outputs. */
  of(executionArn: string, { includeData }: { includeData: boolean }): HistoryEvent[] {
    const file = this.fileOf(executionArn);
    const history =
      this.inMemory.get(executionArn) ?? (file !== undefined && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as HistoryEvent[]) : []);
    return includeData ? structuredClone(history) : history.map(withoutData);
  }

  private fileOf(executionArn: string): string | undefined {
    if (this.directory === undefined) return undefined;
    return join(this.directory, `${createHash('sha256').update(executionArn).digest('hex')}.json`);
  }
}

function awsEventsOf(event: ExecutionEvent): Detail[] {
  switch (event.type) {
    case 'ExecutionStarted':
      return [{ type: 'ExecutionStarted', executionStartedEventDetails: { input: JSON.stringify(event.input) } }];
    case 'ExecutionSucceeded':
      return [{ type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: JSON.stringify(event.output) } }];
    case 'ExecutionFailed':
      return [{ type: 'ExecutionFailed', executionFailedEventDetails: { error: event.Error, cause: causeText(event.Cause) } }];
    case 'ExecutionAborted':
      return [{ type: 'ExecutionAborted' }];
    case 'ExecutionTimeout':
      return [{ type: 'ExecutionTimedOut' }];
    case 'StateEntered': {
      const entered: Detail = { type: `${event.state.type}StateEntered`, stateEnteredEventDetails: { name: event.state.name, input: JSON.stringify(event.state.input) } };
      return event.state.type === 'Task' ? [entered, taskScheduled(event.state.input)] : [entered];
    }
    case 'StateExited':
      return [{ type: `${event.state.type}StateExited`, stateExitedEventDetails: { name: event.state.name, output: JSON.stringify(event.state.output ?? null) } }];
    case 'StateFailed':
      return event.state.type === 'Task'
        ? [{ type: 'TaskFailed', taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: event.Error, cause: causeText(event.Cause) } }]
        : [];
    case 'StateRetried':
      return event.state.type === 'Task' ? [taskScheduled(event.state.input)] : [];
    default:
      // Caught errors, Map iterations and Parallel branches: AWS shows them through the states entered next.
      return [];
  }
}

function taskScheduled(input: unknown): Detail {
  return { type: 'TaskScheduled', taskScheduledEventDetails: { resourceType: 'lambda', resource: 'invoke', region: localRegion, parameters: JSON.stringify(input) } };
}

function causeText(cause: unknown): string {
  return typeof cause === 'string' ? cause : cause instanceof Error ? cause.message : JSON.stringify(cause);
}

function withoutData(event: HistoryEvent): HistoryEvent {
  const copy = structuredClone(event);
  delete copy.executionStartedEventDetails?.input;
  delete copy.executionSucceededEventDetails?.output;
  delete copy.stateEnteredEventDetails?.input;
  delete copy.stateExitedEventDetails?.output;
  return copy;
}
