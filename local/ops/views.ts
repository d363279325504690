/**
 * What the ops page shows, read from the running stack as a person would: the product's own API
 * (with the demo merchant's key) for payments, refunds, carts and payouts; the local Step
 * Functions' execution history for a payment's saga; the fake provider's ledger for the bank's
 * side; the metrics the functions emitted.
 */
import { DescribeExecutionCommand, ExecutionDoesNotExist, GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { Metric } from '../../functions/config/metrics.ts';
import { executionName } from '../../functions/domain/saga-start.ts';
import { localRegion } from '../assembly/local-account.ts';
import { ledger } from '../fake-provider/client.ts';
import type { CallRecord, PaymentIntentRecord } from '../fake-provider/ledger.ts';
import type { LocalStack } from '../local-stack.ts';
import type { MetricTotal } from '../services/embedded-metrics.ts';

/** The parts of the local stack the page reads and drives. */
export type OpsStack = Pick<LocalStack, 'apiUrl' | 'apiKey' | 'providerUrl' | 'stepFunctionsEndpoint' | 'templateOutputs' | 'setCrashAt' | 'metricTotals'>;

export type ListKind = 'payments' | 'refunds' | 'carts' | 'payouts';
export const listKinds: readonly ListKind[] = ['payments', 'refunds', 'carts', 'payouts'];

/** One line of a list: whatever the kind, its id, status, amount and when it was made. */
export interface Row {
  readonly id: string;
  readonly status: string;
  /** Minor units. */
  readonly amount: number;
  readonly currency: string;
  /** ISO instant. */
  readonly created: string;
}

/** A list as the page shows it, or why the API would not give it. */
export type ListView = { readonly rows: readonly Row[] } | { readonly error: string };

/** How many of each, newest first: a person looks at what just happened. */
const LIST_LIMIT = 20;

/** A payment's saga resumed this often is given up on long before (RECONCILE_MAX_RESUMES is 5 by default). */
const MAX_EXECUTIONS_SHOWN = 20;

type ApiObject = Record<string, unknown>;

export class OpsViews {
  private readonly sfn: SFNClient;

  constructor(private readonly stack: OpsStack) {
    this.sfn = new SFNClient({
      endpoint: stack.stepFunctionsEndpoint,
      region: localRegion,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }

  async lists(): Promise<Record<ListKind, ListView>> {
    const views = await Promise.all(listKinds.map((kind) => this.list(kind)));
    return Object.fromEntries(listKinds.map((kind, i) => [kind, views[i]!])) as Record<ListKind, ListView>;
  }

  /** The payment as the API shows it, its saga's executions with their states, and the provider's view of it. */
  async payment(paymentNo: string): Promise<{ status: number; body: unknown }> {
    const payment = await this.api('GET', `/v1/payments/${encodeURIComponent(paymentNo)}`);
    if (payment.status !== 200) return payment;
    const [executions, provider] = await Promise.all([this.executions(paymentNo), this.providerView(paymentNo)]);
    return { status: 200, body: { payment: payment.body, executions, provider } };
  }

  /** The product's API with the demo merchant's key. */
  async api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${this.stack.apiUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.stack.apiKey}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  }

  metrics(): readonly MetricTotal[] {
    return dashboardCounters(this.stack.metricTotals());
  }

  private async list(kind: ListKind): Promise<ListView> {
    const { status, body } = await this.api('GET', `/v1/${kind}?limit=${LIST_LIMIT}`);
    if (status !== 200) return { error: `GET /v1/${kind} answered ${status}` };
    return { rows: ((body as { data: ApiObject[] }).data ?? []).map((item) => rowOf(kind, item)) };
  }

  /** The first execution is named after the payment, each resume adds `-r<n>` (functions/domain/saga-start.ts). */
  private async executions(paymentNo: string) {
    const stateMachineArn = this.stack.templateOutputs['StateMachineArn'];
    if (stateMachineArn === undefined) return [];
    const executions = [];
    for (let resume = 0; resume < MAX_EXECUTIONS_SHOWN; resume++) {
      const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName(paymentNo, resume)}`;
      try {
        const described = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
        const { events = [] } = await this.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, includeExecutionData: false }));
        executions.push({
          name: described.name,
          status: described.status,
          started: described.startDate?.toISOString(),
          stopped: described.stopDate?.toISOString(),
          ...(described.error !== undefined && { error: described.error }),
          events: events.map(historyLine),
        });
      } catch (error) {
        if (error instanceof ExecutionDoesNotExist) break;
        throw error;
      }
    }
    return executions;
  }

  private async providerView(paymentNo: string) {
    const held = await ledger(this.stack.providerUrl);
    const intents = held.paymentIntents.filter((intent) => intent.metadata['payment_no'] === paymentNo);
    const ids = new Set(intents.map((intent) => intent.id));
    return {
      paymentIntents: intents.map(intentLine),
      calls: held.calls.filter((call) => call.paymentIntent !== null && ids.has(call.paymentIntent)).map(callLine),
    };
  }
}

/**
 * The counters the page shows beside the lists: every metric of the dashboard's list
 * (functions/config/metrics.ts), in its order, as the local stack summed what the functions
 * emitted, per route or step where they emit it so; one not emitted yet shows as a zero.
 */
export function dashboardCounters(emitted: readonly MetricTotal[]): readonly MetricTotal[] {
  return Object.values(Metric).flatMap((metric): MetricTotal[] => {
    const totals = emitted.filter((total) => total.name === metric.name);
    return totals.length > 0 ? totals : [{ name: metric.name, dimensions: {}, unit: metric.unit, sum: 0, samples: 0 }];
  });
}

function rowOf(kind: ListKind, item: ApiObject): Row {
  const text = (key: string) => String(item[key] ?? '');
  switch (kind) {
    case 'payments':
      return { id: text('payment_no'), status: text('status'), amount: Number(item['amount']), currency: text('currency'), created: text('created_at') };
    case 'refunds':
      return { id: text('refund_no'), status: text('status'), amount: Number(item['amount']), currency: text('currency'), created: text('created_at') };
    case 'carts':
      return {
        id: text('cart_id'),
        status: text('status'),
        amount: Number((item['totals'] as { price?: number } | undefined)?.price ?? 0),
        currency: text('currency'),
        created: text('created_at'),
      };
    case 'payouts':
      // Stripe's shape: `created` in Unix seconds.
      return { id: text('payout_no'), status: text('status'), amount: Number(item['amount']), currency: text('currency'), created: new Date(Number(item['created']) * 1000).toISOString() };
  }
}

/** One event of a saga's history, as a line of the page: when, what, in which state, with which error. */
function historyLine(event: HistoryEvent) {
  const failure = event.taskFailedEventDetails ?? event.executionFailedEventDetails;
  return {
    at: event.timestamp?.toISOString(),
    type: event.type,
    state: event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name,
    ...(failure !== undefined && { error: failure.error }),
  };
}

function intentLine(intent: PaymentIntentRecord) {
  return {
    id: intent.id,
    status: intent.status,
    amount: intent.amount,
    currency: intent.currency.toUpperCase(),
    card: intent.charge === null ? null : `${intent.charge.card.brand} ${intent.charge.card.last4}`,
    declined: intent.charge?.failureCode ?? null,
    captured: intent.captures.reduce((sum, capture) => sum + capture.amount, 0),
    captures: intent.captures.length,
    canceled: intent.cancellation?.reason ?? (intent.cancellation === null ? null : 'canceled'),
  };
}

function callLine(call: CallRecord) {
  return { at: new Date(call.at * 1000).toISOString(), request: call.request, status: call.status, idempotencyKey: call.idempotencyKey };
}
