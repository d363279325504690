/**
 * What a cloud assembly asks the local stack to run, read from its template: the functions
 * (bundle, handler, limits, resolved environment, role), the REST API's routes and
 * authorizers, the state machines with the function each Task invokes, the tables, secrets,
 * schedules, and the roles with their policies. Every resource type is either hosted or
 * deliberately ignored (each with its reason below); any other is a startup error.
 */
import type { CloudAssembly } from './cloud-assembly.ts';
import { type GatewayResponses, gatewayResponsesOf } from '../services/gateway-responses.ts';
import {
  type CfnResource,
  type CfnTemplate,
  UnsupportedTemplateError,
  localNameOf,
  resolveString,
  rootResourceIdOf,
} from './intrinsics.ts';
import { functionNameOfArn, localFunctionArn, localStateMachineArn } from './local-account.ts';
import { invokedFunctionOf, stateMachineDefinitions, taskStates } from './state-machine-definition.ts';

/** The resource types the local stack runs, and what it makes of each. */
export const HOSTED_TYPES: Readonly<Record<string, string>> = {
  'AWS::Lambda::Function': 'runs its bundle from the asset directory, in isolated instances (local/lambda/)',
  'AWS::IAM::Role': "each function's instances get its credentials; the IAM proxy evaluates its policies (local/iam/)",
  'AWS::IAM::Policy': 'evaluated by the IAM proxy, for the roles it is attached to',
  'AWS::Lambda::Permission': 'evaluated before the schedule invokes its target',
  'AWS::DynamoDB::Table': 'created in DynamoDB Local with its indexes and TTL',
  'AWS::SecretsManager::Secret': 'served by the local Secrets Manager; the one the functions read as STRIPE_SECRET_ARN holds the local test key',
  'AWS::StepFunctions::StateMachine': 'run by the local Step Functions, each Task invoking the function its Resource names',
  'AWS::ApiGateway::RestApi': 'served by the local API Gateway',
  'AWS::ApiGateway::Resource': 'a path of the local API',
  'AWS::ApiGateway::Method': 'a route of the local API, to the function its integration URI names',
  'AWS::ApiGateway::Authorizer': 'a TOKEN authorizer: its function, identity source and result TTL',
  'AWS::ApiGateway::GatewayResponse': "the local API's own answers (401, 403, 413, 5xx)",
  'AWS::ApiGateway::Stage': 'its name, in the events the functions receive',
  'AWS::Events::Rule': 'its rate schedule invokes its targets',
  'AWS::Lambda::EventSourceMapping': "a table's stream, polled and delivered to its function as Lambda does (local/services/streams-poller.ts)",
  'AWS::SQS::Queue': 'the on-failure destination of a stream mapping: the streams poller keeps what it sends there (`stack.streamFailures()`)',
};

/** The resource types the local stack skips on purpose: each has no meaning on one machine. */
export const IGNORED_TYPES: Readonly<Record<string, string>> = {
  'AWS::ApiGateway::Deployment': 'the local API serves the template as it is: nothing to deploy',
  'AWS::Logs::LogGroup': 'the Lambda host keeps each function’s log itself; retention means nothing locally',
  'AWS::CloudWatch::Alarm': 'no metrics are collected locally, so no alarm could fire',
  'AWS::CloudWatch::Dashboard': 'no metrics are collected locally, so it would plot nothing',
  'AWS::SNS::Topic': 'only the alarms notify it',
  'AWS::SNS::TopicPolicy': 'who may publish to the alarms topic, which nothing notifies locally',
  'AWS::ApiGateway::Account': "the account's role API Gateway writes its logs with: the local API keeps no logs in CloudWatch",
  'AWS::CDK::Metadata': 'CDK’s record of the app, for AWS’s statistics',
  'AWS::SQS::QueuePolicy': 'who may use the on-failure queue over which transport: the poller alone writes to it locally',
};

