/**
 * What the resources of a synthesized template are called on the local stack: each one's name,
 * ARN and `Ref` value in a fake account, and the template's intrinsic functions resolved
 * against them. One resolver for everything the local stack reads from the template (state
 * machine definitions, IAM policies, functions' environments), so that a policy's resource and
 * the ARN a function is handed are always the same string.
 */
import { createHash } from 'node:crypto';
import type { CloudFormationTemplate } from '../runtime/dynamodb-local.ts';

export const localPartition = 'aws';
export const localRegion = 'us-east-1';
export const localAccountId = '000000000000';

const pseudoParameters: Readonly<Record<string, string>> = {
  'AWS::Partition': localPartition,
  'AWS::Region': localRegion,
  'AWS::AccountId': localAccountId,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'local',
};

/**
 * Per resource type: the property that holds a literal name (CloudFormation makes one up when
 * it is absent; locally it is the logical id), how its ARN is built from that name, and whether
 * `Ref` returns the ARN rather than the name, as CloudFormation documents for each type.
 */
const resourceTypes: Readonly<Record<string, { nameProperty: string; arn?: (name: string) => string; refIsArn?: boolean }>> = {
  'AWS::DynamoDB::Table': { nameProperty: 'TableName', arn: (name) => localArn('dynamodb', `table/${name}`) },
  'AWS::DynamoDB::GlobalTable': { nameProperty: 'TableName', arn: (name) => localArn('dynamodb', `table/${name}`) },
  'AWS::Lambda::Function': { nameProperty: 'FunctionName', arn: (name) => localFunctionArn(name) },
  'AWS::StepFunctions::StateMachine': {
    nameProperty: 'StateMachineName',
    arn: (name) => localArn('states', `stateMachine:${name}`),
    refIsArn: true,
  },
  // Secrets Manager ends every secret's ARN with a dash and six random characters.
  'AWS::SecretsManager::Secret': {
    nameProperty: 'Name',
    arn: (name) => localArn('secretsmanager', `secret:${name}-${createHash('sha256').update(name).digest('hex').slice(0, 6)}`),
    refIsArn: true,
  },
  'AWS::IAM::Role': { nameProperty: 'RoleName', arn: (name) => `arn:${localPartition}:iam::${localAccountId}:role/${name}` },
  'AWS::Events::Rule': { nameProperty: 'Name', arn: (name) => localArn('events', `rule/${name}`) },
  'AWS::Logs::LogGroup': { nameProperty: 'LogGroupName', arn: (name) => localArn('logs', `log-group:${name}:*`) },
  'AWS::SNS::Topic': { nameProperty: 'TopicName', arn: (name) => localArn('sns', name), refIsArn: true },
  'AWS::ApiGateway::Stage': { nameProperty: 'StageName' },
};

/** `arn:aws:<service>:<local region>:<local account>:<resource>`. */
export function localArn(service: string, resource: string): string {
  return `arn:${localPartition}:${service}:${localRegion}:${localAccountId}:${resource}`;
}

/** A Lambda function's ARN on the local stack. */
export function localFunctionArn(functionName: string): string {
  return localArn('lambda', `function:${functionName}`);
}

function resourceOf(template: CloudFormationTemplate, logicalId: string, context: string) {
  const resource = template.Resources?.[logicalId];
  if (resource === undefined) throw new Error(`${context}: no resource ${logicalId} in the template`);
  return resource;
}

/** The resource's name on the local stack: its literal name property, else its logical id. */
export function localNameOf(template: CloudFormationTemplate, logicalId: string): string {
  const resource = resourceOf(template, logicalId, 'name');
  const nameProperty = resourceTypes[resource.Type]?.nameProperty;
  const name = nameProperty === undefined ? undefined : resource.Properties?.[nameProperty];
  return typeof name === 'string' ? name : logicalId;
}

