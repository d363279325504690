/**
 * `npm run load -- --rate R --duration S [--mix duplicate=50,get=50]`: a fixed arrival rate
 * against the local stack (started here, in memory) or a deployed one (`API_URL`, `API_KEY`),
 * from a sending process of its own (bench/load-generator.ts). Prints each second's figures as it
 * goes, then per operation latency and errors by code, the CPU each process used, and the
 * invariants checked once everything settled. Exits 1 on a 5xx, an unanswered request or a
 * broken invariant. See bench/README.md.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ledger as providerLedger } from '../local/fake-provider/client.ts';
import type { Ledger } from '../local/fake-provider/ledger.ts';
import { ledgerInvariants, stateOfView, violations } from '../test/support/invariants/ledger.ts';
import { schoolInvariants, schoolStateOfViews } from '../test/support/invariants/school.ts';
import { bundleFunction } from './bundle-sizes.ts';
import type { GeneratorMessage, GeneratorOrder, LoadWorld } from './load-generator.ts';
import { type ApiAnswer, type BenchStack, apiClient, fixed, printTable, startBenchStack } from './support.ts';
import {
  DEFAULT_MIX,
  HELD_P99_MS,
  HELD_SHARE,
  LOAD_OPERATIONS,
  LoadArgumentError,
  type Mix,
  checkCeilingMix,
  OPERATION_MEANING,
  figuresByOperation,
  parseMix,
  positive,
  sustainedRate,
  whyNotHeld,
} from './load-plan.ts';

/** `--find-max`: each step this much faster than the one before, at most this many. */
const STEP_FACTOR = 1.5;
/** Seconds of the first rate before the run, not counted: cold starts belong to no step. */
const WARM_UP_S = 3;
const MAX_STEPS = 12;

const USAGE = `usage: npm run load -- [--rate R] [--duration S] [--mix op=W,...] [--prepared N] [--connections N] [--find-max] [--ceiling]

  --rate      requests per second, sent on schedule whatever the answers (default 100)
  --duration  seconds of sending (default 10)
  --mix       weights of the operations (default ${DEFAULT_MIX}):
${LOAD_OPERATIONS.map((op) => `                ${op.padEnd(9)} ${OPERATION_MEANING[op]}`).join('\n')}
  --prepared  payments made before the run for duplicates, GETs and refunds (default 50)
  --connections  kept-alive connections to the API, at most (default 256): more requests wait in the sender
  --find-max  steps of --duration s each, from --rate up by half each step, until one does not
              hold (under ${HELD_SHARE * 100}% of its rate answered with success, a 5xx, or p99 over ${HELD_P99_MS} ms):
              prints the highest that held, and each step's CPU by part names the bottleneck
  --ceiling   then the same run on a second stack whose payment routes (POST and GET) are a no-op
              behind the same gateway and authorizer (bench/no-op-route.ts): what the plumbing alone
              sustains on this machine, printed beside the key layer's path (duplicates and GETs only)

Against a deployed stack: API_URL=https://... API_KEY=ck_... npm run load -- --rate 50 --duration 30
(the provider-side invariants need the local stack's fake provider, and are skipped there).`;

interface Settings {
  readonly findMax: boolean;
  readonly rate: number;
  readonly durationS: number;
  readonly mix: Mix;
  readonly prepared: number;
  readonly connections: number;
  readonly ceiling: boolean;
}

function settingsOf(argv: readonly string[]): Settings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      mix: { type: 'string' },
      prepared: { type: 'string' },
      connections: { type: 'string' },
      'find-max': { type: 'boolean' },
      ceiling: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const mix = parseMix(values.mix ?? DEFAULT_MIX);
  const ceiling = values.ceiling === true;
  if (ceiling) checkCeilingMix(mix);
  return {
    ceiling,
    findMax: values['find-max'] === true,
    rate: positive('rate', values.rate, 100, 0.1),
    durationS: Math.round(positive('duration', values.duration, 10)),
    mix,
    prepared: Math.round(positive('prepared', values.prepared, 50)),
    connections: Math.round(positive('connections', values.connections, 256)),
  };
}

type Api = ReturnType<typeof apiClient>;

