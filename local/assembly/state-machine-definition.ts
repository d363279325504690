/**
 * Turns the state machines of a synthesized CloudFormation template into plain ASL objects that
 * a local interpreter can run: intrinsic functions are resolved against a fake account.
 */
import type { CloudFormationTemplate } from '../services/dynamodb-local.ts';

export const localPartition = 'aws';
export const localRegion = 'us-east-1';
export const localAccountId = '000000000000';

/** The fake Lambda ARN that stands for a function's logical id in a local definition. */
export function fakeLambdaArn(logicalId: string): string {
  return `arn:${localPartition}:lambda:${localRegion}:${localAccountId}:function:${logicalId}`;
}

/** The logical id a {@link fakeLambdaArn} carries, or undefined for any other string. */
export function logicalIdOfFakeLambdaArn(arn: string): string | undefined {
  const prefix = `arn:${localPartition}:lambda:${localRegion}:${localAccountId}:function:`;
  return arn.startsWith(prefix) ? arn.slice(prefix.length) : undefined;
}

const pseudoParameters: Record<string, string> = {
  'AWS::Partition': localPartition,
  'AWS::Region': localRegion,
  'AWS::AccountId': localAccountId,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'local',
};

export interface LocalStateMachineDefinition {
  logicalId: string;
  /** `StateMachineName` when the template sets a literal one, else the logical id. */
  stateMachineName: string;
  /** The ASL document, JSONPath query language as CDK writes it. */
  definition: Record<string, unknown>;
}

/**
 * Every `AWS::StepFunctions::StateMachine` of `template`, its `DefinitionString` (a string or
 * an `Fn::Join`) or `Definition` resolved: `Fn::GetAtt [Id, Arn]` becomes
 * `arn:aws:lambda:us-east-1:000000000000:function:<Id>` (a table's ARN for a DynamoDB table),
 * `Ref` of a pseudo parameter becomes the fake account's value, `Ref` of a resource its logical
 * id, and `DefinitionSubstitutions` are applied.
 */
export function stateMachineDefinitions(template: CloudFormationTemplate): LocalStateMachineDefinition[] {
  const resources = template.Resources ?? {};
  const result: LocalStateMachineDefinition[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const properties = resource.Properties ?? {};
    const resolve = (value: unknown): unknown => resolveIntrinsics(value, template, logicalId);
    let definition: Record<string, unknown>;
    if (properties['DefinitionString'] !== undefined) {
      const text = resolve(properties['DefinitionString']);
      if (typeof text !== 'string') {
        throw new Error(`State machine ${logicalId}: DefinitionString did not resolve to a string`);
      }
      const substitutions = (resolve(properties['DefinitionSubstitutions'] ?? {}) ?? {}) as Record<string, unknown>;
      const substituted = text.replace(/\$\{([^}]+)\}/g, (whole, key: string) =>
        key in substitutions ? String(substitutions[key]) : whole,
      );
      definition = JSON.parse(substituted) as Record<string, unknown>;
    } else if (properties['Definition'] !== undefined) {
      definition = resolve(properties['Definition']) as Record<string, unknown>;
    } else {
      throw new Error(`State machine ${logicalId} has neither DefinitionString nor Definition (DefinitionS3Location is not supported locally)`);
    }
    const name = properties['StateMachineName'];
    result.push({ logicalId, stateMachineName: typeof name === 'string' ? name : logicalId, definition });
  }
  return result;
}

function resolveIntrinsics(value: unknown, template: CloudFormationTemplate, context: string): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, template, context));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const argument = object[key];
    switch (key) {
      case 'Fn::Join': {
        const [separator, parts] = argument as [string, unknown[]];
        const resolved = resolveIntrinsics(parts, template, context) as unknown[];
        return resolved.map((part) => String(part)).join(separator);
      }
      case 'Fn::GetAtt': {
        const [targetId, attribute] = (typeof argument === 'string' ? argument.split('.') : argument) as [string, string];
        return getAtt(targetId, attribute, template, context);
      }
      case 'Ref': {
        const name = argument as string;
        if (name in pseudoParameters) return pseudoParameters[name];
        if (template.Resources?.[name] === undefined) {
          throw new Error(`${context}: Ref to unknown resource or parameter ${name}`);
        }
        const properties = template.Resources[name].Properties ?? {};
        const physical = properties['TableName'] ?? properties['FunctionName'];
        return typeof physical === 'string' ? physical : name;
      }
      default:
        if (key.startsWith('Fn::')) throw new Error(`${context}: intrinsic ${key} is not supported locally`);
    }
  }
  return Object.fromEntries(keys.map((key) => [key, resolveIntrinsics(object[key], template, context)]));
}

function getAtt(targetId: string, attribute: string, template: CloudFormationTemplate, context: string): string {
  const target = template.Resources?.[targetId];
  if (target === undefined) throw new Error(`${context}: Fn::GetAtt to unknown resource ${targetId}`);
  if (attribute !== 'Arn') throw new Error(`${context}: Fn::GetAtt ${targetId}.${attribute} is not supported locally`);
  if (target.Type === 'AWS::DynamoDB::Table' || target.Type === 'AWS::DynamoDB::GlobalTable') {
    const tableName = target.Properties?.['TableName'];
    return `arn:${localPartition}:dynamodb:${localRegion}:${localAccountId}:table/${typeof tableName === 'string' ? tableName : targetId}`;
  }
  return fakeLambdaArn(targetId);
}
