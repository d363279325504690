/**
 * Turns the state machines of a synthesized CloudFormation template into plain ASL objects that
 * a local interpreter can run: intrinsic functions resolved against the local resources, so a
 * Task's `Resource` (or its `lambda:invoke` `FunctionName`) is the ARN of the local function it
 * invokes.
 */
import { type CfnTemplate, UnsupportedTemplateError, localNameOf, resolveIntrinsics, resolveString } from './intrinsics.ts';

export interface LocalStateMachineDefinition {
  logicalId: string;
  /** `StateMachineName` when the template sets a literal one, else the logical id. */
  stateMachineName: string;
  /** The ASL document, JSONPath query language as CDK writes it. */
  definition: Record<string, unknown>;
}

/**
 * Every `AWS::StepFunctions::StateMachine` of `template`, its `DefinitionString` (a string or
 * an `Fn::Join`) or `Definition` resolved (`Fn::GetAtt [Id, Arn]` of a function becomes
 * `arn:aws:lambda:us-east-1:000000000000:function:<name>`), and `DefinitionSubstitutions` applied.
 */
export function stateMachineDefinitions(template: CfnTemplate): LocalStateMachineDefinition[] {
  const result: LocalStateMachineDefinition[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const properties = resource.Properties ?? {};
    let definition: Record<string, unknown>;
    if (properties['DefinitionString'] !== undefined) {
      const text = resolveString(template, properties['DefinitionString'], `${logicalId}.DefinitionString`);
      const substitutions = (resolveIntrinsics(template, properties['DefinitionSubstitutions'] ?? {}, `${logicalId}.DefinitionSubstitutions`) ??
        {}) as Record<string, unknown>;
      const substituted = text.replace(/\$\{([^}]+)\}/g, (whole, key: string) => (key in substitutions ? String(substitutions[key]) : whole));
      definition = JSON.parse(substituted) as Record<string, unknown>;
    } else if (properties['Definition'] !== undefined) {
      definition = resolveIntrinsics(template, properties['Definition'], `${logicalId}.Definition`) as Record<string, unknown>;
    } else {
      throw new UnsupportedTemplateError(
        `State machine ${logicalId} has neither DefinitionString nor Definition (DefinitionS3Location is not supported locally)`,
      );
    }
    result.push({ logicalId, stateMachineName: localNameOf(template, logicalId), definition });
  }
  return result;
}

/** Task state name → its state, through Parallel branches and Map processors. */
export function taskStates(definition: Record<string, unknown>, found = new Map<string, Record<string, unknown>>()) {
  const states = (definition['States'] ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, state] of Object.entries(states)) {
    if (state['Type'] === 'Task') found.set(name, state);
    for (const branch of (state['Branches'] as Record<string, unknown>[] | undefined) ?? []) taskStates(branch, found);
    const processor = (state['ItemProcessor'] ?? state['Iterator']) as Record<string, unknown> | undefined;
    if (processor !== undefined) taskStates(processor, found);
  }
  return found;
}

/**
 * The function a Task invokes, as its ARN or name: its `Resource` when it names a function
 * directly, or the `FunctionName` of the `lambda:invoke` integration; undefined for a Task that
 * invokes no function (another service's integration).
 */
export function invokedFunctionOf(state: Record<string, unknown>): string | undefined {
  const resource = String(state['Resource']);
  if (/^arn:[^:]+:lambda:/.test(resource)) return resource;
  if (!/^arn:[^:]+:states:::lambda:invoke$/.test(resource)) return undefined;
  const parameters = (state['Parameters'] ?? {}) as Record<string, unknown>;
  const name = parameters['FunctionName'];
  if (typeof name !== 'string') {
    throw new UnsupportedTemplateError(
      `a lambda:invoke Task whose FunctionName is not a literal (${JSON.stringify(parameters['FunctionName.$'] ?? name)}) is not run locally`,
    );
  }
  return name;
}