function expectStatus(answer: ApiAnswer, expected: number[], what: string): ApiAnswer {
  if (!expected.includes(answer.status)) throw new Error(`${what} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer;
}

async function waitForTerminal(api: Api, paymentNo: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const payment = expectStatus(await api('GET', `/v1/payments/${paymentNo}`), [200], `GET ${paymentNo}`).body;
    if (['succeeded', 'failed', 'canceled'].includes(payment.status)) return payment;
    if (Date.now() > deadline) throw new Error(`${paymentNo} still ${payment.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What the run's requests act on: payments (one of them large, for refunds) and, for cart edits, open carts. */
async function prepareWorld(api: Api, settings: Settings): Promise<LoadWorld> {
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  const payments: { paymentNo: string; idempotencyKey: string; body: Record<string, unknown> }[] = [];
  for (let i = 0; i < settings.prepared; i += 1) {
    // Large enough for every refund of a cent the run can send.
    const body = { order_no: `load-prepared-${runId}-${i}`, amount: 10_000_000, currency: 'USD', payment_method: 'pm_card_visa' };
    const idempotencyKey = `load-prepared-${runId}-${i}`;
    const answer = expectStatus(await api('POST', '/v1/payments', body, { 'Idempotency-Key': idempotencyKey }), [201], 'a prepared payment');
    payments.push({ paymentNo: answer.body.payment_no, idempotencyKey, body });
  }
  for (const { paymentNo } of payments) {
    const payment = await waitForTerminal(api, paymentNo);
    if (payment['status'] !== 'succeeded') throw new Error(`the prepared payment ${paymentNo} ended ${String(payment['status'])}`);
  }
  let classId = '';
  const carts: { cartId: string; swimmerId: string }[] = [];
  if (settings.mix.cart > 0) {
    const cartCount = Math.min(200, Math.max(10, Math.ceil(settings.rate * (settings.mix.cart / totalWeight(settings.mix)) * 0.5)));
    classId = expectStatus(await api('POST', '/v1/classes', { name: `Load ${runId}`, seats_total: 10_000, price: 1000, currency: 'USD' }), [201], 'the class').body.class_id;
    for (let i = 0; i < cartCount; i += 1) {
      const accountId = expectStatus(await api('POST', '/v1/accounts', {}), [201], 'an account').body.account_id;
      const swimmerId = expectStatus(await api('POST', `/v1/accounts/${accountId}/swimmers`, { name: `Swimmer ${i}` }), [201], 'a swimmer').body.swimmer_id;
      const cartId = expectStatus(await api('POST', `/v1/accounts/${accountId}/cart`), [200, 201], 'a cart').body.cart_id;
      carts.push({ cartId, swimmerId });
    }
  }
  return { payments, refundable: payments.map((p) => p.paymentNo), carts, classId };
}

/** Runs of the reconciler, a second apart, before what is still unsettled counts as broken. */
const SETTLE_ROUNDS = 30;

const totalWeight = (mix: Mix) => LOAD_OPERATIONS.reduce((sum, op) => sum + mix[op], 0);

/** Forks the sender, hands it the run, prints each second as it reports it, and resolves with its last word. */
function runGenerator(order: GeneratorOrder, onSecond: (message: Extract<GeneratorMessage, { kind: 'second' }>) => void) {
  return new Promise<Extract<GeneratorMessage, { kind: 'done' }>>((resolve, reject) => {
    const child = fork(path.join(import.meta.dirname, 'load-generator.ts'), [], { execArgv: ['--import', 'tsx'] });
    let done: Extract<GeneratorMessage, { kind: 'done' }> | undefined;
    child.on('message', (message: GeneratorMessage) => {
      if (message.kind === 'second') onSecond(message);
      else done = message;
    });
    child.once('error', reject);
    child.once('exit', (code) => (done !== undefined ? resolve(done) : reject(new Error(`the sender ended (exit ${code}) before its report`))));
    child.send(order);
  });
}

const cpuMsOfStat = (path: string) => {
  const text = readFileSync(path, 'utf8');
  // The command name may hold spaces and parentheses: the fields follow its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { name: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 };
};

/**
 * CPU ms so far of what does the work, by what it is: this process's main thread (the API
 * gateway, Step Functions, the streams poller) apart from its other threads (the function
 * instances, the IAM proxy), and each process it started (DynamoDB Local's JVM, the fake
 * provider), all threads counted.
 */
function cpuByPart(): Map<string, number> {
  const parts = new Map<string, number>();
  const add = (part: string, cpuMs: number) => parts.set(part, (parts.get(part) ?? 0) + cpuMs);
  const main = cpuMsOfStat(`/proc/${process.pid}/task/${process.pid}/stat`).cpuMs;
  add('the local stack: main thread (API Gateway, Step Functions, streams poller)', main);
  add('the local stack: other threads (function instances, IAM proxy)', cpuMsOfStat(`/proc/${process.pid}/stat`).cpuMs - main);
  const walk = (pid: number) => {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number)) {
        const { name, cpuMs } = cpuMsOfStat(`/proc/${child}/stat`);
        add(name === 'java' ? 'DynamoDB Local (JVM)' : name === 'node' ? 'the fake provider' : name, cpuMs);
        walk(child);
      }
    } catch {
      // gone between the listing and the read
    }
  };
  walk(process.pid);
  return parts;
}

