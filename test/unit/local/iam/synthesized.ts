/**
 * The synthesized template, as the local stack reads it, and copies of it with one grant taken
 * away: what the IAM tests hold the enforcement to.
 */
import type { CfnTemplate } from '../../../../local/assembly/intrinsics.ts';

/** The logical id of the one resource of `type` whose id starts with `prefix` (the construct path, before CDK's hash). */
export function idOf(template: CfnTemplate, type: string, prefix: string): string {
  const ids = Object.entries(template.Resources ?? {})
    .filter(([id, resource]) => resource.Type === type && new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

/** The logical id of a catalog function's role (`CreatePayment` → `FunctionsCreatePaymentServiceRole...`). */
export const roleOf = (template: CfnTemplate, functionName: string) => idOf(template, 'AWS::IAM::Role', `Functions${functionName}ServiceRole`);

/** The logical id of a catalog function (`CreatePayment` → `FunctionsCreatePayment...`). */
export const functionOf = (template: CfnTemplate, functionName: string) => idOf(template, 'AWS::Lambda::Function', `Functions${functionName}`);

/** A copy of `template` in which no policy attached to `roleLogicalId` grants `action` any more. */
export function withoutGrant(template: CfnTemplate, roleLogicalId: string, action: string): CfnTemplate {
  const copy = structuredClone(template);
  let removed = 0;
  for (const resource of Object.values(copy.Resources ?? {})) {
    const properties = resource.Properties as { Roles?: { Ref?: string }[]; PolicyDocument?: { Statement: { Action: string | string[] }[] } };
    if (resource.Type !== 'AWS::IAM::Policy' || !properties.Roles?.some((role) => role.Ref === roleLogicalId)) continue;
    const document = properties.PolicyDocument!;
    for (const statement of document.Statement) {
      const actions = [statement.Action].flat();
      statement.Action = actions.filter((granted) => granted !== action);
      removed += actions.length - statement.Action.length;
    }
    document.Statement = document.Statement.filter((statement) => statement.Action.length > 0);
  }
  if (removed === 0) throw new Error(`${roleLogicalId} has no grant of ${action} to remove`);
  return copy;
}
