/**
 * A narrow IAM policy evaluator: exactly the policy language the synthesized template uses,
 * evaluated the way AWS documents it for a request inside one account.
 *
 * - A statement is `Allow` or `Deny`, with `Action` and `Resource` (a string or a list).
 * - Actions are `service:name`, matched case-insensitively, with `*` and `?` wildcards.
 * - Resources are ARNs, matched case-sensitively, with `*` and `?` inside a segment (the parts
 *   between colons); a `*` that ends a segment also matches beyond it (`...:execution:Name:*`,
 *   `.../index/*`); `*` alone matches every resource.
 * - A matching `Deny` wins over any `Allow` (explicit deny); without a matching `Allow` the
 *   request is denied (implicit deny).
 *
 * Everything else the policy language has (`Condition`, `NotAction`, `NotResource`, a
 * `Principal` in an identity policy, policy variables such as `${aws:username}`, ...) is
 * refused when the policy is read, naming what it found: ignored, it would grant what AWS
 * refuses or refuse what AWS grants, and the local stack would prove nothing.
 */

export type Effect = 'Allow' | 'Deny';

/** One statement of an identity-based policy, its Action and Resource as lists. */
export interface Statement {
  readonly effect: Effect;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** How a request fared: allowed, or denied by a Deny that matched (explicit) or for want of an Allow (implicit). */
export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly denial: 'explicit' | 'implicit' };

/** A policy uses a feature this evaluator does not implement: the local stack refuses to start. */
export class UnsupportedPolicyError extends Error {
  override readonly name = 'UnsupportedPolicyError';
}

const statementKeys = new Set(['Sid', 'Effect', 'Action', 'Resource']);
const documentKeys = new Set(['Version', 'Id', 'Statement']);
const versions = new Set(['2012-10-17', '2008-10-17']);

/**
 * The statements of an identity-based policy document (already resolved to plain strings),
 * or an {@link UnsupportedPolicyError} naming the first feature it does not implement and
 * `where` the policy comes from.
 */
export function parsePolicyDocument(document: unknown, where: string): Statement[] {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new UnsupportedPolicyError(`${where}: the policy document is not a JSON object`);
  }
  const fields = document as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!documentKeys.has(key)) throw new UnsupportedPolicyError(`${where}: the policy document has ${key}, which the local IAM evaluator does not implement`);
  }
  if (fields['Version'] !== undefined && !versions.has(fields['Version'] as string)) {
    throw new UnsupportedPolicyError(`${where}: policy Version ${JSON.stringify(fields['Version'])} is not one IAM knows`);
  }
  const statements = ([] as unknown[]).concat(fields['Statement'] ?? []);
  if (statements.length === 0) throw new UnsupportedPolicyError(`${where}: the policy has no Statement`);
  return statements.map((statement, index) => parseStatement(statement, `${where}, statement ${index + 1}`));
}

function parseStatement(statement: unknown, where: string): Statement {
  if (typeof statement !== 'object' || statement === null || Array.isArray(statement)) {
    throw new UnsupportedPolicyError(`${where} is not a JSON object`);
  }
  const fields = statement as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!statementKeys.has(key)) {
      throw new UnsupportedPolicyError(`${where} uses ${key}, which the local IAM evaluator does not implement`);
    }
  }
  const effect = fields['Effect'];
  if (effect !== 'Allow' && effect !== 'Deny') throw new UnsupportedPolicyError(`${where}: Effect must be Allow or Deny, got ${JSON.stringify(effect)}`);
  const actions = stringList(fields['Action'], 'Action', where);
  const resources = stringList(fields['Resource'], 'Resource', where);
  for (const action of actions) checkAction(action, where);
  for (const resource of resources) checkResource(resource, where);
  return { effect, actions, resources };
}

