/**
 * CloudFormation's intrinsic functions, resolved against the local stack's resources: what a
 * template's values become once "deployed" here. Only what a synthesized CDK template uses is
 * resolved (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`); anything
 * else is a startup error naming where it was met, never a value passed through unresolved.
 * The one resolver of the local stack: the state machines' definitions, the functions'
 * environments and the IAM policies all name a resource by the same string.
 */
import { createHash } from 'node:crypto';
import { localArn, localFunctionArn, localStateMachineArn, pseudoParameters } from './local-account.ts';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly Metadata?: Readonly<Record<string, unknown>>;
  readonly Condition?: string;
}

/** A CloudFormation template as `cdk synth` writes it; only what the local stack reads is typed. */
export interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnResource>>;
  readonly Parameters?: Readonly<Record<string, unknown>>;
  readonly Conditions?: Readonly<Record<string, unknown>>;
  readonly Outputs?: Readonly<Record<string, { readonly Value: unknown }>>;
}

/** The template asks for something the local stack does not do: it refuses to start rather than run something else. */
export class UnsupportedTemplateError extends Error {
  override readonly name = 'UnsupportedTemplate';
}

/**
 * Per resource type: the property that holds a literal name (CloudFormation makes one up when
 * it is absent; locally it is the logical id), how its ARN is built from that name, and whether
 * `Ref` returns the ARN rather than the name, as CloudFormation documents for each type.
 */
const resourceTypes: Readonly<Record<string, { nameProperty: string; arn?: (name: string) => string; refIsArn?: boolean }>> = {
  'AWS::DynamoDB::Table': { nameProperty: 'TableName', arn: (name) => localArn('dynamodb', `table/${name}`) },
  'AWS::DynamoDB::GlobalTable': { nameProperty: 'TableName', arn: (name) => localArn('dynamodb', `table/${name}`) },
  'AWS::Lambda::Function': { nameProperty: 'FunctionName', arn: localFunctionArn },
  'AWS::StepFunctions::StateMachine': { nameProperty: 'StateMachineName', arn: localStateMachineArn, refIsArn: true },
  // Secrets Manager ends every secret's ARN with a dash and six random characters.
  'AWS::SecretsManager::Secret': {
    nameProperty: 'Name',
    arn: (name) => localArn('secretsmanager', `secret:${name}-${createHash('sha256').update(name).digest('hex').slice(0, 6)}`),
    refIsArn: true,
  },
  'AWS::IAM::Role': { nameProperty: 'RoleName', arn: (name) => localArn('iam', `role/${name}`) },
  'AWS::Events::Rule': { nameProperty: 'Name', arn: (name) => localArn('events', `rule/${name}`) },
  'AWS::Logs::LogGroup': { nameProperty: 'LogGroupName', arn: (name) => localArn('logs', `log-group:${name}:*`) },
  'AWS::SNS::Topic': { nameProperty: 'TopicName', arn: (name) => localArn('sns', name), refIsArn: true },
  'AWS::CloudWatch::Alarm': { nameProperty: 'AlarmName', arn: (name) => localArn('cloudwatch', `alarm:${name}`) },
  'AWS::ApiGateway::Stage': { nameProperty: 'StageName' },
  // `Ref` of a queue is its URL; only its ARN (an on-failure destination, a grant) is used.
  'AWS::SQS::Queue': { nameProperty: 'QueueName', arn: (name) => localArn('sqs', name) },
};

/**
 * The label of a table's stream on the local stack (AWS makes one from the time the stream was
 * enabled): policies and event source mappings name the stream by this ARN.
 */
export const LOCAL_STREAM_LABEL = 'local';

/**
 * The name a resource has locally: its literal name in the template, else its logical id
 * (where CloudFormation would make one up from the stack name, the id and a random suffix).
 */
export function localNameOf(template: CfnTemplate, logicalId: string): string {
  const resource = resourceOf(template, logicalId, logicalId);
  const property = resourceTypes[resource.Type]?.nameProperty;
  const given = property === undefined ? undefined : resource.Properties?.[property];
  return typeof given === 'string' ? given : logicalId;
}

/** The resource's ARN on the local stack; a type the local stack gives no ARN is an error naming it. */
export function localArnOf(template: CfnTemplate, logicalId: string, where = 'ARN'): string {
  const { Type } = resourceOf(template, logicalId, where);
  const arnOf = resourceTypes[Type]?.arn;
  if (arnOf === undefined) throw new UnsupportedTemplateError(`${where}: the local stack gives no ARN to ${logicalId} (${Type})`);
  return arnOf(localNameOf(template, logicalId));
}

function resourceOf(template: CfnTemplate, logicalId: string, where: string): CfnResource {
  const resource = template.Resources?.[logicalId];
  if (resource === undefined) throw new UnsupportedTemplateError(`${where}: no resource ${logicalId} in the template`);
  return resource;
}

/** What `Ref` of a resource returns: its ARN for the types whose Ref is one, else its name (or id). */
function refOf(template: CfnTemplate, logicalId: string, where: string): string {
  const { Type } = resourceOf(template, logicalId, where);
  return resourceTypes[Type]?.refIsArn === true ? localArnOf(template, logicalId, where) : localNameOf(template, logicalId);
}

