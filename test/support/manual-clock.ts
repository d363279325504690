/**
 * Time that moves only when a test says so: `sleep` returns at once, having moved the clock
 * by what was asked, so a wait of seconds takes no real time.
 */
export class ManualClock {
  /** Every sleep asked for, in milliseconds. */
  readonly sleeps: number[] = [];
  /** Runs after each sleep moved the clock: another request acting while this one waits. */
  whileAsleep: (() => void | Promise<void>) | undefined;

  constructor(private nowMs: number) {}

  readonly clock = (): Date => new Date(this.nowMs);

  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.nowMs += ms;
    await this.whileAsleep?.();
  };

  advance(ms: number): void {
    this.nowMs += ms;
  }

  get ms(): number {
    return this.nowMs;
  }
}
