/**
 * The synthesized template, as the local stack reads it, and copies of it with one thing taken
 * away (a grant, a variable, a permission): what the IAM and local stack tests hold the
 * enforcement to.
 */
import { copyFileSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CfnTemplate } from '../../local/assembly/intrinsics.ts';

/** The logical id of the one resource of `type` whose id starts with `prefix` (the construct path, before CDK's hash). */
export function idOf(template: CfnTemplate, type: string, prefix: string): string {
  const ids = Object.entries(template.Resources ?? {})
    .filter(([id, resource]) => resource.Type === type && new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

/** The logical id of a catalog function's role, as its `Role` names it. */
export function roleOf(template: CfnTemplate, functionName: string): string {
  const role = template.Resources[functionOf(template, functionName)]?.Properties?.['Role'] as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const id = role?.['Fn::GetAtt']?.[0];
  if (id === undefined || template.Resources[id]?.Type !== 'AWS::IAM::Role') throw new Error(`function ${functionName} names no role of the template`);
  return id;
}

/** The logical id of the one `AWS::IAM::Policy` attached to `roleLogicalId`. */
export function policyOf(template: CfnTemplate, roleLogicalId: string): string {
  const ids = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::IAM::Policy')
    .filter(([, resource]) => (resource.Properties?.['Roles'] as { Ref?: string }[] | undefined)?.some((role) => role.Ref === roleLogicalId))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one policy attached to ${roleLogicalId}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

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

/** A copy of `template` in which `functionLogicalId` no longer has the environment variable `name`. */
export function withoutVariable(template: CfnTemplate, functionLogicalId: string, name: string): CfnTemplate {
  const copy = structuredClone(template);
  const variables = (copy.Resources[functionLogicalId]?.Properties?.['Environment'] as { Variables?: Record<string, unknown> } | undefined)?.Variables;
  if (variables?.[name] === undefined) throw new Error(`${functionLogicalId} has no variable ${name} to remove`);
  delete variables[name];
  return copy;
}

/** A copy of `template` without the `AWS::Lambda::Permission`s that let `principal` invoke `functionLogicalId`. */
export function withoutInvokePermission(template: CfnTemplate, functionLogicalId: string, principal: string): CfnTemplate {
  const copy = structuredClone(template) as { Resources: Record<string, (typeof template.Resources)[string]> };
  const permissions = Object.entries(copy.Resources).filter(([, resource]) => {
    const properties = resource.Properties ?? {};
    const target = (properties['FunctionName'] as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0];
    return resource.Type === 'AWS::Lambda::Permission' && properties['Principal'] === principal && target === functionLogicalId;
  });
  if (permissions.length === 0) throw new Error(`no permission lets ${principal} invoke ${functionLogicalId}`);
  for (const [id] of permissions) delete copy.Resources[id];
  return copy;
}

/**
 * A cloud assembly in a new directory under `parent` that runs `template` with the bundles of
 * the assembly in `from` (linked, not copied): what `npm start -- --cdk-out DIR` runs.
 */
export function assemblyWith(from: string, template: CfnTemplate, parent: string): string {
  const dir = mkdtempSync(path.join(parent, 'assembly-'));
  for (const entry of readdirSync(from)) {
    const source = path.join(from, entry);
    if (entry.endsWith('.template.json')) writeFileSync(path.join(dir, entry), JSON.stringify(template));
    else if (entry.startsWith('asset.')) symlinkSync(source, path.join(dir, entry));
    else if (entry.endsWith('.json')) copyFileSync(source, path.join(dir, entry));
  }
  return dir;
}

/** A copy of `template` whose role `roleLogicalId` is also allowed `actions` on `resources`, by a policy of its own. */
export function withGrant(template: CfnTemplate, roleLogicalId: string, actions: readonly string[], resources: readonly string[]): CfnTemplate {
  const copy = structuredClone(template) as { Resources: Record<string, (typeof template.Resources)[string]> };
  if (copy.Resources[roleLogicalId]?.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is no role of the template`);
  copy.Resources[`${roleLogicalId}ExtraGrant`] = {
    Type: 'AWS::IAM::Policy',
    Properties: {
      PolicyName: `${roleLogicalId}ExtraGrant`,
      Roles: [{ Ref: roleLogicalId }],
      PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: [...actions], Resource: [...resources] }] },
    },
  };
  return copy;
}

/** A copy of `template` in which no role's policy grants `lambda:InvokeFunction` on `functionLogicalId` any more. */
export function withoutInvokeGrant(template: CfnTemplate, functionLogicalId: string): CfnTemplate {
  const copy = structuredClone(template);
  const names = (value: unknown) => JSON.stringify(value).includes(`"${functionLogicalId}"`);
  let removed = 0;
  for (const resource of Object.values(copy.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const document = (resource.Properties as { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } }).PolicyDocument;
    for (const statement of document.Statement) {
      if (![statement.Action].flat().includes('lambda:InvokeFunction')) continue;
      const resources = [statement.Resource].flat();
      statement.Resource = resources.filter((arn) => !names(arn));
      removed += resources.length - (statement.Resource as unknown[]).length;
    }
  }
  if (removed === 0) throw new Error(`no role is granted lambda:InvokeFunction on ${functionLogicalId}`);
  return copy;
}