/** Each payment settled as the invariants require, against the provider's ledger; then the school's seats and points. */
async function invariantViolations(api: Api, paymentNos: readonly string[], world: LoadWorld, provider: Ledger | undefined): Promise<string[]> {
  const found: string[] = [];
  for (const paymentNo of paymentNos) {
    const payment = (await waitForTerminal(api, paymentNo)) as unknown as Parameters<typeof stateOfView>[0];
    if (provider !== undefined) found.push(...violations(ledgerInvariants, stateOfView(payment, provider), 'settled'));
  }
  if (world.carts.length > 0) {
    const classView = expectStatus(await api('GET', `/v1/classes/${world.classId}`), [200], 'the class').body;
    found.push(...violations(schoolInvariants, schoolStateOfViews({ classes: [classView] }, 'merchant', provider), 'always'));
  }
  return found;
}

/** What one rate did, and whether it held: every request answered with success, on time. */
interface StepResult {
  readonly sustained: number;
  readonly created: string[];
  readonly serverErrors: number;
  readonly unanswered: number;
  readonly held: boolean;
  readonly why: string;
}

/** One rate for the run's duration: sent, printed each second, then per operation and CPU by part. */
async function runStep(target: { apiUrl: string; apiKey: string }, settings: Settings, world: LoadWorld): Promise<StepResult> {
  console.log(`\n${settings.rate} requests/s for ${settings.durationS} s, mix ${LOAD_OPERATIONS.filter((op) => settings.mix[op] > 0).map((op) => `${op}=${settings.mix[op]}`).join(',')}\n`);
  const cpuBefore = cpuByPart();
  const wallStart = performance.now();
  const done = await runGenerator(
    { ...target, rate: settings.rate, durationS: settings.durationS, mix: settings.mix, world, drainMs: 30_000, connections: settings.connections },
    ({ figures: f, inFlight }) =>
      console.log(`  second ${f.second}: ${f.due} due, ${f.answered} answered, ${f.succeeded} with success; p50 ${fixed(f.p50Ms, 1)} ms, p99 ${fixed(f.p99Ms, 1)} ms; ${inFlight} in flight`),
  );
  const wallMs = performance.now() - wallStart;
  const cpuAfter = cpuByPart();

  const figures = figuresByOperation(done.answers);
  console.log('\nBy operation (latency from when each request was due):');
  printTable(
    ['operation', 'answers', 'p50 ms', 'p99 ms', 'max ms', 'not its success'],
    figures.map((f) => [f.op, String(f.answers), fixed(f.p50Ms, 1), fixed(f.p99Ms, 1), fixed(f.maxMs, 1), f.errors.map(([outcome, n]) => `${n} x ${outcome}`).join(', ') || '-']),
    [5],
  );
  const serverErrors = figures.reduce((sum, f) => sum + f.serverErrors, 0);
  const sustained = sustainedRate(done.answers);
  console.log(`\nasked ${settings.rate} requests/s; sustained ${fixed(sustained, 1)} answered with success per second (${fixed((100 * sustained) / settings.rate, 1)}%)`);
  console.log(`5xx or no answer: ${serverErrors}; unanswered after the drain: ${done.unanswered}`);

  console.log(`\nCPU during the run (${fixed(wallMs / 1000, 1)} s of wall clock; cores used = CPU s / wall s):`);
  // The sender has ended by now: it reported its own CPU.
  const rows = [...cpuAfter.entries()]
    .map(([part, cpuMs]) => ({ part, cpuMs: cpuMs - (cpuBefore.get(part) ?? 0) }))
    .filter((row) => row.cpuMs > 0)
    .concat([{ part: 'the sender', cpuMs: done.cpuMs }])
    .sort((a, b) => b.cpuMs - a.cpuMs);
  printTable(['part', 'CPU s', 'cores'], rows.map((r) => [r.part, fixed(r.cpuMs / 1000, 1), fixed(r.cpuMs / wallMs, 2)]));
  console.log(`  the busiest: ${rows[0]!.part} (the machine has ${availableParallelism()} cores)`);

  const why = whyNotHeld({
    rate: settings.rate,
    sustained,
    failures: serverErrors + done.unanswered,
    p99Ms: Math.max(0, ...figures.map((f) => f.p99Ms)),
  });
  return { sustained, created: done.created, serverErrors, unanswered: done.unanswered, held: why === '', why };
}

