import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EnvVar } from '../../../../functions/config/env.ts';
import { CrashSwitch } from '../../../../local/lambda/crash-switch.ts';
import { type HostedFunction, LambdaHost } from '../../../../local/lambda/host.ts';
import { InvocationError } from '../../../../local/lambda/invocation-error.ts';

const root = mkdtempSync(path.join(tmpdir(), 'lambda-host-'));
const hosts: LambdaHost[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.stop()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A function whose bundle is `code` (an ES module) in a directory of its own. */
function bundle(name: string, code: string, overrides: Partial<HostedFunction> = {}): HostedFunction {
  const codeDir = path.join(root, name);
  mkdirSync(codeDir, { recursive: true });
  writeFileSync(path.join(codeDir, 'index.mjs'), code);
  return {
    name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    codeDir,
    handler: 'index.handler',
    memoryMb: 128,
    timeoutSeconds: 3,
    environment: { ONLY: name },
    ...overrides,
  };
}

function hostOf(functions: HostedFunction[], options: { maxInstancesPerFunction?: number; crash?: CrashSwitch; isolation?: 'none' } = {}): LambdaHost {
  const host = new LambdaHost({ functions, ...options });
  hosts.push(host);
  return host;
}

/** Resolves with the invocation's error, failing when it succeeds. */
async function failure(invocation: Promise<unknown>): Promise<InvocationError> {
  const error = await invocation.then(
    (result) => new Error(`expected a failed invocation, got ${JSON.stringify(result)}`),
    (caught: unknown) => caught,
  );
  if (!(error instanceof InvocationError)) throw error;
  return error;
}

const counting = `
let invocations = 0;
export const handler = async (event, context) => ({
  event,
  invocations: ++invocations,
  env: { ...process.env },
  context: { functionName: context.functionName, memoryLimitInMB: context.memoryLimitInMB, remaining: context.getRemainingTimeInMillis() },
});`;

/** Sleeps as long as the event says, then names its thread (its instance). */
const sleeping = `
import { threadId } from 'node:worker_threads';
export const handler = async ({ ms }) => { await new Promise((resolve) => setTimeout(resolve, ms)); return threadId; };`;

describe('the Lambda host', () => {
  it('runs a bundle with exactly the environment it is given and module state of its own, kept between invocations', async () => {
    // Prepare
    const host = hostOf([bundle('first', counting), bundle('second', counting)]);

    // Act
    const firstAnswers = [await host.invoke('first', { n: 1 }), await host.invoke('first', { n: 2 })] as { invocations: number; env: object }[];
    const second = (await host.invoke('second', { n: 3 })) as { invocations: number; env: object; context: object };

    // Assess
    expect(firstAnswers.map((answer) => answer.invocations)).toEqual([1, 2]);
    expect(firstAnswers[0]!.env).toEqual({ ONLY: 'first' });
    expect(second).toMatchObject({ event: { n: 3 }, invocations: 1, env: { ONLY: 'second' } });
    expect(second.context).toMatchObject({ functionName: 'second', memoryLimitInMB: '128' });
    expect((second.context as { remaining: number }).remaining).toBeGreaterThan(0);
    expect(host.stats().map((stats) => [stats.name, stats.invocations, stats.coldStartsMs.length])).toEqual([
      ['first', 2, 1],
      ['second', 1, 1],
    ]);
  });

  it('serves overlapping invocations from more instances, never more than its limit, the rest waiting for one', async () => {
    // Prepare
    const host = hostOf([bundle('sleepy', sleeping)], { maxInstancesPerFunction: 2 });

    // Act
    const threads = await Promise.all(Array.from({ length: 5 }, () => host.invoke('sleepy', { ms: 300 })));

    // Assess
    expect(new Set(threads).size).toBe(2);
    expect(host.stats()[0]!.coldStartsMs).toHaveLength(2);
    delete process.env['ONLY'];
  });

  it('throttles an invocation past the reserved concurrency as Lambda does (TooManyRequestsException, from Lambda)', async () => {
    // Prepare
    const host = hostOf([bundle('reserved', sleeping, { reservedConcurrency: 1 })]);
    const running = host.invoke('reserved', { ms: 500 });

    // Act
    const throttled = await failure(host.invoke('reserved', { ms: 0 }));

    // Assess
    expect(throttled).toMatchObject({ name: 'TooManyRequestsException', by: 'lambda' });
    await running;
  });

  it('fails an invocation past the timeout as Sandbox.Timedout, kills even a busy loop, and starts the next one afresh', async () => {
    // Prepare
    const code = `let calls = 0; export const handler = async ({ spin }) => { calls += 1; if (spin) for (;;) {} return calls; };`;
    const host = hostOf([bundle('spinning', code, { timeoutSeconds: 1 })]);

    // Act
    const timedOut = await failure(host.invoke('spinning', { spin: true }));
    const next = await host.invoke('spinning', { spin: false });

    // Assess
    expect(timedOut).toMatchObject({ name: 'Sandbox.Timedout', message: 'Task timed out after 1.00 seconds', by: 'function' });
    expect(host.logs('spinning').some((line) => line.endsWith('Task timed out after 1.00 seconds'))).toBe(true);
    expect(next).toBe(1);
    expect(host.stats()[0]!.coldStartsMs).toHaveLength(2);
    delete process.env['ONLY'];
  });

  it('fails every invocation of a bundle that throws at import with Runtime.ImportModuleError, logged, trying the import again each time', async () => {
    // Prepare
    const host = hostOf([bundle('broken', `throw new Error('environment variable TABLE_NAME is not set');\nexport const handler = async () => 1;`)]);

    // Act
    const errors = [await failure(host.invoke('broken', {})), await failure(host.invoke('broken', {}))];

    // Assess
    for (const error of errors) {
      expect(error).toMatchObject({ name: 'Runtime.ImportModuleError', message: 'Error: environment variable TABLE_NAME is not set', by: 'function' });
    }
    expect(host.logs('broken').filter((line) => line.includes('"errorType":"Runtime.ImportModuleError"'))).toHaveLength(2);
  });

  it('reports a handler the module does not export as Runtime.HandlerNotFound', async () => {
    // Prepare
    const host = hostOf([bundle('misnamed', 'export const main = async () => 1;')]);

    // Act
    const error = await failure(host.invoke('misnamed', {}));

    // Assess
    expect(error).toMatchObject({ name: 'Runtime.HandlerNotFound', message: 'index.handler is undefined or not exported' });
  });

  it("reports a handler's error by its name, message and trace, logged as Lambda logs it, and keeps the instance", async () => {
    // Prepare
    const code = `class CardDeclined extends Error { name = 'CardDeclined'; }
      export const handler = async () => { throw new CardDeclined('the card was declined'); };`;
    const host = hostOf([bundle('declining', code)]);

    // Act
    const errors = [await failure(host.invoke('declining', {})), await failure(host.invoke('declining', {}))];

    // Assess
    expect(errors[0]).toMatchObject({ name: 'CardDeclined', message: 'the card was declined', by: 'function' });
    expect(errors[0]!.trace[0]).toBe('CardDeclined: the card was declined');
    expect(host.logs('declining').filter((line) => /\tERROR\tInvoke Error\t\{"errorType":"CardDeclined"/.test(line))).toHaveLength(2);
    expect(host.stats()[0]!.coldStartsMs).toHaveLength(1);
  });

  it('discards the instance of an invocation that died as a killed process does (Runtime.ExitError)', async () => {
    // Prepare
    const code = `let calls = 0; export const handler = async ({ crash }) => {
      calls += 1;
      if (crash) throw Object.assign(new Error('simulated crash'), { name: 'Runtime.ExitError' });
      return calls;
    };`;
    const host = hostOf([bundle('crashing', code)]);

    // Act
    const died = await failure(host.invoke('crashing', { crash: true }));
    const next = await host.invoke('crashing', { crash: false });

    // Assess
    expect(died.name).toBe('Runtime.ExitError');
    expect(next).toBe(1);
  });

  it('maps stack traces to the sources when NODE_OPTIONS asks for source maps, as the template does', async () => {
    // Prepare: a bundle built as CDK builds them, with its source map beside it.
    const source = path.join(root, 'mapped-source', 'failing-step.ts');
    mkdirSync(path.dirname(source), { recursive: true });
    writeFileSync(source, `export async function handler(): Promise<never> {\n  throw new Error('mapped');\n}\n`);
    const functions = ['with-maps', 'without-maps'].map((name) => {
      const fn = bundle(name, '');
      const environment: Record<string, string> = name === 'with-maps' ? { NODE_OPTIONS: '--enable-source-maps' } : {};
      return { ...fn, environment };
    });
    for (const fn of functions) {
      await build({ entryPoints: [source], outfile: path.join(fn.codeDir, 'index.mjs'), bundle: true, format: 'esm', platform: 'node', sourcemap: true, minify: true, logLevel: 'error' });
    }
    const host = hostOf(functions);

    // Act
    const [mapped, unmapped] = [await failure(host.invoke('with-maps', {})), await failure(host.invoke('without-maps', {}))];

    // Assess
    expect(mapped.trace[1]).toMatch(/failing-step\.ts:2:/);
    expect(unmapped.trace[1]).toMatch(/index\.mjs:1:/);
  });

  it('hands every invocation the crash switches it is told, counting crash point crossings across instances', async () => {
    // Prepare: a function that crosses a crash point through the host's hook, as functions/crash does.
    const code = `
      export const handler = async ({ ms }) => {
        const crossing = globalThis.__chargeonceCrashHost.cross('capture:before-provider', 'tag');
        await new Promise((resolve) => setTimeout(resolve, ms));
        return { crossing, crashAt: process.env.CRASH_AT ?? null, audit: process.env.CRASH_AUDIT ?? null };
      };`;
    const crash = new CrashSwitch(true);
    const host = hostOf([bundle('crossing', code)], { crash });

    // Act
    crash.setCrashAt('capture:before-provider@2#first');
    const first = (await Promise.all([host.invoke('crossing', { ms: 200 }), host.invoke('crossing', { ms: 200 })])) as { crossing: number }[];
    const counted = crash.crossings();
    crash.setCrashAt(undefined);
    const after = (await host.invoke('crossing', { ms: 0 })) as { crossing: number; crashAt: string | null };

    // Assess
    expect(first.map((answer) => answer.crossing).sort()).toEqual([1, 2]);
    expect(first[0]).toMatchObject({ crashAt: 'capture:before-provider@2#first', audit: '1' });
    expect(counted).toEqual({ 'capture:before-provider': 2 });
    expect(after).toMatchObject({ crossing: 1, crashAt: null });
    expect(host.stats()[0]!.coldStartsMs).toHaveLength(2);
    delete process.env['ONLY'];
  });
});

describe('the Lambda host without isolation (a benchmark baseline)', () => {
  it("runs each instance's bundle in the host's own thread, with module state of its own and the function's variables in the shared environment", async () => {
    // Prepare
    const host = hostOf([bundle('inline', counting)], {
      isolation: 'none',
      maxInstancesPerFunction: 2,
    });

    // Act
    const [first, second] = (await Promise.all([host.invoke('inline', { n: 1 }), host.invoke('inline', { n: 2 })])) as { invocations: number; env: Record<string, string> }[];
    const third = (await host.invoke('inline', { n: 3 })) as { invocations: number };

    // Assess: two instances, each counting its own invocations; the host's own process.env carries the function's variable
    expect([first!.invocations, second!.invocations]).toEqual([1, 1]);
    expect(third.invocations).toBe(2);
    expect(first!.env['ONLY']).toBe('inline');
    expect(process.env['ONLY']).toBe('inline');
    expect(host.stats()[0]!.coldStartsMs).toHaveLength(2);
    delete process.env['ONLY'];
  });
});

describe('the crash switch', () => {
  it('says a crash fired once a function crossed its point that often under the same CRASH_AT, and not otherwise', () => {
    // Prepare
    const crash = new CrashSwitch(false);
    crash.setCrashAt('capture:before-provider@2#case');
    const counts = new Int32Array(crash.sharing.counts);
    const at = crash.sharing.points.indexOf('capture:before-provider');

    // Act
    Atomics.add(counts, at, 1);
    const afterOne = crash.fired('capture:before-provider', 2);
    Atomics.add(counts, at, 1);
    const afterTwo = [crash.fired('capture:before-provider', 2), crash.fired('capture:before-provider', 1)];
    crash.setCrashAt('capture:before-provider@2#another');

    // Assess
    expect(afterOne).toBe(false);
    expect(afterTwo).toEqual([true, false]);
    expect(crash.crossings()).toEqual({});
    expect(crash.environment()).toEqual({ [EnvVar.CrashAt]: 'capture:before-provider@2#another', [EnvVar.CrashAudit]: null });
    expect(() => crash.setCrashAt('capture:before-nothing#typo')).toThrow(/no crash point/);
  });
});
