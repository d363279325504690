import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { refundSteps, sagaSteps } from '../../functions/catalog.ts';
import { EnvVar } from '../../functions/config/env.ts';
import { type CrashFunction, type CrashPoint, crashFunctions, crashPoints, kebab, pointsOf } from '../../functions/crash/crash-points.ts';
import { isProcessExit } from '../../functions/domain/errors.ts';
import { armFaults, armedFaults, clearFaults, ledger as providerLedger, providerPayoutOf, providerRefundOf, settlePayout, settleRefund } from '../../local/fake-provider/client.ts';
import { expectChargedExactlyAsRecorded, expectRefundedExactlyAsRecorded } from '../support/invariants/provider-books.ts';
import { type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import { localClientConfig } from '../../local/services/dynamodb-local.ts';
import { stackEventViolations } from '../support/invariants/events.ts';
import { stackLedgerViolations } from '../support/invariants/stack-ledger.ts';
import { expectPointsAddUp, expectSeatsAddUp } from '../support/school-invariants.ts';
import { api, useTarget } from '../support/target.ts';
import { type Driver, type Fault, type Outcome, type Scenario, faults, scenarios } from './scenarios.ts';

/**
 * The promise under every crash we can inject: for every crash point of every function, at
 * every crossing of it, with every provider fault that strikes on its way, a scenario runs,
 * crashes there, is retried as a client retries and recovered by the reconciler, and then the
 * provider's ledger, the database and the school's counters must agree.
 *
 * The stack arms each case's crash points in its functions (`setCrashAt`: every invocation
 * from then on runs with that `CRASH_AT`), and counts their crossings across every function
 * instance, which the matrix reads from it. The reconciler has no schedule: the matrix runs it
 * once the executions have ended, so what each run crosses is known in advance.
 *
 * The matrix runs in shards, each a test file with a stack of its own (crash-matrix-*.test.ts),
 * so both cores work: a case keeps one core busy for most of its second or so.
 */
const RECONCILE_AFTER_SECONDS = 0.2;
const SETTLE_TIMEOUT_MS = 30_000;
const KNOWN_MERCHANT_ID = 'merchant_crash_matrix';

let stack: LocalStack;
let dataDir: string;
let driver: Driver;
let tagNo = 0;
/** How many unguarded calls the audit had seen when the running case began. */
let unguardedBefore = 0;
const ran = { cases: 0, withFault: 0, duplicates: 0 };

/** One run of the reconciler, as the schedule makes it. */
async function reconcileOnce() {
  try {
    await stack.reconcile();
  } catch (error) {
    // A run that died at a crash point is what a crashed scheduled run is: the next one goes on.
    if (!isProcessExit(error)) throw error;
  }
}

/**
 * Runs the reconciler, each run once the executions have ended (or, racing, meanwhile), until
 * `outcome` has settled and a run of the reconciler finds nothing more to do.
 */
async function settle(outcome: Outcome, { racing = false } = {}) {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    if (!racing) await stack.idle();
    if (await atRest(outcome)) {
      await stack.idle();
      if ((await atRest(outcome)) && !(await reconcilerFindsWork(outcome))) return;
    }
    // A call the audit refused may be what keeps it from settling (a start refused is a start never made).
    const unguarded = stack.auditViolations().slice(unguardedBefore);
    if (unguarded.length > 0) throw new Error(`calls that passed no crash point:\n${unguarded.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`not settled after ${SETTLE_TIMEOUT_MS} ms: ${JSON.stringify(outcome)}`);
    await reconcileOnce();
    await sleep(racing ? 100 : 50);
  }
}

/**
 * Whether a run of the reconciler, once whatever it waits for is due, still changes something:
 * a failed refund, final through the API, is due once more for the reconciler's look at the
 * provider (after the reconcile delay), and what it owes is settled there.
 */
async function reconcilerFindsWork({ refunds = {} }: Outcome): Promise<boolean> {
  if (Object.keys(refunds).length > 0) await sleep(RECONCILE_AFTER_SECONDS * 1000);
  const before = stack.crossings();
  await reconcileOnce();
  const after = stack.crossings();
  return pointsOf('reconciler').some((point) => (after[point] ?? 0) !== (before[point] ?? 0));
}

function driverOf(local: LocalStack, keys: Driver['keys']): Driver {
  return {
    keys,
    knownMerchantId: KNOWN_MERCHANT_ID,
    async send(method, route, body, { key = keys.demo, idempotencyKey, retry = true, expect: expected = [200, 201, 202] } = {}) {
      const headers: Record<string, string> = idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey };
      const once = () => api(method, route, body, { key, headers });
      let answer = await once();
      // A request that died with its function: the client sends the same again.
      if (answer.status === 502 && retry) answer = await once();
      if (!expected.includes(answer.status)) throw new Error(`${method} ${route} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return answer;
    },
    arm: (rules) => armFaults(local.providerUrl, rules),
    settle: (outcome) => settle(outcome),
    reconcileOnce,
    idle: () => local.idle(),
    async until(what, condition) {
      const deadline = Date.now() + SETTLE_TIMEOUT_MS;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`${what}: not after ${SETTLE_TIMEOUT_MS} ms`);
        await sleep(25);
      }
    },
    crossed: (point) => local.crossings()[point] ?? 0,
    async invokeOnce(constructId, event) {
      try {
        await local.invoke(constructId, event);
      } catch (error) {
        // An invocation that died at a crash point: whoever invoked it invokes it again.
        if (!isProcessExit(error)) throw error;
      }
    },
    async settleProviderRefund(refundNo) {
      const made = await providerRefundOf(local.providerUrl, refundNo);
      if (made === undefined) throw new Error(`the provider has no refund for ${refundNo}`);
      await settleRefund(local.providerUrl, made.id, 'succeeded');
    },
    async settleProviderPayout(payoutNo) {
      const made = await providerPayoutOf(local.providerUrl, payoutNo);
      if (made === undefined) throw new Error(`the provider has no payout for ${payoutNo}`);
      await settlePayout(local.providerUrl, made.id, 'paid');
    },
  };
}