export interface LocalFunction {
  readonly logicalId: string;
  /** Its name (`FunctionName`, else the logical id), as `AWS_LAMBDA_FUNCTION_NAME` shows it. */
  readonly name: string;
  /** The construct's id in the CDK app (`CreatePayment`, `Reconciler`), from its metadata; else the logical id. */
  readonly constructId: string;
  readonly arn: string;
  /** The directory its bundle was synthesized into (what `cdk deploy` zips and uploads). */
  readonly codeDir: string;
  /** `index.handler`: the module (in `codeDir`) and its export. */
  readonly handler: string;
  readonly runtime: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: number;
  /** `Environment.Variables`, resolved against the local resources. */
  readonly environment: Readonly<Record<string, string>>;
  /** The logical id of the role it runs as. */
  readonly roleLogicalId: string;
}

export interface LocalAuthorizer {
  readonly logicalId: string;
  readonly functionLogicalId: string;
  /** The request header it takes the token from (`IdentitySource: method.request.header.<Name>`). */
  readonly identityHeader: string;
  readonly resultTtlSeconds: number;
}

export interface LocalRouteSpec {
  readonly method: string;
  /** `/v1/payments/{payment_no}`: the resources' path parts from the API's root. */
  readonly path: string;
  readonly functionLogicalId: string;
  readonly authorizerLogicalId?: string;
}

export interface LocalApi {
  readonly logicalId: string;
  readonly stageName: string;
  readonly routes: readonly LocalRouteSpec[];
  readonly authorizers: readonly LocalAuthorizer[];
  readonly gatewayResponses: GatewayResponses;
}

export interface LocalStateMachineSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly definition: Record<string, unknown>;
  /** Task state → the logical id of the function it invokes. */
  readonly tasks: Readonly<Record<string, string>>;
  /** The role it runs as. */
  readonly roleArn?: string;
}

export interface LocalSchedule {
  readonly logicalId: string;
  readonly everyMs: number;
  /** What each run invokes, with the event EventBridge sends (`Input`, when the target sets one). */
  readonly targets: readonly { readonly functionLogicalId: string; readonly input?: unknown }[];
}

/** A stream event source mapping, as the streams poller runs it. */
export interface LocalStreamMapping {
  readonly logicalId: string;
  readonly functionLogicalId: string;
  /** The table whose stream it reads, and that stream's ARN as the template names it (for IAM). */
  readonly tableLogicalId: string;
  readonly streamArn: string;
  readonly batchSize: number;
  readonly bisectBatchOnFunctionError: boolean;
  /** Retries of a failed batch before its records are sent to the on-failure destination; -1: until they expire. */
  readonly maximumRetryAttempts: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** `FilterCriteria.Filters[].Pattern`, parsed: a record passes if it matches any (all pass when there is none). */
  readonly filters: readonly FilterPattern[];
  /** The logical id of the queue failed batches go to. */
  readonly onFailureQueueLogicalId?: string;
}

/** Lambda's event filter pattern: nested keys down to a list of the values accepted. */
export type FilterPattern = { readonly [key: string]: FilterPattern | readonly (string | number)[] };

export interface LocalResources {
  readonly template: CfnTemplate;
  readonly functions: readonly LocalFunction[];
  readonly api?: LocalApi;
  readonly stateMachines: readonly LocalStateMachineSpec[];
  readonly schedules: readonly LocalSchedule[];
  readonly streamMappings: readonly LocalStreamMapping[];
  /** The template's outputs, resolved against the local resources. */
  readonly outputs: Readonly<Record<string, string>>;
}

/** Lambda's defaults, for a function that does not set them. */
const DEFAULT_MEMORY_MB = 128;
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_AUTHORIZER_TTL_SECONDS = 300;

/** The template's parameter `cdk synth` adds to check the bootstrap stack's version on deploy. */
const CDK_BOOTSTRAP_PARAMETER = 'BootstrapVersion';

