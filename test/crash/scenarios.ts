import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Boundary, type CrashFunction, type CrashPoint, crashBoundaries } from '../../functions/crash/crash-points.ts';
import { paymentNoFor } from '../../functions/domain/create-payment.ts';
import { localDateOf, nextDate } from '../../functions/domain/ledger/settlement-day.ts';
import type { FaultRequest } from '../../local/fake-provider/faults.ts';
import { type ProviderFault, authorizeFaults, captureFaults, providerFaults } from '../../local/fake-provider/named-faults.ts';
import { PAYOUT_SCRIPTS } from '../../local/fake-provider/payouts.ts';
import type { ApiResponse } from '../support/target.ts';
import { uniqueId } from '../support/school.ts';

/**
 * The crash matrix's scenarios: for every function the catalog deploys, the requests that make
 * it cross each of its crash points, how often each is crossed, and which provider faults
 * strike on the way. The matrix runs each point at each of its crossings (`point@N`), with
 * each fault, and the calibration holds the counts to what the functions really do.
 */

/** Provider faults, each striking the next matching request once. */
export const faults = providerFaults;
export type Fault = ProviderFault;

const AUTHORIZE_FAULTS = authorizeFaults;
const CAPTURE_FAULTS = captureFaults;
const PAYMENT_FAULTS: readonly Fault[] = [...AUTHORIZE_FAULTS, ...CAPTURE_FAULTS];
const REFUND_FAULTS: readonly Fault[] = [
  '503 on refund',
  '429 on refund',
  '409 key in use on refund',
  'timeout on refund',
  'response lost after refund committed',
];

export type PaymentEnd = 'succeeded' | 'failed' | 'canceled';
/** `final`: succeeded or failed, as the provider answered last (a refusal it does not repeat to a saga resumed after a crash). */
export type RefundEnd = 'succeeded' | 'failed' | 'final';

/** What a scenario must come to once everything it set going has settled. */
export interface Outcome {
  /** The merchant's key the ids below belong to; the demo merchant's when absent. */
  readonly key?: string;
  readonly payments?: Readonly<Record<string, PaymentEnd>>;
  /** By payment_no: the final status of each of its refunds. */
  readonly refunds?: Readonly<Record<string, readonly RefundEnd[]>>;
  /** By cart_id: the status it ends in. */
  readonly carts?: Readonly<Record<string, string>>;
  /** By class_id: its seats held and its students; its seats must add up besides. */
  readonly classes?: Readonly<Record<string, { readonly held: number; readonly students: number }>>;
  /** Accounts whose points (and card purchases) must add up. */
  readonly accounts?: readonly string[];
  /** By payout_no: the status it ends in. */
  readonly payouts?: Readonly<Record<string, 'paid' | 'failed'>>;
  /**
   * By payment_no or refund_no: the event types its transitions must have made, each exactly
   * once, and whether each must have reached the merchant's endpoint.
   */
  readonly events?: Readonly<Record<string, { readonly types: readonly string[]; readonly delivered: boolean }>>;
  /** The execution the scenario's step runs in: a duplicate of it races the crash. */
  readonly execution?: { readonly saga: 'payment' | 'refund' | 'payout'; readonly id: string };
}

export interface RequestOptions {
  /** The merchant's key; the demo merchant's when absent. */
  readonly key?: string;
  readonly idempotencyKey?: string;
  /** Send a request that died with its function (a 502) again, as clients do. Default true. */
  readonly retry?: boolean;
  /** The statuses the (last) answer may have; 200, 201 and 202 when absent. */
  readonly expect?: readonly number[];
}