const get = async (route: string, key?: string) => (await driver.send('GET', route, undefined, { key, expect: [200] })).body;
const FINISHED_CARTS = ['done', 'expired', 'canceled'];

/** Nothing named in `outcome` waits for anything: payments terminal, refunds final, carts where they end. */
async function atRest({ key, payments = {}, refunds = {}, carts = {}, payouts = {} }: Outcome): Promise<boolean> {
  for (const payoutNo of Object.keys(payouts)) {
    if (!['paid', 'failed', 'canceled'].includes((await get(`/v1/payouts/${payoutNo}`, key)).status)) return false;
  }
  for (const paymentNo of Object.keys(payments)) {
    if (!['succeeded', 'failed', 'canceled'].includes((await get(`/v1/payments/${paymentNo}`, key)).status)) return false;
  }
  for (const [paymentNo, ends] of Object.entries(refunds)) {
    const made = (await get(`/v1/payments/${paymentNo}`, key)).refunds as { status: string }[];
    if (made.length < ends.length || made.some((r) => r.status === 'pending')) return false;
  }
  for (const [cartId, end] of Object.entries(carts)) {
    const { status } = await get(`/v1/carts/${cartId}`, key);
    if (status !== end && !FINISHED_CARTS.includes(status)) return false;
  }
  return true;
}

/** What `outcome` says, checked against the API and the provider's ledger; seats and points conserved. */
async function expectOutcome({ key, payments = {}, refunds = {}, carts = {}, classes = {}, accounts = [], payouts = {}, events = {} }: Outcome) {
  // The stream published and the deliveries ended.
  if (Object.keys(events).length > 0) await stack.idle();
  for (const [id, { types, delivered }] of Object.entries(events)) {
    for (const type of types) {
      const listed = (await get(`/v1/events?type=${type}&limit=100`, key)).data as { id: string; data: { object: Record<string, unknown> } }[];
      const made = listed.filter((event) => event.data.object['payment_no'] === id || event.data.object['refund_no'] === id);
      expect(made.length, `${type} events of ${id}`).toBe(1);
      if (delivered) {
        const { deliveries } = await get(`/v1/events/${made[0]!.id}`, key);
        expect(deliveries.map((d: { status: string }) => d.status), `deliveries of ${made[0]!.id}`).toEqual(['delivered']);
      }
    }
  }
  for (const [payoutNo, end] of Object.entries(payouts)) {
    expect((await get(`/v1/payouts/${payoutNo}`, key)).status, payoutNo).toBe(end);
    const atProvider = (await providerLedger(stack.providerUrl)).payouts.filter((p) => p.metadata['payout_no'] === payoutNo);
    expect(atProvider.map((p) => p.status), `the provider's payouts of ${payoutNo}`).toEqual([end]);
  }
  for (const [paymentNo, end] of Object.entries(payments)) {
    const payment = await get(`/v1/payments/${paymentNo}`, key);
    expect(payment.status, paymentNo).toBe(end);
    expect(await expectChargedExactlyAsRecorded(stack.providerUrl, payment), paymentNo).toBeUndefined();
  }
  for (const [paymentNo, ends] of Object.entries(refunds)) {
    const payment = await get(`/v1/payments/${paymentNo}`, key);
    const made = payment.refunds.map((r: { status: string }, i: number) => (ends[i] === 'final' ? 'final' : r.status));
    expect(made, `refunds of ${paymentNo}`).toEqual(ends);
    expect(await expectRefundedExactlyAsRecorded(stack.providerUrl, payment), paymentNo).toBeUndefined();
  }
  for (const [cartId, end] of Object.entries(carts)) expect((await get(`/v1/carts/${cartId}`, key)).status, cartId).toBe(end);
  for (const [classId, seats] of Object.entries(classes)) {
    await expectSeatsAddUp(classId, key ?? driver.keys.demo);
    expect(await get(`/v1/classes/${classId}`, key), classId).toMatchObject(seats);
  }
  for (const accountId of accounts) await expectPointsAddUp(accountId, key ?? driver.keys.demo);
}

