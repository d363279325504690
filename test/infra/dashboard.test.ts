/**
 * The operations dashboard (lib/dashboard.ts), read from its body in the template: it plots
 * every custom metric of the one list (`functions/config/metrics.ts`) and nothing else, each
 * under the dimensions its emitter uses; every metric of the list is emitted by some function;
 * and it plots every route, state machine, function and index the template holds. Each check
 * is a function that lists what it finds wrong, so that the same function, given a list with
 * a metric removed or a body with a widget removed, is seen to fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../functions/catalog.ts';
import { ALL_METRICS, type CustomMetric, METRICS_NAMESPACE, Metric, type MetricName, SERVICE_NAME } from '../../functions/config/metrics.ts';
import { PROJECT_ROOT } from '../../lib/bundling/build.ts';
import { METRIC_MEANINGS } from '../../lib/metric-meanings.ts';
import { API_STAGE_NAME } from '../../lib/payments-api.ts';
import { resolveIntrinsics, synthesize, type Synthesized } from './synth.ts';

interface Widget {
  readonly type: string;
  readonly properties: { readonly title?: string; readonly metrics?: readonly unknown[][]; readonly markdown?: string };
}
interface DashboardBody {
  readonly widgets: readonly Widget[];
}

/** A metric a widget plots: namespace, name and dimensions (`Ref`s as `ref:<logical id>`). */
interface Plotted {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat?: string;
  readonly widget: string;
}

/** A custom metric the body plots: by name, and the scope its dimensions say it has. */
interface PlottedCustom {
  readonly name: string;
  readonly scope: string;
}

let synth: Synthesized;
let body: DashboardBody;
beforeAll(() => {
  synth = synthesize();
  const dashboards = Object.values(synth.template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  body = JSON.parse(resolveIntrinsics(dashboards[0]!.Properties.DashboardBody) as string) as DashboardBody;
});

/** Every plain metric of the body (`[namespace, name, dim, value, ..., {options}]`). */
function plottedMetrics(dashboard: DashboardBody): Plotted[] {
  return dashboard.widgets.flatMap((widget) =>
    (widget.properties.metrics ?? [])
      .filter((row) => typeof row[0] === 'string')
      .map((row) => {
        const options = (typeof row.at(-1) === 'object' ? row.at(-1) : {}) as { stat?: string };
        const [namespace, name, ...rest] = row.filter((cell) => typeof cell === 'string') as string[];
        const dimensions = Object.fromEntries(Array.from({ length: rest.length / 2 }, (_, i) => [rest[2 * i], rest[2 * i + 1]]));
        return { namespace: namespace!, name: name!, dimensions, stat: options.stat, widget: widget.properties.title ?? '' };
      }),
  );
}

/** Every expression of the body. */
function expressionsOf(dashboard: DashboardBody): string[] {
  return dashboard.widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).flatMap((row) => row.flatMap((cell) => ((cell as { expression?: string })?.expression ?? []))),
  );
}

