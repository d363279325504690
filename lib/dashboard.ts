import { Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ALL_METRICS, type ListedMetric, Metric, type MetricGroup, type MetricName } from '../functions/config/metrics.ts';
import { METRIC_PERIOD, acrossHandlers, customMetric } from './custom-metrics.ts';
import { METRIC_MEANINGS } from './metric-meanings.ts';

/** Each group of the metric list on its own widget, under this title. */
const GROUP_TITLES: Readonly<Record<MetricGroup, string>> = {
  answers: 'Answers by status class, all routes (as the functions answered)',
  keyLayer: 'Key layer: create requests, replays, mismatches, waits, takeovers',
  creations: 'Creations and their replays; saga starts deferred',
  sagaOutcomes: 'Saga outcomes',
  steps: 'Saga steps: succeeded, retried, ended the saga, failed',
  reconciler: 'Reconciler decisions; oldest unfinished payment (right)',
  carts: 'Carts: the sweep, and seats refused sold_out',
  webhooks: 'Events and webhook deliveries',
  ledger: 'Ledger postings and fund releases',
  settlement: 'Settlement statements',
};

const WIDE = { width: 12, height: 6 } as const;
const NARROW = { width: 6, height: 6 } as const;

export interface OperationsDashboardProps {
  readonly api: apigateway.RestApi;
  /** Each state machine, by the title its executions are plotted under. */
  readonly stateMachines: Readonly<Record<string, sfn.IStateMachine>>;
  /** Every function of the stack, in groups of one kind, by group title. */
  readonly functions: Readonly<Record<string, readonly lambda.IFunction[]>>;
  readonly table: dynamodb.Table;
  readonly indexNames: readonly string[];
}

/**
 * The operations dashboard: the product's own metrics (every entry of
 * `functions/config/metrics.ts`, a widget per group), then per route the API's requests,
 * 4xx, 5xx and latency, each state machine's executions, the table's throttles and each
 * function's errors, throttles and concurrency. Routes, state machines and functions come from
 * what the stack built, so a new one is plotted without an edit here.
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** The dashboard in the CloudWatch console. */
  readonly consoleUrl: string;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { periodOverride: cloudwatch.PeriodOverride.AUTO });
    this.dashboard.addWidgets(replayRatioWidget());
    for (const row of groupRows()) this.dashboard.addWidgets(...row);
    this.dashboard.addWidgets(...routeWidgets(props.api));
    this.dashboard.addWidgets(...executionWidgets(props.stateMachines));
    this.dashboard.addWidgets(throttleWidget(props.table, props.indexNames), ...functionWidgets(props.functions));

    const { region } = Stack.of(this);
    this.consoleUrl = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
  }
}

/** A replay among all create requests: duplicates the key layer answered without doing the work twice. */
function replayRatioWidget(): cloudwatch.IWidget {
  const ratio = new cloudwatch.MathExpression({
    expression: '100 * replays / requests',
    usingMetrics: {
      replays: acrossHandlers(Metric.IdempotentReplay, 'Sum', 'SUM'),
      requests: acrossHandlers(Metric.IdempotentRequest, 'Sum', 'SUM'),
    },
    label: 'Replay ratio (%)',
    period: METRIC_PERIOD,
  });
  return new cloudwatch.GraphWidget({ title: 'Replay ratio: IdempotentReplay / IdempotentRequest', left: [ratio], leftYAxis: { min: 0, max: 100 }, ...WIDE });
}

/**
 * A row per group of the list: its graph (counts on the left, durations and ages on the right),
 * and beside it what one data point of each of its metrics means.
 */
function groupRows(): cloudwatch.IWidget[][] {
  return (Object.keys(GROUP_TITLES) as MetricGroup[]).map((group) => {
    const metrics = ALL_METRICS.filter((metric) => metric.group === group);
    const graph = new cloudwatch.GraphWidget({
      title: GROUP_TITLES[group],
      left: metrics.filter((m) => m.unit === 'Count').map((m) => plotted(m, 'Sum')),
      right: metrics.filter((m) => m.unit !== 'Count').flatMap((m) => (m.unit === 'Milliseconds' ? ['p50', 'p99'] : ['Maximum']).map((s) => plotted(m, s))),
      ...WIDE,
    });
    const meanings = new cloudwatch.TextWidget({
      markdown: metrics.map((m) => `**${m.name}**: ${METRIC_MEANINGS[m.name as MetricName]}`).join('\n\n'),
      background: cloudwatch.TextWidgetBackground.TRANSPARENT,
      ...WIDE,
    });
    return [graph, meanings];
  });
}

/** A metric of the list over all its emitters: summed for a count, the worst route or step for a duration. */
function plotted(metric: ListedMetric, statistic: string): cloudwatch.IMetric {
  if (metric.scope === 'service') return customMetric(metric, statistic).with({ label: metric.name });
  return acrossHandlers(metric, statistic, statistic === 'Sum' ? 'SUM' : 'MAX');
}