/** What a run of one or more steps did: what it created, what failed, and how fast it went. */
interface RunResult {
  readonly created: string[];
  readonly serverErrors: number;
  readonly unanswered: number;
  /** The highest rate that held, with `--find-max`. */
  readonly highestHeld: number | undefined;
  /** What the last step sustained, of what it was asked. */
  readonly lastStep: { readonly rate: number; readonly sustained: number };
}

/** Warms the stack up, then runs the step (or, with `--find-max`, the steps up to the first that does not hold). */
async function runSteps(target: { apiUrl: string; apiKey: string }, settings: Settings, world: LoadWorld, bench: BenchStack | undefined): Promise<RunResult> {
  // Instances start and connections open before anything is measured, as on a stack in use.
  console.log(`warming up: ${WARM_UP_S} s at ${settings.rate} requests/s, not counted`);
  const warmUp = await runGenerator({ ...target, rate: settings.rate, durationS: WARM_UP_S, mix: settings.mix, world, drainMs: 30_000, connections: settings.connections }, () => undefined);
  await bench?.stack.idle();
  const created: string[] = [...warmUp.created];
  let serverErrors = 0;
  let unanswered = 0;
  let highestHeld: number | undefined;
  let lastStep = { rate: settings.rate, sustained: 0 };
  for (let step = 0, rate = settings.rate; step < (settings.findMax ? MAX_STEPS : 1); step += 1, rate = Math.round(rate * STEP_FACTOR * 10) / 10) {
    const result = await runStep(target, { ...settings, rate }, world);
    created.push(...result.created);
    serverErrors += result.serverErrors;
    unanswered += result.unanswered;
    lastStep = { rate, sustained: result.sustained };
    if (bench !== undefined) {
      // The POSTs answer before their sagas end: how far behind the sagas (and the stream's consumers) fell shows here.
      const caughtUpFrom = performance.now();
      await bench.stack.idle();
      console.log(`the stack caught up ${fixed((performance.now() - caughtUpFrom) / 1000, 1)} s after the last answer (sagas, stream consumers)`);
    }
    if (!settings.findMax) break;
    if (!result.held) {
      console.log(`\n${rate} requests/s did not hold (${result.why}); the highest that held: ${highestHeld === undefined ? `none from ${settings.rate}` : `${highestHeld} requests/s`}`);
      break;
    }
    highestHeld = rate;
  }
  return { created, serverErrors, unanswered, highestHeld, lastStep };
}

/**
 * `--ceiling`: the same run on a stack whose payment routes answer at once, reading and writing
 * nothing (the duplicate storm's no-op route, bench/no-op-route.ts), behind the same gateway,
 * authorizer and Lambda host: what this machine allows any route, for the key layer's path to be
 * read against. The no-op ignores what it is sent, so the run's own payments serve as its world.
 */
