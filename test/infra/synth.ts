/**
 * Synthesizes the Chargeonce stack for assertions, with bundling skipped (no esbuild run:
 * the templates are the same apart from the asset hashes), under the feature flags of
 * cdk.json so the template is the one `cdk synth` writes.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { ChargeonceStack } from '../../lib/chargeonce-stack.ts';
import { PROJECT_ROOT } from '../../lib/bundling/build.ts';

export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'eu-west-1';

export interface Synthesized {
  readonly stack: ChargeonceStack;
  readonly template: Template;
}

/** `context` is added to cdk.json's, as `cdk synth -c key=value` does. */
export function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({
    context: { ...cdkJson.context, ...context, 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new ChargeonceStack(app, 'Chargeonce', {
    env: { account: TEST_ACCOUNT, region: TEST_REGION },
  });
  return { stack, template: Template.fromStack(stack) };
}

/** The template's logical id of an L2 construct's main resource. */
export function logicalIdOf(construct: IConstruct): string {
  const child = construct.node.defaultChild as CfnElement | undefined;
  if (child === undefined) throw new Error(`${construct.node.path} has no default child`);
  return Stack.of(construct).resolve(child.logicalId) as string;
}

/** The fake ARN {@link resolveIntrinsics} puts where a template reads `Fn::GetAtt [id, Arn]`. */
export const fakeArnOf = (logicalId: string): string =>
  `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:${logicalId}`;

/**
 * Resolves the intrinsics a state machine definition is made of into plain values:
 * `Fn::Join` joins, `Fn::GetAtt [id, Arn]` becomes {@link fakeArnOf}(id), `Ref` of a pseudo
 * parameter its test value, any other `Ref` becomes `ref:<id>`.
 */
export function resolveIntrinsics(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveIntrinsics);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1) {
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map((part) => String(resolveIntrinsics(part))).join(separator);
    }
    if ('Fn::GetAtt' in object) {
      const [logicalId, attribute] = object['Fn::GetAtt'] as [string, string];
      if (attribute !== 'Arn') throw new Error(`cannot resolve GetAtt ${logicalId}.${attribute}`);
      return fakeArnOf(logicalId);
    }
    if ('Ref' in object) {
      const ref = object.Ref as string;
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': TEST_REGION,
        'AWS::AccountId': TEST_ACCOUNT,
        'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[ref] ?? `ref:${ref}`;
    }
  }
  return Object.fromEntries(keys.map((key) => [key, resolveIntrinsics(object[key])]));
}

export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Resource?: string;
  readonly Retry?: readonly Record<string, unknown>[];
  readonly Catch?: readonly { ErrorEquals: string[]; ResultPath?: string; Next: string }[];
  readonly [key: string]: unknown;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly TimeoutSeconds?: number;
  readonly States: Readonly<Record<string, AslState>>;
}

/** The raw (resolved) definition string of the template's only state machine. */
/** The definition of the state machine whose first state is `startAt` (the payment saga's by default). */
export function stateMachineDefinitionString(template: Template, startAt = 'Authorize'): string {
  const texts = Object.values(template.findResources('AWS::StepFunctions::StateMachine')).map(
    (machine) => resolveIntrinsics(machine.Properties.DefinitionString) as string,
  );
  const found = texts.filter((text) => (JSON.parse(text) as AslDefinition).StartAt === startAt);
  if (found.length !== 1) throw new Error(`expected one state machine starting at ${startAt}, found ${found.length}`);
  return found[0]!;
}

export function stateMachineDefinition(template: Template, startAt = 'Authorize'): AslDefinition {
  return JSON.parse(stateMachineDefinitionString(template, startAt)) as AslDefinition;
}

/**
 * The actions AWS lets a policy grant on `*` only, which CDK adds for a state machine's logs
 * (log delivery) and X-Ray (trace writes): no resource-level scoping exists for them.
 */
export const WILDCARD_ONLY_ACTIONS: ReadonlySet<string> = new Set([
  // The ledger poster's event source mapping lists the table's streams (lib/ledger-stream.ts).
  'dynamodb:ListStreams',
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
]);

export interface Statement {
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: unknown[];
}

/** Every statement of the inline policies attached to a role, with Action and Resource as arrays. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    (policy.Properties.Roles as unknown[]).some(
      (role) => (role as { Ref?: string }).Ref === roleLogicalId,
    ),
  );
  return policies.flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as Record<string, unknown>[]).map((s) => ({
      Effect: s.Effect as string,
      Action: ([] as string[]).concat(s.Action as string | string[]),
      Resource: ([] as unknown[]).concat(s.Resource),
    })),
  );
}

/** A role's actions of one service (`dynamodb`, `states`...), sorted, without duplicates. */
export function actionsOf(statements: readonly Statement[], service: string): string[] {
  return [
    ...new Set(statements.flatMap((s) => s.Action).filter((a) => a.startsWith(`${service}:`))),
  ].sort();
}

/** Each Task's `Resource`, by state name. */
export function taskResourcesOf(asl: AslDefinition): Record<string, string | undefined> {
  return Object.fromEntries(taskStatesOf(asl).map(([name, state]) => [name, state.Resource]));
}

/**
 * The `Resource` of a Task that invokes each function directly (`payloadResponseOnly`: the
 * function itself, not `lambda:invoke`), by state name.
 */
export function directInvocationsOf(functions: Readonly<Record<string, IConstruct>>): Record<string, string> {
  return Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, fakeArnOf(logicalIdOf(fn))]));
}

/** The Task states of a definition, by name. */
export function taskStatesOf(asl: AslDefinition): [string, AslState][] {
  return Object.entries(asl.States).filter(([, state]) => state.Type === 'Task');
}

/** The timeout, in seconds, of the function a Task's `Resource` names (see {@link fakeArnOf}). */
export function functionTimeoutOf(template: Template, resource: string | undefined): number {
  const functions = template.findResources('AWS::Lambda::Function');
  const logicalId = Object.keys(functions).find((id) => fakeArnOf(id) === resource);
  if (logicalId === undefined) throw new Error(`no function behind ${resource}`);
  // Lambda's default when the template sets none.
  return (functions[logicalId]!.Properties.Timeout as number | undefined) ?? 3;
}

/**
 * The least a retrier waits in all before it gives up, as Step Functions computes its waits:
 * `IntervalSeconds x BackoffRate^n`, capped at `MaxDelaySeconds`, one before each of its
 * `MaxAttempts` retries. Full jitter draws each wait between 0 and that: it guarantees none.
 */
export function guaranteedWaitSeconds(retrier: Readonly<Record<string, unknown>>): number {
  if (retrier.JitterStrategy === 'FULL') return 0;
  const interval = (retrier.IntervalSeconds as number | undefined) ?? 1;
  const backoffRate = (retrier.BackoffRate as number | undefined) ?? 2;
  const maxAttempts = (retrier.MaxAttempts as number | undefined) ?? 3;
  const maxDelay = (retrier.MaxDelaySeconds as number | undefined) ?? Number.POSITIVE_INFINITY;
  let total = 0;
  for (let retry = 0; retry < maxAttempts; retry++) total += Math.min(interval * backoffRate ** retry, maxDelay);
  return total;
}
