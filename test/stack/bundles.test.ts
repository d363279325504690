import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../functions/catalog.ts';
import { readCloudAssembly } from '../../local/assembly/cloud-assembly.ts';
import { type LocalFunction, readResources } from '../../local/assembly/resources.ts';
import { ensureAssembly } from '../../local/assembly/synthesize.ts';

/**
 * What the deployed bundles hold, read from their source maps in the synthesized assembly: the
 * routes that take no body (GET, DELETE) bundle no zod, 19 to 35 KiB of each bundle that holds it
 * (bench/README.md, "Lambda bundles"). A view or a path parameter imported from a module that
 * also builds zod schemas brings them all back; this says which route did.
 */
let functions: readonly LocalFunction[];

beforeAll(async () => {
  functions = readResources(readCloudAssembly(await ensureAssembly())).functions;
});

/** The npm packages whose modules a function's bundle holds, from its source map. */
function packagesOf(fn: LocalFunction): Set<string> {
  const { sources } = JSON.parse(readFileSync(path.join(fn.codeDir, 'index.mjs.map'), 'utf8')) as { sources: string[] };
  return new Set(sources.flatMap((source) => [...source.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].map(([, name]) => name!).slice(-1)));
}

const functionOf = (constructId: string) => {
  const fn = functions.find((candidate) => candidate.constructId === constructId);
  if (fn === undefined) throw new Error(`the assembly has no function ${constructId}`);
  return fn;
};

describe('the Lambda bundles', () => {
  it('hold no zod for a route that takes no body', () => {
    // Act
    const withZod = apiRoutes
      .filter((route) => route.method !== 'POST')
      .filter((route) => packagesOf(functionOf(route.id)).has('zod'))
      .map((route) => route.id);

    // Assess
    expect(withZod).toEqual([]);
  });

  it('finds zod in a route that parses a body with it', () => {
    expect(packagesOf(functionOf('CreatePayment')).has('zod')).toBe(true);
  });
});