async function runCeiling(settings: Settings, world: LoadWorld): Promise<RunResult> {
  const noOpDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-no-op-'));
  try {
    await bundleFunction('bench/no-op-route.ts', noOpDir);
    const bench = await startBenchStack({ replaceCode: { CreatePayment: { codeDir: noOpDir }, GetPayment: { codeDir: noOpDir } } });
    try {
      console.log('\nthe ceiling: the same run with POST and GET /v1/payments answered by a no-op route');
      return await runSteps({ apiUrl: bench.stack.apiUrl, apiKey: bench.stack.apiKey }, settings, world, bench);
    } finally {
      await bench.stop();
      rmSync(bench.dataDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(noOpDir, { recursive: true, force: true });
  }
}

function printBesideCeiling(keyPath: RunResult, ceiling: RunResult, settings: Settings): void {
  const rateOf = (run: RunResult) =>
    settings.findMax
      ? `highest held ${run.highestHeld === undefined ? `none from ${settings.rate}` : `${run.highestHeld}`} requests/s`
      : `${fixed(run.lastStep.sustained, 1)} of ${run.lastStep.rate} requests/s sustained`;
  const share = settings.findMax
    ? keyPath.highestHeld !== undefined && ceiling.highestHeld !== undefined
      ? `${fixed((100 * keyPath.highestHeld) / ceiling.highestHeld, 0)}%`
      : '-'
    : `${fixed((100 * keyPath.lastStep.sustained) / ceiling.lastStep.sustained, 0)}%`;
  console.log("\nThe key layer's path beside the ceiling, in the same run:");
  printTable(
    ['stack', 'rate', 'share of the ceiling'],
    [
      ['chargeonce (duplicates and GETs)', rateOf(keyPath), share],
      ['no-op routes, same gateway and authorizer', rateOf(ceiling), '100%'],
    ],
    [0, 1],
  );
}

async function main(): Promise<number> {
  const settings = settingsOf(process.argv.slice(2));
  const deployed = process.env.API_URL !== undefined && process.env.API_KEY !== undefined;
  if (deployed && settings.ceiling) throw new LoadArgumentError('--ceiling starts stacks of its own: it runs against the local stack only');
  let bench: BenchStack | undefined;
  const target = deployed
    ? { apiUrl: process.env.API_URL!.replace(/\/$/, ''), apiKey: process.env.API_KEY! }
    : // Work a 503 deferred (a saga start, a refund's) is the reconciler's: it is due a second later, for the settling below.
      await startBenchStack({ reconcileAfterSeconds: 1 }).then((started) => {
        bench = started;
        return { apiUrl: started.stack.apiUrl, apiKey: started.stack.apiKey };
      });
  let world: LoadWorld;
  let run: RunResult;
  let found: string[] = [];
  try {
    const api = apiClient(target);
    console.log(`preparing ${settings.prepared} payments${settings.mix.cart > 0 ? ' and open carts' : ''}...`);
    world = await prepareWorld(api, settings);
    await bench?.stack.idle();
    run = await runSteps(target, settings, world, bench);

    console.log('\nsettling (the reconciler too), then the invariants (one capture per succeeded payment, no authorization left open, refunds as the provider made them, seats conserved)...');
    const paymentNos = [...world.payments.map((p) => p.paymentNo), ...run.created];
    let provider: Ledger | undefined;
    for (let round = 0; round < SETTLE_ROUNDS; round += 1) {
      await bench?.stack.idle();
      provider = bench !== undefined ? await providerLedger(bench.stack.providerUrl) : undefined;
      found = await invariantViolations(api, paymentNos, world, provider);
      if (found.length === 0 || bench === undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await bench.stack.reconcile();
    }
    console.log(found.length === 0 ? `invariants hold over ${paymentNos.length} payments${provider === undefined ? ' (provider side skipped: no fake provider)' : ''}` : `INVARIANTS BROKEN:\n${found.join('\n')}`);
  } finally {
    await bench?.stop();
    if (bench !== undefined) rmSync(bench.dataDir, { recursive: true, force: true });
  }
  // After the first stack stopped: the two never share the machine.
  if (settings.ceiling) printBesideCeiling(run, await runCeiling(settings, world), settings);
  // Finding the most a stack takes means going past it: its 5xx then are the finding, not a failure.
  return (settings.findMax || (run.serverErrors === 0 && run.unanswered === 0)) && found.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof LoadArgumentError ? `${error.message}\n\n${USAGE}` : error);
    process.exit(error instanceof LoadArgumentError ? 2 : 1);
  },
);