const SEARCH = /SEARCH\('\{([^}]*)\} MetricName="([^"]+)"/g;

/** The custom metrics the body plots, from its plain metrics and its searches. */
function plottedCustomMetrics(dashboard: DashboardBody): PlottedCustom[] {
  const plain = plottedMetrics(dashboard)
    .filter((metric) => metric.namespace === METRICS_NAMESPACE)
    .map(({ name, dimensions }) => ({ name, scope: Object.keys(dimensions).find((d) => d !== 'service') ?? 'service' }));
  const searched = expressionsOf(dashboard).flatMap((expression) =>
    [...expression.matchAll(SEARCH)]
      .filter(([, schema]) => schema!.split(',')[0] === METRICS_NAMESPACE)
      .map(([, schema, name]) => ({ name: name!, scope: schema!.split(',').slice(1).find((d) => d !== 'service') ?? 'service' })),
  );
  return [...plain, ...searched];
}

/** Custom metrics the body plots that are not in the list, or not under their emitter's dimensions. */
function plottedOutsideTheList(dashboard: DashboardBody, list: readonly CustomMetric[]): string[] {
  const scopeOf = new Map(list.map((metric) => [metric.name, metric.scope]));
  return plottedCustomMetrics(dashboard)
    .filter(({ name, scope }) => scopeOf.get(name) !== scope)
    .map(({ name, scope }) => `${name} (${scope})`);
}

/** Metrics of the list the body does not plot. */
function unplotted(dashboard: DashboardBody, list: readonly CustomMetric[]): string[] {
  const plotted = new Set(plottedCustomMetrics(dashboard).map(({ name }) => name));
  return list.filter((metric) => !plotted.has(metric.name)).map((metric) => metric.name);
}

/**
 * Metrics the body plots whose meaning is not beside them: a graph's metrics are explained by the
 * text widget that follows it on its row, one `**<name>**: <meaning>` each. The replay ratio
 * divides two metrics of the key layer, explained on its row.
 */
function unexplained(dashboard: DashboardBody): string[] {
  return dashboard.widgets.flatMap((widget, i) => {
    if (/^Replay ratio/.test(widget.properties.title ?? '')) return [];
    const next = dashboard.widgets[i + 1];
    const markdown = next?.type === 'text' ? (next.properties.markdown ?? '') : '';
    const names = new Set(plottedCustomMetrics({ widgets: [widget] }).map(({ name }) => name));
    return [...names].filter((name) => !markdown.includes(`**${name}**: ${METRIC_MEANINGS[name as MetricName]}`));
  });
}

/** Every TypeScript source under `functions/` but the list itself, by path. */
function functionSources(): Map<string, string> {
  const root = path.join(PROJECT_ROOT, 'functions');
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts') && file !== path.join('config', 'metrics.ts'));
  return new Map(files.map((file) => [file, readFileSync(path.join(root, file), 'utf8')]));
}

/**
 * Metrics of the list no function emits. The emitters accept only entries of the list
 * (`ScopedMetrics.add`), so an entry is emitted where the source names it, `Metric.<name>`;
 * the compiler cannot tell that an entry is used at all, which this scan does.
 */
function unemitted(list: readonly CustomMetric[], sources: ReadonlyMap<string, string>): string[] {
  const named = new Set([...sources.values()].flatMap((source) => [...source.matchAll(/\bMetric\.(\w+)/g)].map(([, name]) => name)));
  return list.filter((metric) => !named.has(metric.name)).map((metric) => metric.name);
}

/** What must be plotted for each of `subjects`, found missing: each subject is a set of dimensions and the metrics (`name stat`) wanted under it. */
function missing(dashboard: DashboardBody, namespace: string, subjects: readonly Readonly<Record<string, string>>[], wanted: readonly string[]): string[] {
  const plotted = plottedMetrics(dashboard).filter((metric) => metric.namespace === namespace);
  const matches = (dimensions: Readonly<Record<string, string>>, subject: Readonly<Record<string, string>>) =>
    Object.keys(dimensions).length === Object.keys(subject).length && Object.entries(subject).every(([key, value]) => dimensions[key] === value);
  return subjects.flatMap((subject) =>
    wanted
      .filter((want) => !plotted.some((metric) => matches(metric.dimensions, subject) && `${metric.name} ${metric.stat}` === want))
      .map((want) => `${JSON.stringify(subject)} ${want}`),
  );
}

const ROUTE_METRICS = ['Count Sum', '4XXError Sum', '5XXError Sum', 'Latency p50', 'Latency p99'];
const EXECUTION_METRICS = ['ExecutionsStarted Sum', 'ExecutionsFailed Sum', 'ExecutionsTimedOut Sum', 'ExecutionThrottled Sum'];
const FUNCTION_METRICS = ['Errors Sum', 'Throttles Sum', 'ConcurrentExecutions Maximum'];

function routeSubjects(): Record<string, string>[] {
  const [api] = Object.values(synth.template.findResources('AWS::ApiGateway::RestApi'));
  const [stageId] = Object.keys(synth.template.findResources('AWS::ApiGateway::Stage'));
  return apiRoutes.map((route) => ({ ApiName: api!.Properties.Name, Method: route.method, Resource: route.path, Stage: `ref:${stageId}` }));
}

const refsOf = (type: string, dimension: string) =>
  Object.keys(synth.template.findResources(type)).map((logicalId) => ({ [dimension]: `ref:${logicalId}` }));

/** The body without the widgets whose title matches. */
const withoutWidgets = (dashboard: DashboardBody, title: RegExp): DashboardBody => ({
  widgets: dashboard.widgets.filter((widget) => !title.test(widget.properties.title ?? '')),
});

describe('operations dashboard: the custom metrics', () => {
  it('plots every metric of the list, each under the dimensions its emitter adds, and no other', () => {
    // Act
    const outside = plottedOutsideTheList(body, ALL_METRICS);
    const absent = unplotted(body, ALL_METRICS);

    // Assess
    expect(outside).toEqual([]);
    expect(absent).toEqual([]);
    expect(plottedCustomMetrics(body).length).toBeGreaterThanOrEqual(ALL_METRICS.length);
  });

  it('finds a plotted metric that the list no longer holds', () => {
    // Prepare
    const list = ALL_METRICS.filter((metric) => metric !== Metric.IdempotentReplay);

    // Act
    const outside = plottedOutsideTheList(body, list);

    // Assess: the key layer widget and the replay ratio both plot it.
    expect(outside).toEqual(['IdempotentReplay (route)', 'IdempotentReplay (route)']);
  });

  it('finds a metric plotted under dimensions its emitter does not add', () => {
    // Prepare: the list says the reconciler's runs are counted per route.
    const list = ALL_METRICS.map((metric) => (metric === Metric.ReconcileRuns ? { ...metric, scope: 'route' as const } : metric));

    // Act
    const outside = plottedOutsideTheList(body, list);

    // Assess
    expect(outside).toEqual(['ReconcileRuns (service)']);
  });

  it('finds a metric of the list that no widget plots', () => {
    // Prepare
    const dashboard = withoutWidgets(body, /^Saga outcomes$/);

    // Act
    const absent = unplotted(dashboard, ALL_METRICS);

    // Assess
    expect(absent).toEqual(['PaymentSucceeded', 'PaymentFailed', 'RefundSucceeded', 'RefundFailed', 'PayoutPaid', 'PayoutFailed']);
  });

  it('says beside each graph of the list what one data point of each of its metrics means', () => {
    // Act
    const silent = unexplained(body);

    // Assess
    expect(silent).toEqual([]);
  });

  it('finds a graph whose metrics have no meaning beside them', () => {
    // Prepare: the body without the text beside the saga outcomes.
    const outcomes = body.widgets.findIndex((widget) => widget.properties.title === 'Saga outcomes');
    const dashboard = { widgets: body.widgets.filter((_, i) => i !== outcomes + 1) };

    // Act
    const silent = unexplained(dashboard);

    // Assess
    expect(silent).toEqual(['PaymentSucceeded', 'PaymentFailed', 'RefundSucceeded', 'RefundFailed', 'PayoutPaid', 'PayoutFailed']);
  });

  it('holds only metrics that some function emits', () => {
    // Act
    const never = unemitted(ALL_METRICS, functionSources());

    // Assess
    expect(never).toEqual([]);
  });

  it('finds a metric of the list that no function emits any more', () => {
    // Prepare: the sources without the one handler that counts seats refused.
    const sources = functionSources();
    sources.delete(path.join('handlers', 'api', 'carts', 'add-item.ts'));

    // Act
    const never = unemitted(ALL_METRICS, sources);

    // Assess
    expect(never).toEqual([Metric.SoldOut.name]);
  });

  it('is emitted only through the typed emitter, never by a name written at the call', () => {
    // Act
    const direct = [...functionSources()].filter(([, source]) => /\.addMetric\(/.test(source)).map(([file]) => file);

    // Assess
    expect(direct).toEqual([path.join('handlers', 'shared', 'observability.ts')]);
  });

  it('plots the replay ratio as replays over create requests', () => {
    // Act
    const expressions = expressionsOf(body);

    // Assess
    expect(expressions).toContain('100 * replays / requests');
    expect(expressions.some((e) => e.includes(`MetricName="${Metric.IdempotentReplay.name}" service="${SERVICE_NAME}"`))).toBe(true);
  });
});

describe('operations dashboard: the AWS metrics', () => {
  it('plots each route of the API: requests, 4xx, 5xx and latency p50 and p99', () => {
    // Act
    const absent = missing(body, 'AWS/ApiGateway', routeSubjects(), ROUTE_METRICS);

    // Assess
    expect(absent).toEqual([]);
    expect(routeSubjects()).toHaveLength(apiRoutes.length);
  });

  it("finds a route whose widget is gone", () => {
    // Prepare
    const dashboard = withoutWidgets(body, /^POST \/v1\/payments$/);

    // Act
    const absent = missing(dashboard, 'AWS/ApiGateway', routeSubjects(), ROUTE_METRICS);

    // Assess
    expect(absent).toHaveLength(ROUTE_METRICS.length);
    expect(absent.every((line) => line.includes('"Method":"POST","Resource":"/v1/payments"'))).toBe(true);
  });

  it('turns on the stage\'s detailed metrics, without which API Gateway reports no method or resource', () => {
    // Act
    const [stage] = Object.values(synth.template.findResources('AWS::ApiGateway::Stage'));

    // Assess
    expect(stage?.Properties.StageName).toBe(API_STAGE_NAME);
    expect(stage?.Properties.MethodSettings).toEqual([expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', MetricsEnabled: true })]);
  });

  it('plots the executions started, failed, timed out and throttled of every state machine', () => {
    // Prepare
    const machines = refsOf('AWS::StepFunctions::StateMachine', 'StateMachineArn');

    // Act
    const absent = missing(body, 'AWS/States', machines, EXECUTION_METRICS);

    // Assess
    expect(machines).toHaveLength(4);
    expect(absent).toEqual([]);
  });

  it("plots every function's errors, throttles and concurrency", () => {
    // Prepare
    const functions = refsOf('AWS::Lambda::Function', 'FunctionName');

    // Act
    const absent = missing(body, 'AWS/Lambda', functions, FUNCTION_METRICS);

    // Assess
    expect(absent).toEqual([]);
  });

  it('finds a function the dashboard does not plot', () => {
    // Prepare: a function the stack would hold besides those it groups.
    const functions = [...refsOf('AWS::Lambda::Function', 'FunctionName'), { FunctionName: 'ref:NewFunction' }];

    // Act
    const absent = missing(body, 'AWS/Lambda', functions, FUNCTION_METRICS);

    // Assess
    expect(absent).toEqual(FUNCTION_METRICS.map((want) => `{"FunctionName":"ref:NewFunction"} ${want}`));
  });

  it("plots the table's throttled requests, and the throttle events of the table and of each index", () => {
    // Prepare
    const [tableId, table] = Object.entries(synth.template.findResources('AWS::DynamoDB::Table'))[0]!;
    const tableRef = `ref:${tableId}`;
    const indexes = (table!.Properties.GlobalSecondaryIndexes as { IndexName: string }[]).map(({ IndexName }) => ({ TableName: tableRef, GlobalSecondaryIndexName: IndexName }));
    const events = ['ReadThrottleEvents Sum', 'WriteThrottleEvents Sum'];

    // Act
    const absent = [
      ...missing(body, 'AWS/DynamoDB', [{ TableName: tableRef }, ...indexes], events),
      ...missing(body, 'AWS/DynamoDB', ['PutItem', 'UpdateItem', 'GetItem', 'Query', 'TransactWriteItems'].map((Operation) => ({ TableName: tableRef, Operation })), ['ThrottledRequests Sum']),
    ];

    // Assess
    expect(indexes).toHaveLength(2);
    expect(absent).toEqual([]);
  });

  it("outputs the dashboard's console URL", () => {
    // Act
    const url = resolveIntrinsics(synth.template.toJSON().Outputs.DashboardUrl.Value) as string;

    // Assess
    expect(url).toMatch(/^https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#dashboards:name=ref:\w+$/);
  });
});
