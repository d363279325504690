/**
 * A bundle's cold start, measured as Lambda pays it after its runtime is up: a fresh Node
 * process imports `index.mjs` (the module graph parsed, evaluated and, with the template's
 * `--enable-source-maps`, its source map read) until `handler` is there. The same process then
 * invokes the handler with an event it answers without any I/O, to time what every warm
 * invocation pays around the work itself.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/** Invocations before the warm ones are timed: the first ones build clients and compile. */
const WARM_UP_INVOCATIONS = 10;

// Plain JavaScript run by `node` itself: no loader of the bench's (tsx) in the way.
const CHILD = `
const [url, eventText, timed, warmUp] = process.argv.slice(1);
const started = performance.now();
const { handler } = await import(url);
const importMs = performance.now() - started;
const warmMs = [];
if (eventText !== '') {
  for (let i = 0; i < Number(warmUp) + Number(timed); i++) {
    const event = JSON.parse(eventText);
    const invoked = performance.now();
    try { await handler(event); } catch {}
    if (i >= Number(warmUp)) warmMs.push(performance.now() - invoked);
  }
}
process.send({ importMs, warmMs }, () => process.exit(0));
`;

export interface StartSample {
  /** Import of the bundle to `handler` exported, ms. */
  readonly importMs: number;
  /** Each timed warm invocation, ms (none without an event). */
  readonly warmMs: readonly number[];
}

/**
 * One fresh process with exactly `env` (the function's variables and what Lambda sets):
 * imports the bundle, then invokes it `warmRuns` times with `event` (after a warm-up).
 */
export function sampleStart(
  bundleFile: string,
  env: Readonly<Record<string, string>>,
  event: unknown,
  warmRuns: number,
): Promise<StartSample> {
  const eventText = event === undefined ? '' : JSON.stringify(event);
  const args = ['--input-type=module', '-e', CHILD, pathToFileURL(bundleFile).href, eventText, String(warmRuns), String(WARM_UP_INVOCATIONS)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let sample: StartSample | undefined;
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('message', (message) => (sample = message as StartSample));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (sample !== undefined) resolve(sample);
      else reject(new Error(`importing ${bundleFile} failed (exit ${code}):\n${stderr.trim()}`));
    });
  });
}
