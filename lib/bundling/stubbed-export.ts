/**
 * What a Lambda bundle holds in place of what it was built without (lib/bundling/unused-modules.ts).
 * A stubbed export can be constructed, since the Stripe client builds every resource it knows of,
 * but whatever then touches it, or the instance it made, throws an error that names the module
 * that was left out: never a silent `undefined`.
 */

/** The name of the error a stub throws. */
export const STUBBED_MODULE_ERROR = 'StubbedModuleError';

function fail(module: string, what: string): never {
  const error = new Error(`${module} is not in this bundle (lib/bundling/unused-modules.ts left it out): ${what} was used`);
  error.name = STUBBED_MODULE_ERROR;
  throw error;
}

export function stubbedExport(module: string, exportName: string): unknown {
  const instance = new Proxy({}, { get: (_, property) => fail(module, `${exportName} (an instance's ${String(property)})`) });
  return new Proxy(function stubbed() {}, {
    construct: () => instance,
    apply: () => fail(module, exportName),
    get: (_, property) => fail(module, `${exportName}.${String(property)}`),
  });
}

/** A package.json of which only `version` is kept. */
export function versionOnly(module: string, version: string): { readonly version: string } {
  return new Proxy({ version }, { get: (target, property) => (property === 'version' ? target.version : fail(module, String(property))) });
}