/**
 * The ledger, once the stream is delivered to its last record: nothing given up on, and every
 * merchant's journal, balances and fees agreeing with what the provider captured and refunded.
 * A crash that lost or doubled a posting (the poster's own included) shows here.
 */
async function expectLedgerHolds() {
  await stack.idle();
  expect(stack.streamFailures(), 'stream batches given up on').toEqual([]);
  const where = { providerUrl: stack.providerUrl, table: { endpoint: stack.dynamoDbEndpoint, name: stack.tableName } };
  expect(await stackLedgerViolations(where), 'the ledger').toEqual([]);
}

/** Every counted rule the case armed struck: the fake holds none with uses left. */
async function expectEveryFaultStruck() {
  const { fail, hang, dropResponseAfterCommit, pendingRefunds } = await armedFaults(stack.providerUrl);
  expect({ fail, hang, dropResponseAfterCommit, pendingRefunds }, 'provider rules that never struck').toEqual({
    fail: [],
    hang: [],
    dropResponseAfterCommit: [],
    pendingRefunds: [],
  });
}

/** A second execution of the saga the scenario's step runs in, under another name, as a duplicate start makes one. */
async function startDuplicate({ execution }: Outcome) {
  if (execution === undefined) throw new Error('the scenario names no execution to duplicate');
  const [arn, input] = (
    {
      payment: [stack.templateOutputs['StateMachineArn'], { payment_no: execution.id }],
      refund: [stack.templateOutputs['RefundStateMachineArn'], { refund_no: execution.id }],
      payout: [stack.templateOutputs['PayoutStateMachineArn'], { payout_no: execution.id }],
    } as const satisfies Record<typeof execution.saga, readonly [string | undefined, object]>
  )[execution.saga];
  const client = new SFNClient({ ...localClientConfig, endpoint: stack.stepFunctionsEndpoint });
  await client.send(new StartExecutionCommand({ stateMachineArn: arn, name: `${execution.id}-duplicate`, input: JSON.stringify(input) }));
  client.destroy();
}

interface Crash {
  readonly point: CrashPoint;
  readonly crossing?: number;
}

/**
 * Runs `scenario`: its setup with nothing armed, then its act with `crash` (and the crash it
 * needs first) armed and `fault` striking, then the reconciler until everything settled; and
 * checks every armed crash fired, every armed fault struck, the outcome, and that nothing
 * crossed a boundary unguarded. Returns what the act crossed.
 */
