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
 * The longest delay a Node timer holds (2^31 - 1 ms, about 24.8 days). A longer one overflows
 * and Node fires it after 1 ms instead: an hourly schedule stretched sixty-fold (the bench
 * pushing the schedules out of its way) would then run without pause.
 */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

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

  const timer = setInterval(fire, Math.min(options.everyMs, LONGEST_TIMER_MS));
  // A schedule alone does not keep the process alive; the servers do.
  timer.unref();
  if (options.runImmediately === true) fire();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
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
