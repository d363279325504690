/**
 * The IAM of a synthesized template, for the local stack: each role's identity-based policies
 * (its `AWS::IAM::Policy` resources, inline `Policies` and the AWS managed policies it names),
 * each role's trust policy, and the functions' resource-based policies (`AWS::Lambda::Permission`),
 * all resolved to the local resources' ARNs. Anything in the template that would change a
 * decision and that this does not evaluate is refused when it is read, naming it.
 */
import { type CfnTemplate, localArnOf, localNameOf, resolveIntrinsics } from '../assembly/intrinsics.ts';
import { localAccountId, localFunctionArn, localPartition } from '../assembly/local-account.ts';
import {
  UnsupportedPolicyError,
  accessDeniedMessage,
  actionMatches,
  evaluate,
  parsePolicyDocument,
  resourceMatches,
  type Statement,
} from './policy-evaluator.ts';

/**
 * The AWS managed policies a role may name, with their documents as AWS publishes them. A
 * function's runtime writes its logs itself, never through the function's own AWS calls, so
 * this grant never decides anything locally; it is here so that a role naming any other managed
 * policy is refused rather than silently granted nothing.
 */
const managedPolicies: Readonly<Record<string, unknown>> = {
  'service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
  // The role API Gateway writes the API's access logs with (the account's CloudWatch role).
  'service-role/AmazonAPIGatewayPushToCloudWatchLogs': {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:DescribeLogGroups',
          'logs:DescribeLogStreams',
          'logs:PutLogEvents',
          'logs:GetLogEvents',
          'logs:FilterLogEvents',
        ],
        Resource: '*',
      },
    ],
  },
};

/**
 * Resource types that carry policies this does not evaluate (resource policies on secrets,
 * keys a secret would need `kms:Decrypt` on, users and groups, managed policies of the stack's
 * own): a template with one does not start locally.
 */
const unsupportedTypes = new Set([
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::User',
  'AWS::IAM::Group',
  'AWS::IAM::UserToGroupAddition',
  'AWS::IAM::AccessKey',
  'AWS::SecretsManager::ResourcePolicy',
  'AWS::KMS::Key',
  'AWS::Lambda::Url',
]);

/** Properties that would change what a resource's callers may do, by type. */
const unsupportedProperties: Readonly<Record<string, readonly string[]>> = {
  'AWS::IAM::Role': ['PermissionsBoundary'],
  'AWS::IAM::Policy': ['Groups', 'Users'],
  'AWS::DynamoDB::Table': ['ResourcePolicy'],
  'AWS::DynamoDB::GlobalTable': ['ResourcePolicy'],
  'AWS::SecretsManager::Secret': ['KmsKeyId'],
  'AWS::Lambda::Permission': ['EventSourceToken', 'PrincipalOrgID', 'FunctionUrlAuthType', 'InvokedViaFunctionUrl'],
};

/** The caller of an AWS API: a session of a role (`assumed-role/<role>/<session>`). */
export interface RoleSession {
  /** The role's logical id in the template. */
  readonly roleLogicalId: string;
  /** Lambda names a function's session after the function. */
  readonly sessionName: string;
}

/** A decision, with the message AWS would give when it is a denial. */
export type Authorization = { readonly allowed: true } | { readonly allowed: false; readonly message: string };

interface Role {
  readonly name: string;
  readonly statements: Statement[];
  /** Its trust policy: which services may assume it, on which conditions. */
  readonly trust: readonly TrustStatement[];
}

/** One `AWS::Lambda::Permission`: a service may invoke a function, from a source ARN when one is given. */
interface FunctionPermission {
  readonly action: string;
  readonly functionArn: string;
  readonly principal: string;
  readonly sourceArn?: string;
}

export class TemplateIam {
  private constructor(
    private readonly template: CfnTemplate,
    private readonly roles: ReadonlyMap<string, Role>,
    private readonly permissions: readonly FunctionPermission[],
  ) {}