async function run(scenario: Scenario, crash: Crash | undefined, fault: Fault | undefined, { duplicate = false } = {}) {
  // Prepare
  stack.setCrashAt(`#setup-${++tagNo}`);
  unguardedBefore = stack.auditViolations().length;
  const state = await scenario.setup?.(driver);
  const crashes = [scenario.alsoCrash, crash].filter((c): c is Crash => c !== undefined);
  // An invocation keeps the setting it started with: none of the setup's may still run.
  await stack.idle();
  stack.setCrashAt(`${crashes.map(({ point, crossing = 1 }) => `${point}@${crossing}`).join(',')}#act-${tagNo}`);
  if (fault !== undefined) await armFaults(stack.providerUrl, faults[fault]);

  // Act
  // What its own setup made, as `scenario()` checked when the scenario was declared.
  const outcome = await scenario.act(driver, state as never);
  if (duplicate && crash !== undefined) {
    // Once the crash killed its execution, a second one and the reconciler race to finish the work.
    await driver.until(`the crash at ${crash.point}`, () => stack.crashFired(crash.point, crash.crossing));
    await startDuplicate(outcome);
  }
  await settle(outcome, { racing: duplicate });
  const crossed = stack.crossings();

  // Assess
  for (const { point, crossing = 1 } of crashes) expect(stack.crashFired(point, crossing), `crash at ${point}@${crossing} fired`).toBe(true);
  await expectEveryFaultStruck();
  await expectOutcome(outcome);
  await expectLedgerHolds();
  expect(stack.auditViolations().slice(unguardedBefore), 'calls that passed no crash point').toEqual([]);
  return crossed;
}

interface ScenarioEntry {
  readonly fn: CrashFunction;
  readonly scenario: Scenario;
  readonly name: string;
}

const allScenarios: readonly ScenarioEntry[] = crashFunctions.flatMap((fn) =>
  scenarios[fn].map((scenario) => ({ fn, scenario, name: `${fn}: ${scenario.name}` })),
);

/** Every point at every crossing its scenario declares, with no fault and with each fault of the scenario. */
function casesOf(entries: readonly ScenarioEntry[]) {
  return entries.flatMap(({ fn, scenario, name }) =>
    pointsOf(fn).flatMap((point) =>
      Array.from({ length: scenario.crossings[point] ?? 0 }, (_, i) => i + 1).flatMap((crossing) =>
        [undefined, ...scenario.faults].map((fault) => ({
          scenario,
          point,
          crossing,
          fault,
          label: `${name}: crash at ${point}@${crossing} with ${fault ?? 'no fault'}`,
        })),
      ),
    ),
  );
}

/** How many test files run the matrix side by side (crash-matrix-1.test.ts ...), each with a stack of its own. */
export const SHARDS = 2;

/**
 * The shard of each scenario: the most expensive first, each to the shard with the least work
 * so far. The reconciler's cases each wait for two recoveries, so they count twice.
 */
const shardOf: ReadonlyMap<ScenarioEntry, number> = (() => {
  const cost = (entry: ScenarioEntry) => (casesOf([entry]).length + 1) * (entry.fn === 'reconciler' ? 2 : 1);
  const load = Array<number>(SHARDS).fill(0);
  const shards = new Map<ScenarioEntry, number>();
  for (const entry of [...allScenarios].sort((a, b) => cost(b) - cost(a))) {
    const lightest = load.indexOf(Math.min(...load));
    shards.set(entry, lightest);
    load[lightest]! += cost(entry);
  }
  return shards;
})();

/** Each point of a saga step, at its first crossing, in the first scenario that crosses it. */
// The payout saga's steps race no duplicate here: CI time (their 8 races passed when added; the
// crash cases above already cover each of their points).
const stepFunctions = [...Object.keys(sagaSteps), ...Object.keys(refundSteps)].map(kebab) as CrashFunction[];
const allDuplicates = stepFunctions.flatMap((fn) =>
  pointsOf(fn).map((point) => {
    const entry = allScenarios.find((candidate) => candidate.fn === fn && (candidate.scenario.crossings[point] ?? 0) > 0);
    if (entry === undefined) throw new Error(`no scenario crosses ${point}`);
    return { entry, scenario: entry.scenario, point, label: `${fn}: ${entry.scenario.name}: crash at ${point}` };
  }),
);

