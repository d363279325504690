import type { ErrorReport } from './protocol.ts';

/**
 * An invocation that failed, as Lambda tells its invoker: `name` is the error's type
 * (`errorType`: the function's error name, `Runtime.ImportModuleError`, `Sandbox.Timedout`...).
 * `by` says who failed it: the function (its code, its start, its time limit), which API
 * Gateway answers with a 502 and Step Functions names by the error's type; or Lambda itself
 * refusing to run it (a throttle), which API Gateway answers with a 500 and Step Functions
 * names `Lambda.<type>`.
 */
export class InvocationError extends Error {
  readonly errorType: string;
  readonly trace: readonly string[];

  constructor(
    report: ErrorReport,
    readonly by: 'function' | 'lambda' = 'function',
  ) {
    super(report.errorMessage);
    this.name = report.errorType;
    this.errorType = report.errorType;
    this.trace = report.trace;
  }

  /** What Lambda's Invoke answers for it (the payload of a failed invocation). */
  get report(): ErrorReport {
    return { errorType: this.errorType, errorMessage: this.message, trace: this.trace };
  }
}