/** Everything the local stack runs from `assembly`; throws {@link UnsupportedTemplateError} for what it cannot run. */
export function readResources(assembly: CloudAssembly): LocalResources {
  const { template } = assembly;
  refuseWhatCannotBeHosted(template);
  const resources = Object.entries(template.Resources ?? {});
  const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);

  const functions = ofType('AWS::Lambda::Function').map(([logicalId, resource]) => readFunction(assembly, logicalId, resource));
  const functionByArn = (arnOrName: string, where: string): string => {
    const name = functionNameOfArn(arnOrName);
    const found = functions.find((fn) => fn.name === name);
    if (found === undefined) throw new UnsupportedTemplateError(`${where}: ${arnOrName} names no function of the template`);
    return found.logicalId;
  };

  const apis = ofType('AWS::ApiGateway::RestApi');
  if (apis.length > 1) throw new UnsupportedTemplateError(`the local stack serves one REST API; the template has ${apis.length}`);

  return {
    template,
    functions,
    ...(apis[0] !== undefined && { api: readApi(template, apis[0][0], functionByArn) }),
    stateMachines: stateMachineDefinitions(template).map(({ logicalId, stateMachineName, definition }) => {
      const tasks: Record<string, string> = {};
      for (const [state, task] of taskStates(definition)) {
        const where = `${logicalId} Task ${state}`;
        const invoked = invokedFunctionOf(task);
        if (invoked === undefined) throw new UnsupportedTemplateError(`${where}: ${String(task['Resource'])} is no Lambda function; only those run locally`);
        tasks[state] = functionByArn(invoked, where);
      }
      const role = template.Resources?.[logicalId]?.Properties?.['RoleArn'];
      return {
        logicalId,
        name: stateMachineName,
        arn: localStateMachineArn(stateMachineName),
        definition,
        tasks,
        ...(role !== undefined && { roleArn: resolveString(template, role, `${logicalId}.RoleArn`) }),
      };
    }),
    schedules: ofType('AWS::Events::Rule').flatMap(([logicalId, resource]) => readSchedule(template, logicalId, resource, functionByArn)),
    streamMappings: streamMappingsOf(template),
    outputs: Object.fromEntries(
      Object.entries(template.Outputs ?? {}).map(([name, output]) => [name, resolveString(template, output.Value, `Outputs.${name}`)]),
    ),
  };
}

function refuseWhatCannotBeHosted(template: CfnTemplate): void {
  const unknown = Object.entries(template.Resources ?? {}).filter(([, resource]) => !(resource.Type in HOSTED_TYPES || resource.Type in IGNORED_TYPES));
  if (unknown.length > 0) {
    throw new UnsupportedTemplateError(
      `the local stack cannot host ${unknown.map(([id, resource]) => `${resource.Type} (${id})`).join(', ')}. ` +
        `It hosts ${Object.keys(HOSTED_TYPES).join(', ')}; it ignores, having no local meaning, ${Object.keys(IGNORED_TYPES).join(', ')}`,
    );
  }
  const conditional = Object.entries(template.Resources ?? {}).filter(([, resource]) => resource.Condition !== undefined);
  if (Object.keys(template.Conditions ?? {}).length > 0 || conditional.length > 0) {
    throw new UnsupportedTemplateError('the local stack does not evaluate template Conditions');
  }
  const parameters = Object.keys(template.Parameters ?? {}).filter((name) => name !== CDK_BOOTSTRAP_PARAMETER);
  if (parameters.length > 0) throw new UnsupportedTemplateError(`the local stack takes no parameter values: ${parameters.join(', ')}`);
}

