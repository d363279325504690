/**
 * The local stand-in for an EventBridge schedule: calls `tick` every `everyMs`. Unlike
 * EventBridge it never overlaps two runs: a tick that is due while the previous one still runs
 * is skipped, so a slow reconciler never races itself locally.
 */

export interface StartScheduleOptions {
  everyMs: number;
  tick: () => Promise<unknown>;
  /** Called with whatever a tick threw; the schedule keeps running. */
  onError: (error: unknown) => void;
  /** Run a first tick at once instead of after `everyMs`. Default false, as EventBridge. */
  runImmediately?: boolean;
}

export interface Schedule {
  /** Stops further ticks and resolves once a running tick has finished. */
  stop(): Promise<void>;
  /** Ticks started so far. */
  readonly runs: number;
  /** Ticks skipped because the previous one was still running. */
  readonly skipped: number;
}

/**
 * The longest delay Node's timers honour: a longer one is set to 1 ms with only a warning, so an
 * hourly schedule slowed down for a test to "every 60 days" ran every millisecond instead.
 */
export const LONGEST_TIMER_MS = 2 ** 31 - 1;

export function startSchedule(options: StartScheduleOptions): Schedule {
  if (!(options.everyMs > 0)) throw new Error(`everyMs must be positive, got ${options.everyMs}`);
  let current: Promise<void> | undefined;
  let stopped = false;
  let runs = 0;
  let skipped = 0;

  const fire = (): void => {
    if (stopped) return;
    if (current !== undefined) {
      skipped += 1;
      return;
    }
    runs += 1;
    current = (async () => {
      try {
        await options.tick();
      } catch (error) {
        try {
          options.onError(error);
        } catch {
          // an onError that throws must not stop the schedule
        }
      } finally {
        current = undefined;
      }
    })();
  };

  // Each tick is due a whole period after the one before, however many timers it takes to get there.
  let due = Date.now() + options.everyMs;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    timer = setTimeout(() => {
      const now = Date.now();
      if (now >= due) {
        // As setInterval: ticks missed while the process was busy are not made up in a burst.
        due = Math.max(due + options.everyMs, now + 1);
        fire();
      }
      arm();
    }, Math.min(LONGEST_TIMER_MS, Math.max(0, due - Date.now())));
    // A schedule alone does not keep the process alive; the servers do.
    timer.unref();
  };
  arm();
  if (options.runImmediately === true) fire();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
    get runs() {
      return runs;
    },
    get skipped() {
      return skipped;
    },
  };
}
