/**
 * What a Lambda bundle holds in place of an export it was built without
 * (lib/bundling/unused-modules.ts). It can be constructed, since the Stripe client builds every
 * resource it knows of, but whatever then touches it, or the instance it made, throws an error
 * that names the module that was left out: never a silent `undefined`.
 */

/** The name of the error a stub throws. */
export const STUBBED_MODULE_ERROR = 'StubbedModuleError';

export function stubbedExport(module: string, exportName: string): unknown {
  const fail = (what: string): never => {
    const error = new Error(
      `${module} is not in this bundle (lib/bundling/unused-modules.ts left it out): ${exportName}${what} was used`,
    );
    error.name = STUBBED_MODULE_ERROR;
    throw error;
  };
  const instance = new Proxy({}, { get: (_, property) => fail(` (an instance's ${String(property)})`) });
  return new Proxy(function stubbed() {}, {
    construct: () => instance,
    apply: () => fail(''),
    get: (_, property) => fail(`.${String(property)}`),
  });
}
