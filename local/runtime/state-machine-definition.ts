/**
 * Turns the state machines of a synthesized CloudFormation template into plain ASL objects that
 * a local interpreter can run: intrinsic functions are resolved against a fake account.
 */
import {
  localAccountId,
  localFunctionArn,
  localNameOf,
  localPartition,
  localRegion,
  resolveIntrinsics,
} from '../assembly/local-resources.ts';
import type { CloudFormationTemplate } from './dynamodb-local.ts';

export { localAccountId, localPartition, localRegion };

/** The fake Lambda ARN that stands for a function's logical id in a local definition. */
export function fakeLambdaArn(logicalId: string): string {
  return localFunctionArn(logicalId);
}

/** The logical id a {@link fakeLambdaArn} carries, or undefined for any other string. */
export function logicalIdOfFakeLambdaArn(arn: string): string | undefined {
  const prefix = `arn:${localPartition}:lambda:${localRegion}:${localAccountId}:function:`;
  return arn.startsWith(prefix) ? arn.slice(prefix.length) : undefined;
}

export interface LocalStateMachineDefinition {
  logicalId: string;
  /** `StateMachineName` when the template sets a literal one, else the logical id. */
  stateMachineName: string;
  /** The ASL document, JSONPath query language as CDK writes it. */
  definition: Record<string, unknown>;
}

/**
 * Every `AWS::StepFunctions::StateMachine` of `template`, its `DefinitionString` (a string or
 * an `Fn::Join`) or `Definition` resolved against the local resources (see
 * {@link resolveIntrinsics}: a function's `Fn::GetAtt [Id, Arn]` becomes
 * `arn:aws:lambda:us-east-1:000000000000:function:<Id>`), and `DefinitionSubstitutions` applied.
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
    result.push({ logicalId, stateMachineName: localNameOf(template, logicalId), definition });
  }
  return result;
}
