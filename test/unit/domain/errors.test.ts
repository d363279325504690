import { describe, expect, it } from 'vitest';
import * as errors from '../../../functions/domain/errors.ts';

type ErrorClass = new (...args: never[]) => errors.ChargeonceError;
const classes = (Object.values(errors) as unknown[]).filter(
  (value): value is ErrorClass => typeof value === 'function' && value.prototype instanceof errors.ChargeonceError,
);

function instanceOf(Class: ErrorClass): errors.ChargeonceError {
  return new (Class as unknown as new (...args: string[]) => errors.ChargeonceError)('x', 'y');
}

describe('the error family', () => {
  it('sets every name as a literal that survives minification', () => {
    for (const Class of classes) {
      const error = instanceOf(Class);
      expect(error.name).not.toBe('Error');
      expect(Object.getOwnPropertyDescriptor(error, 'name')?.value).toBe(error.name);
    }
  });

  it('lists for Retry and Catch only names that some error of the family carries', () => {
    const names = new Set(classes.map((Class) => instanceOf(Class).name));

    const reportedByTheServices = new Set<string>([...errors.LambdaServiceErrorNames, errors.TaskTimeoutErrorName]);
    for (const name of [...errors.TransientErrorNames, ...errors.LeaseWaitErrorNames, ...errors.TerminalErrorNames]) {
      if (!reportedByTheServices.has(name)) expect(names).toContain(name);
    }
  });

  it('never lists a name as both transient and terminal', () => {
    const transient = new Set<string>([...errors.TransientErrorNames, ...errors.LeaseWaitErrorNames]);

    expect(errors.TerminalErrorNames.filter((name) => transient.has(name))).toEqual([]);
  });

  it('keeps codes stable and unique', () => {
    const codes = Object.values(errors.ErrorCode);

    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.every((code) => /^[a-z_]+$/.test(code))).toBe(true);
  });
});
