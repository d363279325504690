/**
 * The esbuild plugin that names stripe's error classes in a minified bundle. `new StripeError(raw)`
 * (stripe throws one for an aborted or unparsable response) takes its `type` from
 * `this.constructor.name`, which minifying renames; every subclass passes its type as a string.
 * Naming the classes of that one module keeps `type` right without esbuild's `keepNames`, which
 * would keep every class and function name of the bundle (16 to 29 KB of a provider function).
 */
import { readFileSync } from 'node:fs';
import type { Plugin } from 'esbuild';

const ERROR_MODULE = /[\\/]node_modules[\\/]stripe[\\/]esm[\\/]Error\.js$/;

export function stripeErrorNames(): Plugin {
  return {
    name: 'chargeonce-stripe-error-names',
    setup(build) {
      build.onLoad({ filter: ERROR_MODULE }, ({ path }) => ({ contents: withClassNames(path, readFileSync(path, 'utf8')), loader: 'js' }));
    },
  };
}

/** `source` with each of its exported classes named by a string, which minifying leaves alone. */
export function withClassNames(module: string, source: string): string {
  const classes = [...source.matchAll(/^export class (\w+)/gm)].map(([, name]) => name!);
  // stripe moved its base class elsewhere: its subclasses' names would be lost unseen.
  if (!classes.includes('StripeError')) throw new Error(`${module} declares no StripeError class to name`);
  const naming = classes.map((name) => `Object.defineProperty(${name}, 'name', { value: ${JSON.stringify(name)} });`);
  return [source, ...naming].join('\n');
}