  /** Reads every role, policy and permission of `template`; an {@link UnsupportedPolicyError} names what it cannot evaluate. */
  static fromTemplate(template: CfnTemplate): TemplateIam {
    const resources = Object.entries(template.Resources ?? {});
    for (const [logicalId, resource] of resources) {
      if (unsupportedTypes.has(resource.Type)) {
        throw new UnsupportedPolicyError(`${logicalId}: ${resource.Type} is not evaluated by the local IAM`);
      }
      for (const property of unsupportedProperties[resource.Type] ?? []) {
        if (resource.Properties?.[property] !== undefined) {
          throw new UnsupportedPolicyError(`${logicalId}: ${resource.Type} property ${property} is not evaluated by the local IAM`);
        }
      }
    }
    const resolve = (value: unknown, context: string) => resolveIntrinsics(template, value, context);

    const roles = new Map<string, Role>();
    for (const [logicalId, resource] of resources) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const properties = resource.Properties ?? {};
      const statements: Statement[] = [];
      for (const arn of ([] as unknown[]).concat(properties['ManagedPolicyArns'] ?? [])) {
        statements.push(...managedPolicy(String(resolve(arn, logicalId)), logicalId));
      }
      for (const inline of (properties['Policies'] ?? []) as { PolicyName?: string; PolicyDocument?: unknown }[]) {
        const where = `${logicalId} policy ${inline.PolicyName ?? '(unnamed)'}`;
        statements.push(...parsePolicyDocument(resolve(inline.PolicyDocument, where), where));
      }
      const trust = trustStatementsOf(resolve(properties['AssumeRolePolicyDocument'], logicalId), logicalId);
      roles.set(logicalId, { name: localNameOf(template, logicalId), statements, trust });
    }
    for (const [logicalId, resource] of resources) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      const properties = resource.Properties ?? {};
      const statements = parsePolicyDocument(resolve(properties['PolicyDocument'], logicalId), logicalId);
      for (const reference of (properties['Roles'] ?? []) as unknown[]) {
        const roleId = (reference as { Ref?: unknown }).Ref;
        const role = typeof roleId === 'string' ? roles.get(roleId) : undefined;
        if (role === undefined) {
          throw new UnsupportedPolicyError(`${logicalId}: Roles must be Refs to roles of the template, got ${JSON.stringify(reference)}`);
        }
        role.statements.push(...statements);
      }
    }

    const permissions: FunctionPermission[] = [];
    for (const [logicalId, resource] of resources) {
      if (resource.Type !== 'AWS::Lambda::Permission') continue;
      permissions.push(permissionOf(resolve(resource.Properties ?? {}, logicalId) as Record<string, unknown>, logicalId));
    }
    return new TemplateIam(template, roles, permissions);
  }

  /** The role of a function (its `Role` property); a function whose role does not trust Lambda is an error, as on deploy. */
  roleOfFunction(functionLogicalId: string): string {
    return this.roleAssumedBy(functionLogicalId, 'AWS::Lambda::Function', 'Role', 'lambda.amazonaws.com');
  }

  /** The role a state machine invokes its functions with (its `RoleArn`), which must trust Step Functions. */
  roleOfStateMachine(stateMachineLogicalId: string): string {
    return this.roleAssumedBy(stateMachineLogicalId, 'AWS::StepFunctions::StateMachine', 'RoleArn', 'states.amazonaws.com');
  }

  /** `arn:aws:sts::<account>:assumed-role/<role name>/<session>`, as AWS names the caller in a denial. */
  principalArn(session: RoleSession): string {
    return `arn:${localPartition}:sts::${localAccountId}:assumed-role/${this.role(session.roleLogicalId).name}/${session.sessionName}`;
  }

  /**
   * Whether `session` may perform `action` on `resource` under its role's policies. `shownResource`
   * is what the denial names, when the service names the resource as the caller gave it (a
   * secret's name) rather than by the ARN it evaluated.
   */
  authorize(session: RoleSession, action: string, resource: string, shownResource = resource): Authorization {
    const decision = evaluate(this.role(session.roleLogicalId).statements, action, resource);
    return decision.allowed
      ? decision
      : { allowed: false, message: accessDeniedMessage(this.principalArn(session), action, shownResource, decision.denial) };
  }

  /**
   * Whether the service `principal` (`events.amazonaws.com`, `apigateway.amazonaws.com`) may invoke
   * a function on behalf of `sourceArn` (the rule, the API method): only a function's
   * resource-based policy (`AWS::Lambda::Permission`) grants that, as on AWS.
   */
  authorizeServiceInvoke(principal: string, sourceArn: string, functionArn: string, action = 'lambda:InvokeFunction'): Authorization {
    const granted = this.permissions.some(
      (permission) =>
        permission.principal === principal &&
        actionMatches(permission.action, action) &&
        resourceMatches(permission.functionArn, functionArn) &&
        (permission.sourceArn === undefined || resourceMatches(permission.sourceArn, sourceArn)),
    );
    return granted
      ? { allowed: true }
      : {
          allowed: false,
          message: `${principal} (source ${sourceArn}) is not authorized to perform: ${action} on resource: ${functionArn} because no resource-based policy allows the ${action} action`,
        };
  }

  private role(roleLogicalId: string): Role {
    const role = this.roles.get(roleLogicalId);
    if (role === undefined) throw new Error(`the template has no role ${roleLogicalId}`);
    return role;
  }

  private roleAssumedBy(logicalId: string, type: string, property: string, service: string): string {
    const resource = this.template.Resources?.[logicalId];
    if (resource?.Type !== type) throw new Error(`${logicalId} is not an ${type} of the template`);
    const reference = resource.Properties?.[property] as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const roleId = reference?.['Fn::GetAtt']?.[0];
    if (roleId === undefined || !this.roles.has(roleId)) {
      throw new UnsupportedPolicyError(`${logicalId}: ${property} must be Fn::GetAtt [<role of the template>, Arn], got ${JSON.stringify(reference)}`);
    }
    // The service assumes the role on behalf of this resource, and says so in the request's context.
    const context = { 'aws:SourceArn': localArnOf(this.template, logicalId), 'aws:SourceAccount': localAccountId };
    if (!this.role(roleId).trust.some((statement) => statement.services.includes(service) && conditionsHold(statement.conditions, context))) {
      throw new Error(`${logicalId}: its role ${roleId} does not trust ${service} to assume it for ${context['aws:SourceArn']}, so AWS would refuse to`);
    }
    return roleId;
  }

}