/** The tests of shard `shard` (0-based) of the matrix, on a stack of its own. */
export function crashMatrix(shard: number): void {
  const scenarioList = allScenarios.filter((entry) => shardOf.get(entry) === shard);
  const cases = casesOf(scenarioList);
  const duplicates = allDuplicates.filter(({ entry }) => shardOf.get(entry) === shard);

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL ??= 'CRITICAL';
    dataDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-crash-'));
    stack = await startLocalStack({
      dataDir,
      port: 0,
      inMemory: true,
      reconcileEveryMs: 0,
      reconcileAfterSeconds: RECONCILE_AFTER_SECONDS,
      // A reconciler that crashed holding a lease blocks the payment no longer than this.
      reconcileLeaseSeconds: 1,
      functionSettings: {
        // A hung provider call must fail fast enough for the matrix to finish.
        [EnvVar.StripeTimeoutMs]: '500',
        // A request that crashed holds its Idempotency-Key this long: the client's retry then takes it over.
        [EnvVar.IdempotencyLeaseSeconds]: '0.3',
      },
      // Every write, start and provider call must pass a crash point: one that does not is a hole in the matrix.
      crashAudit: true,
      retryIntervalScale: 0.05,
    });
    const merchant = (merchantId: string, cartHoldSeconds?: number) =>
      stack.addMerchant({ merchantId, name: merchantId, ...(cartHoldSeconds && { cartHoldSeconds }) });
    const keys = {
      demo: stack.apiKey,
      shortHolds: await merchant('merchant_crash_short_holds', 1),
      known: await merchant(KNOWN_MERCHANT_ID),
      payouts: await stack.addMerchant({ merchantId: 'merchant_crash_payouts', name: 'payouts', ledger: { payoutDelayDays: 0 } }),
    };
    useTarget({ apiUrl: stack.apiUrl, apiKey: stack.apiKey, otherApiKey: keys.known, providerUrl: stack.providerUrl });
    driver = driverOf(stack, keys);
  });

  afterEach(async () => {
    stack.setCrashAt(undefined);
    await clearFaults(stack.providerUrl);
  });

  afterAll(async () => {
    const crossings = scenarioList.reduce((sum, { scenario }) => sum + Object.values(scenario.crossings).reduce((a, n) => a + n, 0), 0);
    console.log(
      `crash matrix, shard ${shard + 1} of ${SHARDS}: ${crashPoints.length} crash points of ${crashFunctions.filter((fn) => pointsOf(fn).length > 0).length} functions in all; ` +
        `here ${crossings} crossings in ${scenarioList.length} scenarios; ${ran.cases} of ${cases.length} cases passed ` +
        `(${ran.withFault} with one of ${Object.keys(faults).length} provider faults), ` +
        `${ran.duplicates} of ${duplicates.length} duplicate-execution races`,
    );
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('the crash matrix’s scenarios', () => {
    if (shard === 0) {
      it('give each function with crash points a scenario crossing each of them, and none to a function without', () => {
        const uncovered = crashPoints.filter((point) => {
          const fn = point.slice(0, point.indexOf(':')) as CrashFunction;
          return !scenarios[fn].some((scenario) => (scenario.crossings[point] ?? 0) > 0);
        });
        const idle = crashFunctions.filter((fn) => pointsOf(fn).length === 0 && scenarios[fn].length > 0);

        expect(uncovered).toEqual([]);
        expect(idle).toEqual([]);
      });

      it('run in as many shard files as it has shards, so no scenario is left in a shard no file runs', () => {
        const files = readdirSync(import.meta.dirname).filter((name) => /^crash-matrix-\d+\.test\.ts$/.test(name));
        expect(files.sort()).toEqual(Array.from({ length: SHARDS }, (_, i) => `crash-matrix-${i + 1}.test.ts`));
      });
    }

    for (const { fn, scenario, name } of scenarioList) {
      it(`${name} crosses its points as declared (calibration: no crash, no fault)`, async () => {
        // Act
        const crossed = await run(scenario, undefined, undefined);

        // Assess
        const own = Object.fromEntries(pointsOf(fn).filter((point) => crossed[point] !== undefined).map((point) => [point, crossed[point]]));
        expect(own).toEqual(scenario.crossings);
      });
    }
  });

  describe('the crash matrix', () => {
    for (const { scenario, point, crossing, fault, label } of cases) {
      it(label, async () => {
        await run(scenario, { point, crossing }, fault);
        ran.cases += 1;
        if (fault !== undefined) ran.withFault += 1;
      });
    }
  });

  describe('the crash matrix with a duplicate execution racing', () => {
    for (const { scenario, point, label } of duplicates) {
      it(`${label}, then a second execution and the reconciler racing to finish`, async () => {
        await run(scenario, { point }, undefined, { duplicate: true });
        ran.duplicates += 1;
      });
    }
  });

  // Once, after every case of the shard, not after each: it reads the whole table, which grows
  // with every case. A broken promise names its payment or refund, and so the case that made it.
  it('leaves every payment and refund of every case with exactly one event of each transition, and no event without its change', async () => {
    await stack.idle();
    expect(await stackEventViolations({ endpoint: stack.dynamoDbEndpoint, name: stack.tableName }), 'one event per transition').toEqual([]);
  });
}
