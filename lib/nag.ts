/**
 * Acknowledging cdk-nag's AwsSolutions findings next to the construct that causes them
 * (`test/infra/nag.test.ts` runs the checks and fails on any finding left unacknowledged).
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/** Acknowledges an AwsSolutions rule on `scope` and everything under it. */
export function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
}

/**
 * Acknowledges one wildcard resource of an IAM policy under `scope`. cdk-nag names such a
 * finding after the resource as the template writes it, intrinsics flattened
 * (`<FunctionsCapture1234.Arn>:*`), so the id is derived from the resource itself and follows
 * a renamed construct.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  acknowledge(scope, `IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resource))}]`, reason);
}