/** The resource's ARN on the local stack; a type the local stack gives no ARN is an error naming it. */
export function localArnOf(template: CloudFormationTemplate, logicalId: string, context = 'ARN'): string {
  const { Type } = resourceOf(template, logicalId, context);
  const arnOf = resourceTypes[Type]?.arn;
  if (arnOf === undefined) throw new Error(`${context}: the local stack gives no ARN to ${logicalId} (${Type})`);
  return arnOf(localNameOf(template, logicalId));
}

/** What `Ref` returns for a resource: its ARN for the types whose Ref is one, else its name (or id). */
function refOf(template: CloudFormationTemplate, logicalId: string, context: string): string {
  const { Type } = resourceOf(template, logicalId, context);
  return resourceTypes[Type]?.refIsArn === true ? localArnOf(template, logicalId, context) : localNameOf(template, logicalId);
}

function getAtt(template: CloudFormationTemplate, logicalId: string, attribute: string, context: string): string {
  const { Type } = resourceOf(template, logicalId, `${context}: Fn::GetAtt`);
  if (attribute === 'Arn') return localArnOf(template, logicalId, `${context}: Fn::GetAtt`);
  if (attribute === 'Name' && Type === 'AWS::StepFunctions::StateMachine') return localNameOf(template, logicalId);
  throw new Error(`${context}: Fn::GetAtt ${logicalId}.${attribute} (${Type}) is not supported locally`);
}

function refOrPseudo(template: CloudFormationTemplate, name: string, context: string): string {
  const pseudo = pseudoParameters[name];
  if (pseudo !== undefined) return pseudo;
  if (template.Resources?.[name] === undefined) throw new Error(`${context}: Ref to unknown resource or parameter ${name}`);
  return refOf(template, name, context);
}

/**
 * `value` with every intrinsic function resolved against the local resources: `Ref`,
 * `Fn::GetAtt` (`Arn`; a state machine's `Name`), `Fn::Join`, `Fn::Select`, `Fn::Split`,
 * `Fn::Sub`. Any other intrinsic is an error that names it and `context`, never left in place.
 */
export function resolveIntrinsics(value: unknown, template: CloudFormationTemplate, context: string): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, template, context));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  const [key] = keys;
  if (keys.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::'))) {
    const argument = object[key];
    const resolve = (inner: unknown) => resolveIntrinsics(inner, template, context);
    switch (key) {
      case 'Ref':
        return refOrPseudo(template, argument as string, context);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = (typeof argument === 'string' ? argument.split('.') : argument) as [string, string];
        return getAtt(template, logicalId, attribute, context);
      }
      case 'Fn::Join': {
        const [separator, parts] = argument as [string, unknown[]];
        return (resolve(parts) as unknown[]).map((part) => String(part)).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = resolve(argument) as [number | string, unknown[]];
        const selected = list[Number(index)];
        if (selected === undefined) throw new Error(`${context}: Fn::Select index ${index} is outside its list`);
        return selected;
      }
      case 'Fn::Split': {
        const [separator, text] = resolve(argument) as [string, string];
        return text.split(separator);
      }
      case 'Fn::Sub':
        return substitute(argument, template, context);
      default:
        throw new Error(`${context}: intrinsic ${key} is not supported locally`);
    }
  }
  return Object.fromEntries(keys.map((name) => [name, resolveIntrinsics(object[name], template, context)]));
}

/** `Fn::Sub`: `${Name}` is a Ref, `${Id.Attribute}` a GetAtt, `${!Text}` the literal `${Text}`. */
function substitute(argument: unknown, template: CloudFormationTemplate, context: string): string {
  const [text, variables] = (typeof argument === 'string' ? [argument, {}] : argument) as [string, Record<string, unknown>];
  return text.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (name in variables) return String(resolveIntrinsics(variables[name], template, context));
    const dot = name.indexOf('.');
    return dot < 0 ? refOrPseudo(template, name, context) : getAtt(template, name.slice(0, dot), name.slice(dot + 1), context);
  });
}