function managedPolicy(arn: string, roleId: string): Statement[] {
  const prefix = `arn:${localPartition}:iam::aws:policy/`;
  const document = arn.startsWith(prefix) ? managedPolicies[arn.slice(prefix.length)] : undefined;
  if (document === undefined) throw new UnsupportedPolicyError(`${roleId}: managed policy ${arn} is not known to the local IAM`);
  return parsePolicyDocument(document, `${roleId} managed policy ${arn}`);
}

/** A trust policy's statement: these services may assume the role when every condition holds. */
interface TrustStatement {
  readonly services: readonly string[];
  readonly conditions: readonly Condition[];
}

/** One condition of a trust policy: `<operator>: {<key>: <values>}`; any value may match. */
interface Condition {
  readonly operator: 'StringEquals' | 'StringLike' | 'ArnEquals' | 'ArnLike';
  readonly key: 'aws:SourceArn' | 'aws:SourceAccount';
  readonly values: readonly string[];
}

const conditionOperators = new Set(['StringEquals', 'StringLike', 'ArnEquals', 'ArnLike']);
const conditionKeys = new Set(['aws:SourceArn', 'aws:SourceAccount']);

/**
 * The statements of a trust policy: `Allow` of `sts:AssumeRole` to `Principal.Service`, with at
 * most the conditions CDK writes against the confused deputy (the source ARN and account).
 */
function trustStatementsOf(document: unknown, roleId: string): TrustStatement[] {
  const where = `${roleId} AssumeRolePolicyDocument`;
  const statements = ([] as unknown[]).concat((document as { Statement?: unknown } | undefined)?.Statement ?? []);
  return (statements as Record<string, unknown>[]).map((statement) => {
    const unknownKey = Object.keys(statement).find((key) => !['Sid', 'Effect', 'Action', 'Principal', 'Condition'].includes(key));
    if (unknownKey !== undefined) throw new UnsupportedPolicyError(`${where} uses ${unknownKey}, which the local IAM evaluator does not implement`);
    const principal = (statement['Principal'] ?? {}) as Record<string, unknown>;
    const principalKinds = Object.keys(principal).filter((kind) => kind !== 'Service');
    if (statement['Effect'] !== 'Allow' || principalKinds.length > 0 || ![statement['Action']].flat().every((action) => action === 'sts:AssumeRole')) {
      throw new UnsupportedPolicyError(`${where}: only Allow of sts:AssumeRole to a Service principal is implemented, got ${JSON.stringify(statement)}`);
    }
    const conditions: Condition[] = [];
    for (const [operator, tests] of Object.entries((statement['Condition'] ?? {}) as Record<string, Record<string, unknown>>)) {
      for (const [key, values] of Object.entries(tests)) {
        if (!conditionOperators.has(operator) || !conditionKeys.has(key)) {
          throw new UnsupportedPolicyError(`${where}: condition ${operator} on ${key} is not implemented by the local IAM evaluator`);
        }
        conditions.push({ operator: operator as Condition['operator'], key: key as Condition['key'], values: [values].flat().map(String) });
      }
    }
    return { services: [principal['Service']].flat().map(String), conditions };
  });
}

/** Whether every condition holds in `context` (within a condition, any of its values may match). */
function conditionsHold(conditions: readonly Condition[], context: Readonly<Record<Condition['key'], string>>): boolean {
  return conditions.every(({ operator, key, values }) =>
    values.some((value) =>
      operator === 'StringEquals' || operator === 'ArnEquals' ? value === context[key] : resourceMatches(value, context[key]),
    ),
  );
}

function permissionOf(properties: Record<string, unknown>, logicalId: string): FunctionPermission {
  const { Action, FunctionName, Principal, SourceArn, SourceAccount } = properties;
  if (typeof Principal !== 'string' || !Principal.endsWith('.amazonaws.com')) {
    throw new UnsupportedPolicyError(`${logicalId}: only a service principal is implemented, got Principal ${JSON.stringify(Principal)}`);
  }
  if (SourceAccount !== undefined && SourceAccount !== localAccountId) {
    throw new UnsupportedPolicyError(`${logicalId}: SourceAccount ${JSON.stringify(SourceAccount)} is not this account`);
  }
  const functionName = String(FunctionName);
  return {
    action: String(Action),
    // FunctionName may be a name (a Ref) or an ARN (a GetAtt).
    functionArn: functionName.startsWith('arn:') ? functionName : localFunctionArn(functionName),
    principal: Principal,
    ...(SourceArn !== undefined && { sourceArn: String(SourceArn) }),
  };
}