/**
 * Per method and resource: requests, API Gateway's 4xx and 5xx (its own refusals included) and
 * latency. These dimensions exist only with the stage's detailed metrics (lib/payments-api.ts).
 */
function routeWidgets(api: apigateway.RestApi): cloudwatch.IWidget[] {
  return api.methods.map((method) => {
    const metric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiName: api.restApiName, Method: method.httpMethod, Resource: method.resource.path, Stage: api.deploymentStage.stageName },
        statistic,
        period: METRIC_PERIOD,
        label: statistic === 'Sum' ? metricName : `${metricName} ${statistic}`,
      });
    return new cloudwatch.GraphWidget({
      title: `${method.httpMethod} ${method.resource.path}`,
      left: [metric('Count', 'Sum'), metric('4XXError', 'Sum'), metric('5XXError', 'Sum')],
      right: [metric('Latency', 'p50'), metric('Latency', 'p99')],
      ...NARROW,
    });
  });
}

/** Per state machine its executions; and the account's state transitions, which every state machine shares (docs/capacity.md). */
function executionWidgets(stateMachines: Readonly<Record<string, sfn.IStateMachine>>): cloudwatch.IWidget[] {
  return [
    ...Object.entries(stateMachines).map(
      ([title, machine]) =>
        new cloudwatch.GraphWidget({
          title: `${title}: executions`,
          left: [
            machine.metricStarted({ period: METRIC_PERIOD, label: 'ExecutionsStarted' }),
            machine.metricFailed({ period: METRIC_PERIOD, label: 'ExecutionsFailed' }),
            machine.metricTimedOut({ period: METRIC_PERIOD, label: 'ExecutionsTimedOut' }),
            machine.metricThrottled({ period: METRIC_PERIOD, label: 'ExecutionThrottled' }),
          ],
          ...NARROW,
        }),
    ),
    new cloudwatch.GraphWidget({
      title: 'Step Functions: state transitions of the account',
      left: [
        sfn.StateTransitionMetric.metricConsumedCapacity({ period: METRIC_PERIOD, label: 'ConsumedCapacity' }),
        sfn.StateTransitionMetric.metricProvisionedRefillRate({ period: METRIC_PERIOD, label: 'ProvisionedRefillRate' }),
      ],
      right: [sfn.StateTransitionMetric.metricThrottledEvents({ period: METRIC_PERIOD, label: 'ThrottledEvents' })],
      ...WIDE,
    }),
  ];
}

/** Requests refused for throughput, by operation; and throttle events on the table and each index (a throttled index write throttles the table's). */
function throttleWidget(table: dynamodb.Table, indexNames: readonly string[]): cloudwatch.IWidget {
  const events = (index?: string) =>
    ['ReadThrottleEvents', 'WriteThrottleEvents'].map((name) =>
      table.metric(name, {
        statistic: 'Sum',
        period: METRIC_PERIOD,
        label: `${name}${index === undefined ? '' : ` ${index}`}`,
        ...(index !== undefined && { dimensionsMap: { TableName: table.tableName, GlobalSecondaryIndexName: index } }),
      }),
    );
  return new cloudwatch.GraphWidget({
    title: 'DynamoDB throttles',
    left: [table.metricThrottledRequestsForOperations({ period: METRIC_PERIOD, label: 'ThrottledRequests' }), ...events()],
    right: indexNames.flatMap((index) => events(index)),
    ...WIDE,
  });
}

/** Per group of functions: errors, throttles, concurrency; and the account's concurrency, which every function shares. */
function functionWidgets(groups: Readonly<Record<string, readonly lambda.IFunction[]>>): cloudwatch.IWidget[] {
  const perFunction = (title: string, functions: readonly lambda.IFunction[], metric: (fn: lambda.IFunction) => cloudwatch.Metric) =>
    new cloudwatch.GraphWidget({ title, left: functions.map((fn) => metric(fn).with({ label: fn.node.id })), ...NARROW });
  return [
    new cloudwatch.GraphWidget({
      title: 'Lambda: concurrency of the account',
      left: [
        lambda.Function.metricAllConcurrentExecutions({ statistic: 'Maximum', period: METRIC_PERIOD }),
        lambda.Function.metricAllUnreservedConcurrentExecutions({ statistic: 'Maximum', period: METRIC_PERIOD }),
      ],
      ...WIDE,
    }),
    ...Object.entries(groups).flatMap(([group, functions]) => [
      perFunction(`${group}: errors`, functions, (fn) => fn.metricErrors({ period: METRIC_PERIOD })),
      perFunction(`${group}: throttles`, functions, (fn) => fn.metricThrottles({ period: METRIC_PERIOD })),
      perFunction(`${group}: concurrency`, functions, (fn) => fn.metric('ConcurrentExecutions', { statistic: 'Maximum', period: METRIC_PERIOD })),
    ]),
  ];
}