/** What a scenario drives the stack with (test/crash/crash-matrix.test.ts). */
export interface Driver {
  /** The demo merchant's; one whose carts hold seats for a second; one whose id is known, for a payment_no derived from its order. */
  readonly keys: { readonly demo: string; readonly shortHolds: string; readonly known: string; readonly payouts: string };
  readonly knownMerchantId: string;
  send(method: 'POST' | 'DELETE' | 'GET', path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse>;
  /** Arms provider rules a scenario needs, after the case's fault (so the fault strikes first). */
  arm(rules: FaultRequest): Promise<void>;
  /** Runs the reconciler until what `outcome` names has settled. */
  settle(outcome: Outcome): Promise<void>;
  /** Runs the reconciler once, as the schedule does; a run that died at a crash point is a dead run. */
  reconcileOnce(): Promise<void>;
  idle(): Promise<void>;
  until(what: string, condition: () => boolean | Promise<boolean>): Promise<void>;
  /** How often `point` was crossed so far in this act. */
  crossed(point: CrashPoint): number;
  /** Settles the provider's refund of our refund, as the bank would. */
  settleProviderRefund(refundNo: string): Promise<void>;
  /** Invokes a function directly, as a person does (`aws lambda invoke`); a run that died at a crash point is a dead run. */
  invokeOnce(constructId: string, event: unknown): Promise<void>;
  /** Pays the provider's payout of our payout (one held for the test), as the bank would. */
  settleProviderPayout(payoutNo: string): Promise<void>;
}

interface ScenarioOf<S> {
  /** What it does, in the cases' names. */
  readonly name: string;
  /** What must exist before the act: made before any crash is armed, its crossings not counted. */
  readonly setup?: (d: Driver) => Promise<S>;
  /** The requests, as a client sends them, whose crash points the cases fire; and what must come of them. */
  readonly act: (d: Driver, state: S) => Promise<Outcome>;
  /** How often the act crosses each point of the scenario's function, with no crash and no fault. */
  readonly crossings: Partial<Record<CrashPoint, number>>;
  /** The provider faults that strike on the act's path: each point, at each crossing, runs with each of them and with none. */
  readonly faults: readonly Fault[];
  /** A crash of another function the act needs, for this one to have work (the reconciler's). */
  readonly alsoCrash?: { readonly point: CrashPoint; readonly crossing?: number };
}

/** A scenario whatever its setup makes: the matrix hands the act what the setup returned. */
export type Scenario = Omit<ScenarioOf<unknown>, 'act'> & { readonly act: (d: Driver, state: never) => Promise<Outcome> };

/** A scenario whose act takes what its setup makes. */
const scenario = <S = undefined>(defined: ScenarioOf<S>): Scenario => defined;

/** The points before and after each boundary of `fn`, each crossed as often as `counts` says. */
function around<F extends CrashFunction>(
  fn: F,
  counts: Partial<Record<(typeof crashBoundaries)[F][number] & Boundary, number>>,
): Partial<Record<CrashPoint, number>> {
  return Object.fromEntries(
    Object.entries(counts).flatMap(([boundary, n]) => [
      [`${fn}:before-${boundary}`, n],
      [`${fn}:after-${boundary}`, n],
    ]),
  ) as Partial<Record<CrashPoint, number>>;
}

const VISA = 'pm_card_visa';
const DECLINED = 'pm_card_chargeDeclined';
const PRICE = 1234;

const post = (d: Driver, path: string, body?: unknown, options?: RequestOptions) => d.send('POST', path, body, options);

async function pay(d: Driver, card = VISA, idempotencyKey?: string): Promise<string> {
  const order = { order_no: uniqueId('order'), amount: PRICE, currency: 'USD', payment_method: card };
  return (await post(d, '/v1/payments', order, { ...(idempotencyKey !== undefined && { idempotencyKey }) })).body.payment_no;
}

/** A payment by `card`, and what it must come to; its saga is the scenario's execution. */
function paying(card: string, end: PaymentEnd) {
  return async (d: Driver): Promise<Outcome> => {
    const paymentNo = await pay(d, card);
    return { payments: { [paymentNo]: end }, execution: { saga: 'payment', id: paymentNo } };
  };
}
const aCardPayment = paying(VISA, 'succeeded');
const aDeclinedCard = paying(DECLINED, 'failed');

interface Paid {
  readonly paymentNo: string;
}

/** A manual payment authorized, its first execution ended waiting for the merchant's word. */
async function authorizedManually(d: Driver): Promise<Paid> {
  const order = { order_no: uniqueId('order'), amount: PRICE, currency: 'USD', payment_method: VISA, capture_method: 'manual' };
  const paymentNo = (await post(d, '/v1/payments', order)).body.payment_no;
  await d.until('the manual payment authorized', async () => (await d.send('GET', `/v1/payments/${paymentNo}`, undefined, { expect: [200] })).body.status === 'authorized');
  await d.idle();
  return { paymentNo };
}

/** The merchant captures part of a manual payment; the execution that word starts is the scenario's. */
async function capturedInPart(d: Driver, { paymentNo }: Paid): Promise<Outcome> {
  await post(d, `/v1/payments/${paymentNo}/capture`, { amount_to_capture: PRICE - 234 });
  return { payments: { [paymentNo]: 'succeeded' }, execution: { saga: 'payment', id: paymentNo } };
}

/** The merchant cancels a manual payment; the execution that word starts is the scenario's. */
async function canceledByMerchant(d: Driver, { paymentNo }: Paid): Promise<Outcome> {
  await post(d, `/v1/payments/${paymentNo}/cancel`);
  return { payments: { [paymentNo]: 'canceled' }, execution: { saga: 'payment', id: paymentNo } };
}

const aManualCapture = (crossings: Partial<Record<CrashPoint, number>>, faults: readonly Fault[] = []) =>
  scenario({ name: 'a manual payment captured in part', setup: authorizedManually, act: capturedInPart, crossings, faults });
const aManualCancel = (crossings: Partial<Record<CrashPoint, number>>) =>
  scenario({ name: 'a manual payment canceled', setup: authorizedManually, act: canceledByMerchant, crossings, faults: [] });

async function paid(d: Driver): Promise<Paid> {
  const paymentNo = await pay(d);
  await d.settle({ payments: { [paymentNo]: 'succeeded' } });
  return { paymentNo };
}

/** A refund of a captured payment, and what it must come to. */
async function refunded(d: Driver, { paymentNo }: Paid, end: RefundEnd = 'succeeded'): Promise<Outcome> {
  const refund = { payment_no: paymentNo, amount: 600, operator_id: 'crash-matrix' };
  const refundNo = (await post(d, '/v1/refunds', refund)).body.refund_no;
  return { payments: { [paymentNo]: 'succeeded' }, refunds: { [paymentNo]: [end] }, execution: { saga: 'refund', id: refundNo } };
}

async function aClass(d: Driver, key: string, price = PRICE): Promise<string> {
  const classId = uniqueId('cls');
  await post(d, '/v1/classes', { class_id: classId, name: 'Crash', seats_total: 3, price, currency: 'USD' }, { key });
  return classId;
}

async function anAccount(d: Driver, key = d.keys.demo): Promise<{ accountId: string }> {
  const accountId = uniqueId('acc');
  await post(d, '/v1/accounts', { account_id: accountId }, { key });
  return { accountId };
}

interface Family {
  readonly classId: string;
  readonly accountId: string;
  readonly swimmerId: string;
  readonly cartId: string;
}

/** A class, an account with a swimmer, and the account's open cart. */
async function family(d: Driver, key = d.keys.demo): Promise<Family> {
  const classId = await aClass(d, key);
  const { accountId } = await anAccount(d, key);
  const swimmerId = uniqueId('swm');
  await post(d, `/v1/accounts/${accountId}/swimmers`, { swimmer_id: swimmerId, name: 'Crash' }, { key });
  const cartId = (await post(d, `/v1/accounts/${accountId}/cart`, undefined, { key })).body.cart_id;
  return { classId, accountId, swimmerId, cartId };
}

const register = (d: Driver, { cartId, swimmerId, classId }: Family, key = d.keys.demo) =>
  post(d, `/v1/carts/${cartId}/items`, { action: 'register', swimmer_id: swimmerId, class_id: classId }, { key });

/** A family whose cart holds a seat in the class. */
async function holding(d: Driver, key = d.keys.demo): Promise<Family & { itemId: string }> {
  const ids = await family(d, key);
  const itemId = (await register(d, ids, key)).body.items[0].item_id;
  return { ...ids, itemId };
}

async function checkout(d: Driver, cartId: string, terms: Record<string, unknown>, key = d.keys.demo) {
  return (await post(d, `/v1/carts/${cartId}/checkout`, { points: 0, ...terms }, { key, idempotencyKey: uniqueId('checkout') })).body;
}

const inStore = { payment_mode: 'pay_in_store' };

/** A family's seat, and what it must come to. */
const seated = ({ classId, accountId }: Family, seats: { held: number; students: number }, key?: string) => ({
  ...(key !== undefined && { key }),
  classes: { [classId]: seats },
  accounts: [accountId],
});

/** A cart paid by card, and what it must come to: done, its seat a student's, its payment captured once. */
async function paidByCard(d: Driver, ids: Family): Promise<Outcome> {
  const { payment_no: paymentNo } = await checkout(d, ids.cartId, { payment_mode: 'pay_now', payment_method: VISA });
  return {
    ...seated(ids, { held: 0, students: 1 }),
    payments: { [paymentNo]: 'succeeded' },
    carts: { [ids.cartId]: 'done' },
    execution: { saga: 'payment', id: paymentNo },
  };
}

/**
 * A swimmer registered by card in a class, whose next cart changes to a cheaper one: the
 * cart gives back more than it buys, so its checkout pays the difference back to that card.
 */
async function givingBack(d: Driver): Promise<Family & Paid & { cheaper: string }> {
  const first = await holding(d);
  const bought = await paidByCard(d, first);
  await d.settle(bought);
  const cheaper = await aClass(d, d.keys.demo, 500);
  const cartId = (await post(d, `/v1/accounts/${first.accountId}/cart`)).body.cart_id;
  const change = { action: 'change', swimmer_id: first.swimmerId, from_class_id: first.classId, to_class_id: cheaper };
  await post(d, `/v1/carts/${cartId}/items`, change);
  return { ...first, cartId, cheaper, paymentNo: bought.execution?.id ?? '' };
}

async function paidBack(d: Driver, ids: Family & Paid & { cheaper: string }): Promise<Outcome> {
  await checkout(d, ids.cartId, { payment_mode: 'pay_now' });
  return {
    classes: { [ids.classId]: { held: 0, students: 0 }, [ids.cheaper]: { held: 0, students: 1 } },
    accounts: [ids.accountId],
    payments: { [ids.paymentNo]: 'succeeded' },
    refunds: { [ids.paymentNo]: ['succeeded'] },
    carts: { [ids.cartId]: 'done' },
  };
}

/** A refund the provider holds pending until the test settles it, once CheckRefund has looked at it. */
async function heldPendingThenSettled(d: Driver, ids: Paid): Promise<Outcome> {
  await d.arm({ pendingRefunds: { count: 1 } });
  const outcome = await refunded(d, ids);
  await d.until('CheckRefund looked at the pending refund', () => d.crossed('check-refund:before-write') > 0);
  await d.settleProviderRefund(outcome.execution?.id ?? '');
  return outcome;
}

const PAYOUT = 300;
/** What one capture makes available to the payout merchant: enough for every payout case of a run, so most cases skip funding. */
const FUNDING = 99_000;

/**
 * Funds available to the payout merchant (funds at once) for one more payout: when short, a
 * large captured payment, released by the reconciler.
 */
async function funded(d: Driver): Promise<void> {
  const available = async () =>
    ((await d.send('GET', '/v1/balance', undefined, { key: d.keys.payouts })).body.available as { amount: number; currency: string }[])
      .find((a) => a.currency === 'USD')?.amount ?? 0;
  if ((await available()) >= PAYOUT) return;
  const order = { order_no: uniqueId('order'), amount: FUNDING, currency: 'USD', payment_method: VISA };
  const paymentNo = (await post(d, '/v1/payments', order, { key: d.keys.payouts })).body.payment_no;
  await d.settle({ key: d.keys.payouts, payments: { [paymentNo]: 'succeeded' } });
  await d.until('the funds available', async () => {
    await d.reconcileOnce();
    return (await available()) >= PAYOUT;
  });
}

/** A payout of the funded merchant, and what it must come to; its saga is the scenario's execution. */
async function paidOut(d: Driver, description?: string, end: 'paid' | 'failed' = 'paid'): Promise<Outcome> {
  const body = { amount: PAYOUT, currency: 'USD', ...(description !== undefined && { description }) };
  const payoutNo = (await post(d, '/v1/payouts', body, { key: d.keys.payouts, idempotencyKey: uniqueId('payout') })).body.payout_no;
  return { key: d.keys.payouts, payouts: { [payoutNo]: end }, execution: { saga: 'payout', id: payoutNo } };
}

/** A payout the provider holds pending until the test pays it, once CheckPayout has looked at it. */
async function heldThenPaid(d: Driver): Promise<Outcome> {
  const outcome = await paidOut(d, PAYOUT_SCRIPTS.held);
  await d.until('CheckPayout looked at the held payout', () => d.crossed('check-payout:before-write') > 0);
  await d.settleProviderPayout(outcome.execution?.id ?? '');
  return outcome;
}

/** A merchant's webhook receiver on 127.0.0.1 that takes every delivery; started on first use, for the whole run. */
let receiverUrl: Promise<string> | undefined;
function receiver(): Promise<string> {
  receiverUrl ??= new Promise((resolve) => {
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.end());
    });
    server.unref();
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`));
  });
  return receiverUrl;
}

/**
 * The known merchant's one endpoint, for its succeeded payments: made by the first case that
 * needs it, found by the others, so each of its payments starts exactly one delivery.
 */
async function subscribed(d: Driver): Promise<void> {
  const url = await receiver();
  const key = d.keys.known;
  const listed = await d.send('GET', '/v1/webhook_endpoints', undefined, { key, expect: [200] });
  if (listed.body.data.some((endpoint: { url: string }) => endpoint.url === url)) return;
  await post(d, '/v1/webhook_endpoints', { url, enabled_events: ['payment.succeeded'] }, { key });
}

/** A card payment of the known merchant, whose succeeded event must reach its endpoint once made. */
async function aWatchedPayment(d: Driver): Promise<Outcome> {
  const key = d.keys.known;
  const order = { order_no: uniqueId('order'), amount: PRICE, currency: 'USD', payment_method: VISA };
  const paymentNo = (await post(d, '/v1/payments', order, { key })).body.payment_no;
  return { key, payments: { [paymentNo]: 'succeeded' }, events: { [paymentNo]: { types: ['payment.succeeded'], delivered: true } } };
}

const aWatched = (crossings: Partial<Record<CrashPoint, number>>) =>
  scenario({ name: 'a card payment whose event goes to the merchant’s endpoint', setup: subscribed, act: aWatchedPayment, crossings, faults: [] });

/** A watched payment settled, its event delivered: the outcome, and the event's id. */
async function aDeliveredEvent(d: Driver): Promise<{ outcome: Outcome; eventId: string }> {
  await subscribed(d);
  const outcome = await aWatchedPayment(d);
  await d.settle(outcome);
  await d.idle();
  const paymentNo = Object.keys(outcome.payments ?? {})[0]!;
  const listed = await d.send('GET', '/v1/events?type=payment.succeeded&limit=100', undefined, { key: d.keys.known, expect: [200] });
  const event = listed.body.data.find((e: { data: { object: { payment_no: string } } }) => e.data.object.payment_no === paymentNo);
  return { outcome, eventId: event.id as string };
}

/** An endpoint of the short-holds merchant, for carts only (no payment scenario starts a delivery to it). */
const anEndpoint = async (d: Driver): Promise<string> =>
  (await post(d, '/v1/webhook_endpoints', { url: await receiver(), enabled_events: ['cart.done'] }, { key: d.keys.shortHolds })).body.id;

/** A payout of available funds, for the function whose points `crossings` names. */
const aPayout = (crossings: Partial<Record<CrashPoint, number>>) =>
  scenario({ name: 'a payout of available funds', setup: funded, act: (d) => paidOut(d), crossings, faults: [] });

/** A payout the bank holds, then pays, for the function whose points `crossings` names. */
const aHeldPayout = (crossings: Partial<Record<CrashPoint, number>>) =>
  scenario({ name: 'a payout the bank holds, then pays', setup: funded, act: heldThenPaid, crossings, faults: [] });

/**
 * Every function the catalog deploys, with its scenarios. Routes run without provider faults:
 * the provider is called by the sagas they start, after the route is done, so a fault there
 * meets none of the route's crashes. A function without crash points (it changes nothing)
 * has no scenario.
 */
export const scenarios: Readonly<Record<CrashFunction, readonly Scenario[]>> = {
  'create-payment': [
    scenario({
      name: 'a card payment',
      act: aCardPayment,
      // The payment, whose put on the order is the only claim; the saga's start.
      crossings: around('create-payment', { write: 1, start: 1 }),
      faults: [],
    }),
    scenario({
      name: 'a card payment under an Idempotency-Key',
      act: async (d) => {
        const paymentNo = await pay(d, VISA, uniqueId('key'));
        return { payments: { [paymentNo]: 'succeeded' }, execution: { saga: 'payment', id: paymentNo } };
      },
      // The key's claim, the payment, the key's answer; the saga's start.
      crossings: around('create-payment', { write: 3, start: 1 }),
      faults: [],
    }),
  ],
  'list-payments': [],
  'get-payment': [],
  // The merchant's word on the payment; the execution it starts.
  'capture-payment': [aManualCapture(around('capture-payment', { write: 1, start: 1 }))],
  'cancel-payment': [aManualCancel(around('cancel-payment', { write: 1, start: 1 }))],
  'create-refund': [
    scenario({
      name: 'a refund of a captured payment',
      setup: paid,
      act: (d, ids) => refunded(d, ids),
      // The key's claim, the refund with the payment's total, the key's answer; the refund saga's start.
      crossings: around('create-refund', { write: 3, start: 1 }),
      faults: [],
    }),
  ],
  'list-refunds': [],
  'get-refund': [],
  // The key's claim, the payout with its posting, the key's answer; the payout saga's start.
  'create-payout': [aPayout(around('create-payout', { write: 3, start: 1 }))],
  'get-payout': [],
  'list-carts': [],
  'get-settings': [],
  'update-settings': [
    scenario({
      // The demo merchant's point value as it is already: the other scenarios' checkouts price points the same.
      name: 'a settings change',
      act: async (d) => {
        await d.send('POST', '/v1/settings', { point_value: 1 });
        return {};
      },
      crossings: around('update-settings', { write: 1 }),
      faults: [],
    }),
  ],
  'get-open-api': [],
  'list-payouts': [],
  'list-webhook-endpoints': [],
  'list-events': [],
  'get-event': [],
  // With an Idempotency-Key, the client's retry of a POST that died finds the endpoint its first run made, and makes none more.
  'create-webhook-endpoint': [
    scenario({
      name: 'an endpoint registered under an Idempotency-Key',
      act: async (d) => {
        const url = `${await receiver()}/${uniqueId('endpoint')}`;
        const body = { url, enabled_events: ['cart.done'] };
        const first = await post(d, '/v1/webhook_endpoints', body, { key: d.keys.shortHolds, idempotencyKey: uniqueId('endpoint-key') });
        const listed = (await d.send('GET', '/v1/webhook_endpoints', undefined, { key: d.keys.shortHolds, expect: [200] })).body.data as { id: string; url: string }[];
        const made = listed.filter((endpoint) => endpoint.url === url).map((endpoint) => endpoint.id);
        if (made.length !== 1 || made[0] !== first.body.id) throw new Error(`one endpoint for ${url} expected, the answer's ${first.body.id}; listed ${JSON.stringify(made)}`);
        return {};
      },
      // The key's claim, the endpoint, the key's answer.
      crossings: around('create-webhook-endpoint', { write: 3 }),
      faults: [],
    }),
  ],
  'delete-webhook-endpoint': [
    scenario({
      name: 'an endpoint deleted',
      setup: anEndpoint,
      act: async (d, endpointId) => {
        // Retried after a crash past its delete, it finds the endpoint gone.
        await d.send('DELETE', `/v1/webhook_endpoints/${endpointId}`, undefined, { key: d.keys.shortHolds, expect: [200, 404] });
        return {};
      },
      crossings: around('delete-webhook-endpoint', { write: 1 }),
      faults: [],
    }),
  ],
  'redeliver-event': [
    scenario({
      name: 'a payment’s event redelivered',
      setup: aDeliveredEvent,
      act: async (d, { outcome, eventId }) => {
        await post(d, `/v1/events/${eventId}/redeliver`, undefined, { key: d.keys.known });
        return outcome;
      },
      crossings: around('redeliver-event', { start: 1 }),
      faults: [],
    }),
  ],
  // The attempt recorded, then the delivery's outcome.
  'deliver-webhook': [aWatched(around('deliver-webhook', { write: 2 }))],
  // A give-up takes three days of failed attempts: its step is invoked as the state machine's Catch would.
  'give-up-webhook': [
    scenario({
      name: 'a delivery given up',
      setup: aDeliveredEvent,
      act: async (d, { outcome, eventId }) => {
        await d.invokeOnce('GiveUpWebhook', { event_id: eventId, endpoint_id: 'we_000000000000000000000000' });
        // The event and its delivery stand; the given-up record is one more delivery's.
        return { key: outcome.key, payments: outcome.payments };
      },
      crossings: around('give-up-webhook', { write: 1 }),
      faults: [],
    }),
  ],
  // The payment.succeeded event put, its delivery started.
  'event-publisher': [aWatched(around('event-publisher', { write: 1, start: 1 }))],
  'submit-payout': [aPayout(around('submit-payout', { provider: 1 }))],
  // Its provider id written once while held (the looks after it find nothing changed).
  'check-payout': [aHeldPayout(around('check-payout', { write: 1 }))],
  'record-payout-paid': [aHeldPayout(around('record-payout-paid', { write: 1 }))],
  'mark-payout-failed': [
    scenario({
      name: 'a payout the bank fails',
      setup: funded,
      act: (d) => paidOut(d, PAYOUT_SCRIPTS.fails, 'failed'),
      // Given back with its reversal, once.
      crossings: around('mark-payout-failed', { write: 1 }),
      faults: [],
    }),
  ],
  'create-class': [
    scenario({
      name: 'a class',
      act: async (d) => ({ classes: { [await aClass(d, d.keys.demo)]: { held: 0, students: 0 } } }),
      crossings: around('create-class', { write: 1 }),
      faults: [],
    }),
  ],
  'get-class': [],
  'create-account': [
    scenario({
      name: 'an account',
      act: async (d) => ({ accounts: [(await anAccount(d)).accountId] }),
      crossings: around('create-account', { write: 1 }),
      faults: [],
    }),
  ],
  'get-account': [],
  'grant-points': [
    scenario({
      name: 'a points grant',
      setup: anAccount,
      act: async (d, { accountId }) => {
        await post(d, `/v1/accounts/${accountId}/points`, { amount: 50, reason: 'crash' }, { idempotencyKey: uniqueId('grant') });
        return { accounts: [accountId] };
      },
      // The key's claim, the grant with the balance, the key's answer.
      crossings: around('grant-points', { write: 3 }),
      faults: [],
    }),
  ],
  'add-swimmer': [
    scenario({
      name: 'a swimmer',
      setup: anAccount,
      act: async (d, { accountId }) => {
        await post(d, `/v1/accounts/${accountId}/swimmers`, { swimmer_id: uniqueId('swm'), name: 'Crash' });
        return { accounts: [accountId] };
      },
      crossings: around('add-swimmer', { write: 1 }),
      faults: [],
    }),
  ],
  'list-purchases': [],
  'open-cart': [
    scenario({
      name: 'a cart',
      setup: anAccount,
      act: async (d, { accountId }) => {
        const cart = (await post(d, `/v1/accounts/${accountId}/cart`)).body;
        return { carts: { [cart.cart_id]: 'active' }, accounts: [accountId] };
      },
      crossings: around('open-cart', { write: 1 }),
      faults: [],
    }),
  ],
  'get-cart': [],
  'add-cart-item': [
    scenario({
      name: 'a seat held',
      setup: family,
      act: async (d, ids) => {
        await register(d, ids);
        return { ...seated(ids, { held: 1, students: 0 }), carts: { [ids.cartId]: 'pending' } };
      },
      crossings: around('add-cart-item', { write: 1 }),
      faults: [],
    }),
  ],
  'remove-cart-item': [
    scenario({
      name: 'a held seat given back',
      setup: holding,
      act: async (d, ids) => {
        // A retry of a removal that died after it was written finds the item gone.
        await d.send('DELETE', `/v1/carts/${ids.cartId}/items/${ids.itemId}`, undefined, { expect: [200, 404] });
        return seated(ids, { held: 0, students: 0 });
      },
      crossings: around('remove-cart-item', { write: 1 }),
      faults: [],
    }),
  ],
  checkout: [
    scenario({
      name: 'a cart paid by card',
      setup: holding,
      act: paidByCard,
      // The key's claim, the cart locked, the card payment, the key's answer; the payment saga's start.
      crossings: around('checkout', { write: 4, start: 1 }),
      faults: [],
    }),
    scenario({
      name: 'a cart giving back more than it buys, the difference refunded to the card',
      setup: givingBack,
      act: paidBack,
      // The key's claim, the cart locked, applied, its item fulfilled, the refund, the cart
      // done, the key's answer; the refund saga's start.
      crossings: around('checkout', { write: 7, start: 1 }),
      faults: [],
    }),
  ],
  'confirm-in-store': [
    scenario({
      name: 'a cart paid in the shop',
      setup: async (d) => {
        const ids = await holding(d);
        await checkout(d, ids.cartId, inStore);
        return ids;
      },
      act: async (d, ids) => {
        await post(d, `/v1/carts/${ids.cartId}/confirm-in-store`);
        return { ...seated(ids, { held: 0, students: 1 }), carts: { [ids.cartId]: 'done' } };
      },
      // Applied, its item fulfilled, done.
      crossings: around('confirm-in-store', { write: 3 }),
      faults: [],
    }),
  ],
  'get-balance': [],
  'list-balance-transactions': [],
  'list-settlements': [],
  'get-settlement': [],
  'get-settlement-csv': [],
  'ledger-poster': [
    scenario({
      name: 'a card payment posted to the ledger',
      act: aCardPayment,
      // Its capture and fee, in one transaction; the payment's other changes post nothing.
      crossings: around('ledger-poster', { write: 1 }),
      faults: [],
    }),
  ],
  'cancel-cart': [
    scenario({
      name: 'a cart given up',
      setup: holding,
      act: async (d, ids) => {
        await post(d, `/v1/carts/${ids.cartId}/cancel`);
        return { ...seated(ids, { held: 0, students: 0 }), carts: { [ids.cartId]: 'canceled' } };
      },
      // Canceling, its hold released, canceled.
      crossings: around('cancel-cart', { write: 3 }),
      faults: [],
    }),
  ],
  authorizer: [],
  authorize: [
    scenario({ name: 'a card payment', act: aCardPayment, crossings: around('authorize', { provider: 1 }), faults: AUTHORIZE_FAULTS }),
    scenario({
      name: 'a declined card',
      act: aDeclinedCard,
      // The provider refuses (no crossing after it); the decline is recorded.
      crossings: { 'authorize:before-provider': 1, ...around('authorize', { write: 1 }) },
      faults: AUTHORIZE_FAULTS,
    }),
  ],
  'record-authorization': [
    scenario({
      name: 'a card payment',
      act: aCardPayment,
      crossings: around('record-authorization', { write: 1 }),
      // Between the authorization and the capture: what strikes either meets its crash.
      faults: PAYMENT_FAULTS,
    }),
  ],
  capture: [
    scenario({ name: 'a card payment', act: aCardPayment, crossings: around('capture', { provider: 1 }), faults: CAPTURE_FAULTS }),
    aManualCapture(around('capture', { provider: 1 }), CAPTURE_FAULTS),
  ],
  'mark-succeeded': [
    scenario({ name: 'a card payment', act: aCardPayment, crossings: around('mark-succeeded', { write: 1 }), faults: CAPTURE_FAULTS }),
  ],
  'void-authorization': [
    scenario({ name: 'a declined card', act: aDeclinedCard, crossings: around('void-authorization', { provider: 1 }), faults: AUTHORIZE_FAULTS }),
    aManualCancel(around('void-authorization', { provider: 1 })),
  ],
  'mark-failed': [
    scenario({ name: 'a declined card', act: aDeclinedCard, crossings: around('mark-failed', { write: 1 }), faults: AUTHORIZE_FAULTS }),
    aManualCancel(around('mark-failed', { write: 1 })),
  ],
  'settle-cart': [
    scenario({
      name: 'a cart paid by card',
      setup: holding,
      act: paidByCard,
      // Applied with its purchase, its item fulfilled, done.
      crossings: around('settle-cart', { write: 3 }),
      faults: CAPTURE_FAULTS,
    }),
  ],
  'submit-refund': [
    scenario({ name: 'a refund', setup: paid, act: (d, ids) => refunded(d, ids), crossings: around('submit-refund', { provider: 1 }), faults: REFUND_FAULTS }),
  ],
  'check-refund': [
    scenario({
      name: 'a refund the provider holds pending',
      setup: paid,
      act: heldPendingThenSettled,
      // The first look writes the provider's refund on ours; the test settles it before the next.
      crossings: around('check-refund', { write: 1 }),
      faults: [],
    }),
  ],
  'record-refund': [
    scenario({ name: 'a refund', setup: paid, act: (d, ids) => refunded(d, ids), crossings: around('record-refund', { write: 1 }), faults: REFUND_FAULTS }),
  ],
  'mark-refund-failed': [
    scenario({
      name: 'a refund the provider refuses',
      setup: paid,
      act: async (d, ids) => {
        await d.arm({ fail: { count: 1, status: 400, match: 'POST /v1/refunds' } });
        // A refusal the provider does not repeat: after a crash before the refund is marked
        // failed, the reconciler resumes the saga, whose next ask succeeds.
        return refunded(d, ids, 'final');
      },
      crossings: around('mark-refund-failed', { write: 1 }),
      // A lost answer would be the refusal's: the refusal strikes first, and nothing is asked again.
      faults: REFUND_FAULTS.filter((fault) => fault !== 'response lost after refund committed'),
    }),
  ],
  'settle-day': [
    scenario({
      name: 'a day of the known merchant settled, then settled again as the next hour’s run would',
      act: async (d) => {
        // A payment of the known merchant, posted, for its first day to state.
        const key = d.keys.known;
        const order = { order_no: uniqueId('order'), amount: PRICE, currency: 'USD', payment_method: VISA };
        const paymentNo = (await post(d, '/v1/payments', order, { key })).body.payment_no;
        await d.settle({ key, payments: { [paymentNo]: 'succeeded' } });
        await d.idle();
        // The day after the merchant's last statement (its first day when it has none), with a clock past its end.
        const [latest] = (await d.send('GET', '/v1/settlements?limit=1', undefined, { key })).body.data;
        const date = latest === undefined ? localDateOf(new Date(), 'UTC') : nextDate(latest.date);
        const event = { time: new Date(Date.parse(`${date}T00:00:00Z`) + 3 * 86_400_000).toISOString(), detail: { merchant_id: d.knownMerchantId, date } };
        await d.invokeOnce('SettleDay', event);
        await d.invokeOnce('SettleDay', event);
        // Written once whatever died where, and chained on the statement before it.
        const { data } = (await d.send('GET', `/v1/settlements?date=${date}`, undefined, { key })).body;
        if (data.length !== 1) throw new Error(`${date} has ${data.length} statements after the rerun`);
        // This case's payment, dated a day an earlier case settled, restates that day's closing, and says by how much.
        const balance = (b: { pending: number; available: number }) => b.pending + b.available;
        const late = data[0].reconciliation.mismatches.find((m: { kind: string }) => m.kind === 'posted_after_statement')?.ledger_amount ?? 0;
        if (latest !== undefined && balance(data[0].opening_balance) !== balance(latest.closing_balance) + late) {
          throw new Error(`${date} opens on ${JSON.stringify(data[0].opening_balance)}, not on ${latest.date}'s closing ${JSON.stringify(latest.closing_balance)} and ${late} posted late`);
        }
        return { key };
      },
      // The statement put, then the merchant's place in the registry; the rerun finds nothing due.
      crossings: around('settle-day', { write: 2 }),
      faults: [],
    }),
  ],
  reconciler: [
    scenario({
      name: 'a payment whose execution died, resumed',
      act: aCardPayment,
      alsoCrash: { point: 'authorize:after-provider' },
      // The resume claimed on the payment, the new execution started.
      crossings: around('reconciler', { write: 1, start: 1 }),
      // No provider fault: one would strike the resumed saga's capture after the reconciler's part
      // is done, as capture's own cases pair each of its points with each fault.
      faults: [],
    }),
    scenario({
      name: 'a payment whose first start was lost, started',
      act: async (d) => {
        // The client never retries: only the reconciler can start it.
        const order = { order_no: uniqueId('order'), amount: PRICE, currency: 'USD', payment_method: VISA };
        await post(d, '/v1/payments', order, { key: d.keys.known, retry: false, expect: [502] });
        return { key: d.keys.known, payments: { [paymentNoFor(d.knownMerchantId, order.order_no)]: 'succeeded' } };
      },
      alsoCrash: { point: 'create-payment:before-start' },
      crossings: around('reconciler', { write: 1, start: 1 }),
      faults: [],
    }),
    scenario({
      name: 'an authorization about to lapse, captured',
      act: async (d) => {
        await d.arm({ authorizationWindowSeconds: 3600 });
        return aCardPayment(d);
      },
      alsoCrash: { point: 'capture:before-provider' },
      // The lease taken, the capture, the payment succeeded.
      crossings: around('reconciler', { write: 2, provider: 1 }),
      faults: CAPTURE_FAULTS,
    }),
    scenario({
      name: 'a manual payment nobody captured, canceled before its authorization lapses',
      act: async (d) => {
        // An hour's authorization: inside the reconciler's margin as soon as it is made.
        await d.arm({ authorizationWindowSeconds: 3600 });
        const order = { order_no: uniqueId('order'), amount: PRICE, currency: 'USD', payment_method: VISA, capture_method: 'manual' };
        const paymentNo = (await post(d, '/v1/payments', order)).body.payment_no;
        return { payments: { [paymentNo]: 'canceled' } };
      },
      // The lease taken, the void, the payment canceled.
      crossings: around('reconciler', { write: 2, provider: 1 }),
      faults: [],
    }),
    scenario({
      name: 'a refund whose execution died, resumed',
      setup: paid,
      act: (d, ids) => refunded(d, ids),
      alsoCrash: { point: 'submit-refund:before-provider' },
      crossings: around('reconciler', { write: 1, start: 1 }),
      // No provider fault, as for the payment resumed: submit-refund's own cases pair them with its points.
      faults: [],
    }),
    scenario({
      name: 'a refund pending at the provider after its execution died, followed until settled',
      setup: paid,
      act: async (d, ids) => {
        await d.arm({ pendingRefunds: { count: 1 } });
        const outcome = await refunded(d, ids);
        await d.until('CheckRefund died', () => d.crossed('check-refund:after-write') > 0);
        await d.idle();
        // The first run finds it still pending and looks again later; the provider then settles it.
        await d.until('the refund is due', async () => {
          await d.reconcileOnce();
          return d.crossed('reconciler:before-write') > 0;
        });
        await d.settleProviderRefund(outcome.execution?.id ?? '');
        return outcome;
      },
      alsoCrash: { point: 'check-refund:after-write' },
      // Its next look put off, then the refund recorded succeeded.
      crossings: around('reconciler', { write: 2 }),
      faults: [],
    }),
    scenario({
      name: 'a cart whose holds lapsed, expired',
      setup: (d) => holding(d, d.keys.shortHolds),
      act: async (d, ids) => ({ ...seated(ids, { held: 0, students: 0 }, d.keys.shortHolds), carts: { [ids.cartId]: 'expired' } }),
      // Expiring, its hold released, expired.
      crossings: around('reconciler', { write: 3 }),
      faults: [],
    }),
    scenario({
      name: 'a cart checking out in the shop past its holds, kept',
      setup: async (d) => {
        const ids = await holding(d, d.keys.shortHolds);
        const cart = await checkout(d, ids.cartId, inStore, d.keys.shortHolds);
        return { ...ids, holdsExpireAt: Date.parse(cart.holds_expire_at) };
      },
      act: async (d, ids) => {
        // One run looks at its hold (due a reconcile delay after it lapsed) and not at the cart:
        // nothing but its deadline (a day) or the shop moves a cart checking out in the shop.
        await d.until('the hold is due', () => Date.now() > ids.holdsExpireAt + 500);
        await d.reconcileOnce();
        await post(d, `/v1/carts/${ids.cartId}/cancel`, undefined, { key: d.keys.shortHolds });
        return { ...seated(ids, { held: 0, students: 0 }, d.keys.shortHolds), carts: { [ids.cartId]: 'canceled' } };
      },
      // The hold kept for the cart.
      crossings: around('reconciler', { write: 1 }),
      faults: [],
    }),
    scenario({
      name: 'a cart whose SettleCart died, settled',
      setup: holding,
      act: paidByCard,
      alsoCrash: { point: 'settle-cart:before-write' },
      // Applied with its purchase, its item fulfilled, done.
      crossings: around('reconciler', { write: 3 }),
      faults: [],
    }),
    scenario({
      name: 'a cart whose checkout died before it paid back, fulfilled',
      setup: givingBack,
      act: paidBack,
      // Before the refund: the checkout's retry answers the applied cart and leaves the rest to the schedule.
      alsoCrash: { point: 'checkout:before-write', crossing: 5 },
      // The refund, the cart done; the refund saga's start.
      crossings: around('reconciler', { write: 2, start: 1 }),
      faults: [],
    }),
  ],
};