function attributeOf(template: CfnTemplate, logicalId: string, attribute: string, where: string): string {
  const { Type } = resourceOf(template, logicalId, where);
  if (attribute === 'Arn') return localArnOf(template, logicalId, `${where}: Fn::GetAtt`);
  if (Type === 'AWS::StepFunctions::StateMachine' && attribute === 'Name') return localNameOf(template, logicalId);
  if (Type === 'AWS::DynamoDB::Table' && attribute === 'StreamArn') return `${localArnOf(template, logicalId, where)}/stream/${LOCAL_STREAM_LABEL}`;
  if (Type === 'AWS::SQS::Queue' && attribute === 'QueueName') return localNameOf(template, logicalId);
  // A resource path's parent: the API's root resource has an id of its own.
  if (Type === 'AWS::ApiGateway::RestApi' && attribute === 'RootResourceId') return rootResourceIdOf(logicalId);
  throw new UnsupportedTemplateError(`${where}: Fn::GetAtt ${logicalId}.${attribute} (${Type}) is not resolved locally`);
}

/** The id the local stack gives a REST API's root resource (`Fn::GetAtt [api, RootResourceId]`). */
export const rootResourceIdOf = (restApiLogicalId: string): string => `${restApiLogicalId}/`;

/**
 * `value` with every intrinsic function resolved against the local resources of `template`.
 * `where` names the place in the template, for the error when something cannot be resolved.
 */
export function resolveIntrinsics(template: CfnTemplate, value: unknown, where: string): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(template, item, where));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  const [key] = keys;
  if (keys.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::'))) {
    return resolveFunction(template, key, object[key], where);
  }
  return Object.fromEntries(keys.map((name) => [name, resolveIntrinsics(template, object[name], `${where}.${name}`)]));
}

/** {@link resolveIntrinsics}, for a value that must come out a string. */
export function resolveString(template: CfnTemplate, value: unknown, where: string): string {
  const resolved = resolveIntrinsics(template, value, where);
  if (typeof resolved !== 'string') throw new UnsupportedTemplateError(`${where}: expected a string, got ${JSON.stringify(resolved)}`);
  return resolved;
}

function resolveFunction(template: CfnTemplate, name: string, argument: unknown, where: string): unknown {
  const resolve = (value: unknown) => resolveIntrinsics(template, value, where);
  const text = (value: unknown) => resolveString(template, value, where);
  switch (name) {
    case 'Ref':
      return refTo(template, text(argument), where);
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = (typeof argument === 'string' ? argument.split('.') : resolve(argument)) as [string, string];
      return attributeOf(template, logicalId, attribute, where);
    }
    case 'Fn::Join': {
      const [separator, parts] = argument as [string, unknown];
      return listOf(resolve(parts), name, where).map(String).join(separator);
    }
    case 'Fn::Select': {
      const [index, list] = argument as [unknown, unknown];
      const items = listOf(resolve(list), name, where);
      const at = Number(resolve(index));
      if (!Number.isInteger(at) || at < 0 || at >= items.length) {
        throw new UnsupportedTemplateError(`${where}: Fn::Select index ${String(index)} out of ${items.length} items`);
      }
      return items[at];
    }
    case 'Fn::Split': {
      const [separator, source] = argument as [string, unknown];
      return text(source).split(separator);
    }
    case 'Fn::Sub':
      return substitute(template, argument, where);
    default:
      throw new UnsupportedTemplateError(`${where}: ${name} is not resolved locally`);
  }
}

function listOf(value: unknown, fn: string, where: string): unknown[] {
  if (!Array.isArray(value)) throw new UnsupportedTemplateError(`${where}: ${fn} needs a list, got ${JSON.stringify(value)}`);
  return value;
}

function refTo(template: CfnTemplate, name: string, where: string): string {
  const pseudo = pseudoParameters[name];
  if (pseudo !== undefined) return pseudo;
  if (template.Parameters?.[name] !== undefined) {
    throw new UnsupportedTemplateError(`${where}: Ref to the parameter ${name}: the local stack takes no parameter values`);
  }
  return refOf(template, name, where);
}

/** `Fn::Sub`: `${Name}`, `${Name.Attribute}`, `${AWS::Region}`, its own variables, and `${!Literal}`. */
function substitute(template: CfnTemplate, argument: unknown, where: string): string {
  const [text, variables = {}] = (typeof argument === 'string' ? [argument] : argument) as [string, Record<string, unknown>?];
  return text.replace(/\$\{([^}]*)\}/g, (_, expression: string) => {
    if (expression.startsWith('!')) return `\${${expression.slice(1)}}`;
    if (expression in variables) return resolveString(template, variables[expression], `${where} (\${${expression}})`);
    const dot = expression.indexOf('.');
    return dot > 0 && !expression.startsWith('AWS::')
      ? attributeOf(template, expression.slice(0, dot), expression.slice(dot + 1), where)
      : refTo(template, expression, where);
  });
}