function stringList(value: unknown, element: string, where: string): string[] {
  const list = ([] as unknown[]).concat(value ?? []);
  if (list.length === 0) throw new UnsupportedPolicyError(`${where} has no ${element}`);
  if (!list.every((item): item is string => typeof item === 'string' && item !== '')) {
    throw new UnsupportedPolicyError(`${where}: every ${element} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return list;
}

function checkAction(action: string, where: string): void {
  if (action.includes('${')) throw new UnsupportedPolicyError(`${where}: Action ${action} holds a policy variable, which the local IAM evaluator does not implement`);
  if (action !== '*' && !/^[a-z0-9-]+:[A-Za-z0-9*?]+$/i.test(action)) {
    throw new UnsupportedPolicyError(`${where}: Action ${action} is neither * nor service:action`);
  }
}

function checkResource(resource: string, where: string): void {
  if (resource.includes('${')) {
    throw new UnsupportedPolicyError(`${where}: Resource ${resource} holds a policy variable, which the local IAM evaluator does not implement`);
  }
  if (resource === '*') return;
  const [prefix, , service] = resource.split(':');
  if (prefix !== 'arn' || service === undefined || service === '') throw new UnsupportedPolicyError(`${where}: Resource ${resource} is neither * nor an ARN`);
  // IAM does not allow a wildcard in the part of an ARN that names the service.
  if (/[*?]/.test(service)) throw new UnsupportedPolicyError(`${where}: Resource ${resource} has a wildcard in its service segment`);
}

/** Whether `pattern` (a policy's Action) names `action` (`service:Operation`): case-insensitive, `*` and `?`. */
export function actionMatches(pattern: string, action: string): boolean {
  if (pattern === '*') return true;
  return compile(pattern, 'action').test(action);
}

/** Whether `pattern` (a policy's Resource, or an `ArnLike` value) covers the ARN `resource`. */
export function resourceMatches(pattern: string, resource: string): boolean {
  if (pattern === '*') return true;
  return compile(pattern, 'resource').test(resource);
}

const compiled = new Map<string, RegExp>();

function compile(pattern: string, kind: 'action' | 'resource'): RegExp {
  const key = `${kind}\u0000${pattern}`;
  let regex = compiled.get(key);
  if (regex === undefined) {
    let source = '';
    for (let index = 0; index < pattern.length; index++) {
      const char = pattern[index]!;
      const endsSegment = index === pattern.length - 1 || pattern[index + 1] === ':';
      if (kind === 'action') source += char === '*' ? '.*' : char === '?' ? '.' : escape(char);
      else if (char === '*') source += endsSegment ? '.*' : '[^:]*';
      else source += char === '?' ? '[^:]' : escape(char);
    }
    regex = new RegExp(`^${source}$`, kind === 'action' ? 'is' : 's');
    compiled.set(key, regex);
  }
  return regex;
}

function escape(char: string): string {
  return /[\\^$.|+()[\]{}*?]/.test(char) ? `\\${char}` : char;
}

/** AWS's decision for `action` on `resource` under `statements`: an explicit deny wins, then an allow, else an implicit deny. */
export function evaluate(statements: readonly Statement[], action: string, resource: string): Decision {
  const applies = (statement: Statement) =>
    statement.actions.some((pattern) => actionMatches(pattern, action)) &&
    statement.resources.some((pattern) => resourceMatches(pattern, resource));
  let allowed = false;
  for (const statement of statements) {
    if (!applies(statement)) continue;
    if (statement.effect === 'Deny') return { allowed: false, denial: 'explicit' };
    allowed = true;
  }
  return allowed ? { allowed: true } : { allowed: false, denial: 'implicit' };
}

/**
 * The message AWS puts in an AccessDeniedException for a role's session: `User: <session ARN>
 * is not authorized to perform: <action> on resource: <resource> because no identity-based
 * policy allows the <action> action` (or `with an explicit deny in an identity-based policy`).
 */
export function accessDeniedMessage(principalArn: string, action: string, resource: string, denial: 'explicit' | 'implicit'): string {
  const reason =
    denial === 'explicit' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${action} action`;
  return `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ${reason}`;
}