function readFunction(assembly: CloudAssembly, logicalId: string, resource: CfnResource): LocalFunction {
  const { template } = assembly;
  const properties = resource.Properties ?? {};
  const where = (property: string) => `${logicalId}.${property}`;
  for (const property of ['Layers', 'ImageConfig', 'FileSystemConfigs', 'SnapStart']) {
    if (properties[property] !== undefined) throw new UnsupportedTemplateError(`${where(property)}: not run locally`);
  }
  const runtime = resolveString(template, properties['Runtime'], where('Runtime'));
  if (!runtime.startsWith('nodejs')) throw new UnsupportedTemplateError(`${where('Runtime')}: ${runtime}; the local stack runs Node.js functions only`);
  const code = (properties['Code'] ?? {}) as Record<string, unknown>;
  if (code['S3Key'] === undefined) throw new UnsupportedTemplateError(`${where('Code')}: only a bundle uploaded as an asset (S3Key) runs locally`);
  const variables = ((properties['Environment'] as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
  const name = localNameOf(template, logicalId);
  const cdkPath = resource.Metadata?.['aws:cdk:path'];
  const reserved = properties['ReservedConcurrentExecutions'];
  return {
    logicalId,
    name,
    constructId: typeof cdkPath === 'string' ? (cdkPath.split('/').at(-2) ?? logicalId) : logicalId,
    arn: localFunctionArn(name),
    codeDir: assembly.assetDir(resolveString(template, code['S3Key'], where('Code.S3Key')), where('Code')),
    handler: resolveString(template, properties['Handler'], where('Handler')),
    runtime,
    memoryMb: Number(properties['MemorySize'] ?? DEFAULT_MEMORY_MB),
    timeoutSeconds: Number(properties['Timeout'] ?? DEFAULT_TIMEOUT_SECONDS),
    ...(reserved !== undefined && { reservedConcurrency: Number(reserved) }),
    environment: Object.fromEntries(
      Object.entries(variables).map(([variable, value]) => [variable, resolveString(template, value, where(`Environment.Variables.${variable}`))]),
    ),
    roleLogicalId: getAttTarget(properties['Role'], where('Role')),
  };
}

/** The logical id an `Fn::GetAtt [id, Arn]` points at: how the template names a role or a function it made. */
function getAttTarget(value: unknown, where: string): string {
  const getAtt = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  const target = typeof getAtt === 'string' ? getAtt.split('.')[0] : Array.isArray(getAtt) ? getAtt[0] : undefined;
  if (typeof target !== 'string') throw new UnsupportedTemplateError(`${where}: only a resource of the template (Fn::GetAtt) is supported locally`);
  return target;
}

/** The function an API Gateway Lambda URI invokes: `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`. */
function functionOfUri(uri: string, where: string): string {
  const arn = /:lambda:path\/2015-03-31\/functions\/(.+)\/invocations$/.exec(uri)?.[1];
  if (arn === undefined) throw new UnsupportedTemplateError(`${where}: ${uri} invokes no Lambda function`);
  return arn;
}

function readApi(template: CfnTemplate, restApiLogicalId: string, functionByArn: (arn: string, where: string) => string): LocalApi {
  const entries = Object.entries(template.Resources ?? {});
  const ofType = (type: string) => entries.filter(([, resource]) => resource.Type === type);
  const properties = (resource: CfnResource) => resource.Properties ?? {};
  const text = (value: unknown, where: string) => resolveString(template, value, where);

  const paths = new Map<string, string>([[rootResourceIdOf(restApiLogicalId), '']]);
  const pathOf = (resourceId: string, where: string): string => {
    const known = paths.get(resourceId);
    if (known !== undefined) return known;
    const resource = template.Resources?.[resourceId];
    if (resource?.Type !== 'AWS::ApiGateway::Resource') throw new UnsupportedTemplateError(`${where}: ${resourceId} is no resource of the API`);
    const own = `${pathOf(text(properties(resource)['ParentId'], `${resourceId}.ParentId`), resourceId)}/${text(properties(resource)['PathPart'], `${resourceId}.PathPart`)}`;
    paths.set(resourceId, own);
    return own;
  };

  const authorizers = ofType('AWS::ApiGateway::Authorizer').map(([logicalId, resource]): LocalAuthorizer => {
    const { Type, IdentitySource, AuthorizerUri, AuthorizerResultTtlInSeconds, IdentityValidationExpression } = properties(resource);
    if (Type !== 'TOKEN' || IdentityValidationExpression !== undefined) {
      throw new UnsupportedTemplateError(`${logicalId}: only TOKEN authorizers without an IdentityValidationExpression run locally`);
    }
    const header = /^method\.request\.header\.(.+)$/.exec(text(IdentitySource, `${logicalId}.IdentitySource`))?.[1];
    if (header === undefined) throw new UnsupportedTemplateError(`${logicalId}.IdentitySource: only a request header is supported locally`);
    return {
      logicalId,
      functionLogicalId: functionByArn(functionOfUri(text(AuthorizerUri, `${logicalId}.AuthorizerUri`), logicalId), `${logicalId}.AuthorizerUri`),
      identityHeader: header,
      resultTtlSeconds: Number(AuthorizerResultTtlInSeconds ?? DEFAULT_AUTHORIZER_TTL_SECONDS),
    };
  });

  const routes = ofType('AWS::ApiGateway::Method').map(([logicalId, resource]): LocalRouteSpec => {
    const { HttpMethod, ResourceId, AuthorizationType, AuthorizerId, Integration } = properties(resource);
    const integration = (Integration ?? {}) as Record<string, unknown>;
    if (integration['Type'] !== 'AWS_PROXY') {
      throw new UnsupportedTemplateError(`${logicalId}: only Lambda proxy integrations (AWS_PROXY) run locally, not ${String(integration['Type'])}`);
    }
    const authorization = AuthorizationType ?? 'NONE';
    if (authorization !== 'NONE' && authorization !== 'CUSTOM') {
      throw new UnsupportedTemplateError(`${logicalId}: AuthorizationType ${String(authorization)} is not enforced locally`);
    }
    return {
      method: text(HttpMethod, `${logicalId}.HttpMethod`),
      path: pathOf(text(ResourceId, `${logicalId}.ResourceId`), logicalId) || '/',
      functionLogicalId: functionByArn(functionOfUri(text(integration['Uri'], `${logicalId}.Integration.Uri`), logicalId), `${logicalId}.Integration.Uri`),
      ...(authorization === 'CUSTOM' && { authorizerLogicalId: text(AuthorizerId, `${logicalId}.AuthorizerId`) }),
    };
  });

  const stages = ofType('AWS::ApiGateway::Stage');
  if (stages.length !== 1) throw new UnsupportedTemplateError(`the local API serves one stage; the template has ${stages.length}`);
  return {
    logicalId: restApiLogicalId,
    stageName: localNameOf(template, stages[0]![0]),
    routes,
    authorizers,
    gatewayResponses: gatewayResponsesOf(template),
  };
}

/** `rate(1 minute)`, `rate(5 minutes)`, `rate(1 hour)`, `rate(2 days)`, in milliseconds. */
export function rateMs(expression: string): number | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (match === null) return undefined;
  const unit = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[match[2]!.replace(/s$/, '') as 'minute' | 'hour' | 'day'];
  return Number(match[1]) * unit;
}

function readSchedule(
  template: CfnTemplate,
  logicalId: string,
  resource: CfnResource,
  functionByArn: (arn: string, where: string) => string,
): LocalSchedule[] {
  const { ScheduleExpression, State, Targets, EventPattern } = resource.Properties ?? {};
  if (EventPattern !== undefined || ScheduleExpression === undefined) {
    throw new UnsupportedTemplateError(`${logicalId}: only scheduled rules run locally, not event patterns`);
  }
  if (State === 'DISABLED') return [];
  const expression = resolveString(template, ScheduleExpression, `${logicalId}.ScheduleExpression`);
  const everyMs = rateMs(expression);
  if (everyMs === undefined) throw new UnsupportedTemplateError(`${logicalId}.ScheduleExpression: ${expression}; only rate() schedules run locally`);
  const targets = ((Targets ?? []) as Record<string, unknown>[]).map((target, index) => {
    const where = `${logicalId}.Targets[${index}]`;
    if (target['InputPath'] !== undefined || target['InputTransformer'] !== undefined) {
      throw new UnsupportedTemplateError(`${where}: only a target with no input or a constant Input runs locally`);
    }
    const input = target['Input'];
    return {
      functionLogicalId: functionByArn(resolveString(template, target['Arn'], `${where}.Arn`), `${where}.Arn`),
      ...(input !== undefined && { input: JSON.parse(resolveString(template, input, `${where}.Input`)) as unknown }),
    };
  });
  return [{ logicalId, everyMs, targets }];
}

/** What of an event source mapping the streams poller honours; any other property is refused by name. */
const STREAM_MAPPING_PROPERTIES = new Set([
  'FunctionName',
  'EventSourceArn',
  'BatchSize',
  'BisectBatchOnFunctionError',
  'MaximumRetryAttempts',
  'StartingPosition',
  'FilterCriteria',
  'DestinationConfig',
  'Enabled',
]);

/** The template's event source mappings on a table's stream, as the streams poller (and the simulation) run them. */
export function streamMappingsOf(template: CfnTemplate): LocalStreamMapping[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::EventSourceMapping')
    .flatMap(([logicalId, resource]) => readStreamMapping(template, logicalId, resource));
}

function readStreamMapping(template: CfnTemplate, logicalId: string, resource: CfnResource): LocalStreamMapping[] {
  const properties = resource.Properties ?? {};
  const where = (property: string) => `${logicalId}.${property}`;
  const unknown = Object.keys(properties).filter((property) => !STREAM_MAPPING_PROPERTIES.has(property));
  if (unknown.length > 0) throw new UnsupportedTemplateError(`${logicalId}: the streams poller does not honour ${unknown.join(', ')}`);
  if (properties['Enabled'] === false) return [];
  const source = (properties['EventSourceArn'] as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  const [tableLogicalId, attribute] = Array.isArray(source) ? (source as string[]) : [];
  if (tableLogicalId === undefined || attribute !== 'StreamArn' || template.Resources?.[tableLogicalId]?.Type !== 'AWS::DynamoDB::Table') {
    throw new UnsupportedTemplateError(`${where('EventSourceArn')}: only a table's stream of the template (Fn::GetAtt [table, StreamArn]) is polled locally`);
  }
  const position = properties['StartingPosition'];
  if (position !== 'TRIM_HORIZON' && position !== 'LATEST') throw new UnsupportedTemplateError(`${where('StartingPosition')}: ${String(position)}`);
  const destination = (properties['DestinationConfig'] as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination;
  const queue = destination === undefined ? undefined : getAttTarget(destination, where('DestinationConfig.OnFailure.Destination'));
  if (queue !== undefined && template.Resources?.[queue]?.Type !== 'AWS::SQS::Queue') {
    throw new UnsupportedTemplateError(`${where('DestinationConfig')}: only a queue of the template is an on-failure destination locally`);
  }
  const filters = ((properties['FilterCriteria'] as { Filters?: { Pattern?: unknown }[] } | undefined)?.Filters ?? []).map((filter, index) =>
    filterPatternOf(JSON.parse(resolveString(template, filter.Pattern, where(`FilterCriteria.Filters[${index}]`))) as unknown, where(`FilterCriteria.Filters[${index}]`)),
  );
  return [
    {
      logicalId,
      functionLogicalId: functionOfMapping(template, properties['FunctionName'], where('FunctionName')),
      tableLogicalId,
      streamArn: resolveString(template, properties['EventSourceArn'], where('EventSourceArn')),
      batchSize: Number(properties['BatchSize'] ?? 100),
      bisectBatchOnFunctionError: properties['BisectBatchOnFunctionError'] === true,
      maximumRetryAttempts: Number(properties['MaximumRetryAttempts'] ?? -1),
      startingPosition: position,
      filters,
      ...(queue !== undefined && { onFailureQueueLogicalId: queue }),
    },
  ];
}

/** The function a mapping's `FunctionName` names: `Ref` of a function of the template. */
function functionOfMapping(template: CfnTemplate, value: unknown, where: string): string {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  if (typeof ref !== 'string' || template.Resources?.[ref]?.Type !== 'AWS::Lambda::Function') {
    throw new UnsupportedTemplateError(`${where}: only a function of the template (Ref) is invoked locally`);
  }
  return ref;
}

/** A filter pattern the poller can match: nested keys down to lists of exact values; Lambda's other operators are refused. */
function filterPatternOf(pattern: unknown, where: string): FilterPattern {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) throw new UnsupportedTemplateError(`${where}: a filter pattern is an object`);
  return Object.fromEntries(
    Object.entries(pattern).map(([key, value]) => {
      if (Array.isArray(value)) {
        if (!value.every((v) => typeof v === 'string' || typeof v === 'number')) {
          throw new UnsupportedTemplateError(`${where}.${key}: only exact values are matched locally (no prefix, numeric, exists or anything-but)`);
        }
        return [key, value as (string | number)[]];
      }
      return [key, filterPatternOf(value, `${where}.${key}`)];
    }),
  );
}
