/**
 * The narrow evaluator against AWS's documented evaluation rules: the cases come from the IAM
 * User Guide (policy evaluation logic; the difference between explicit and implicit denies;
 * the Action and Resource elements).
 */
import { describe, expect, it } from 'vitest';
import {
  UnsupportedPolicyError,
  accessDeniedMessage,
  evaluate,
  parsePolicyDocument,
} from '../../../../local/iam/policy-evaluator.ts';

const policy = (...Statement: Record<string, unknown>[]) => parsePolicyDocument({ Version: '2012-10-17', Statement }, 'test policy');
const table = 'arn:aws:dynamodb:us-east-1:000000000000:table/Payments';

describe('the policy evaluator', () => {
  it('denies by default: no statement, no allow (implicit deny)', () => {
    // Act
    const decision = evaluate([], 'dynamodb:GetItem', table);

    // Assess
    expect(decision).toEqual({ allowed: false, denial: 'implicit' });
  });

  it('allows what an Allow statement names, and nothing beside it', () => {
    // Prepare
    const statements = policy({ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: table });

    // Act & Assess
    expect(evaluate(statements, 'dynamodb:PutItem', table)).toEqual({ allowed: true });
    expect(evaluate(statements, 'dynamodb:DeleteItem', table)).toEqual({ allowed: false, denial: 'implicit' });
    expect(evaluate(statements, 'dynamodb:GetItem', `${table}2`)).toEqual({ allowed: false, denial: 'implicit' });
  });

  it("lets an explicit Deny win over any Allow (the guide's AllowGetList and DenyReports)", () => {
    // Prepare: the IAM User Guide's example of explicit and implicit denies.
    const statements = policy(
      { Sid: 'AllowGetList', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
      { Sid: 'DenyReports', Effect: 'Deny', Action: 'iam:*Report', Resource: '*' },
    );

    // Act & Assess
    expect(evaluate(statements, 'iam:ListUsers', '*')).toEqual({ allowed: true });
    expect(evaluate(statements, 'iam:GetCredentialReport', '*')).toEqual({ allowed: false, denial: 'explicit' });
    expect(evaluate(statements, 'iam:CreatePolicy', '*')).toEqual({ allowed: false, denial: 'implicit' });
  });

  it('matches action names case-insensitively, with * and ? wildcards', () => {
    // Prepare: "iam:ListAccessKeys" and "IAM:listaccesskeys" are the same action.
    const statements = policy({ Effect: 'Allow', Action: ['IAM:listaccesskeys', 'dynamodb:?etItem'], Resource: '*' });

    // Act & Assess
    expect(evaluate(statements, 'iam:ListAccessKeys', '*').allowed).toBe(true);
    expect(evaluate(statements, 'dynamodb:GetItem', '*').allowed).toBe(true);
    expect(evaluate(statements, 'dynamodb:SetItem', '*').allowed).toBe(true);
    expect(evaluate(statements, 'dynamodb:BatchGetItem', '*').allowed).toBe(false);
  });

  it('matches resources case-sensitively', () => {
    // Prepare
    const statements = policy({ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: table });

    // Act & Assess
    expect(evaluate(statements, 'dynamodb:GetItem', table.toLowerCase()).allowed).toBe(false);
  });

  it("covers a table's indexes with table/X/index/*, and not the table itself", () => {
    // Prepare
    const statements = policy({ Effect: 'Allow', Action: 'dynamodb:Query', Resource: `${table}/index/*` });

    // Act & Assess
    expect(evaluate(statements, 'dynamodb:Query', `${table}/index/by_due`).allowed).toBe(true);
    expect(evaluate(statements, 'dynamodb:Query', table).allowed).toBe(false);
    expect(evaluate(statements, 'dynamodb:Query', 'arn:aws:dynamodb:us-east-1:000000000000:table/Other/index/by_due').allowed).toBe(false);
  });

  it('expands * within a segment (slashes included) and beyond it only when it ends the segment', () => {
    // Prepare: the guide's user/accounting/* and bucket/*, an execution ARN as CDK grants it.
    const statements = policy({
      Effect: 'Allow',
      Action: '*',
      Resource: [
        'arn:aws:iam::000000000000:user/accounting/*',
        'arn:aws:states:us-east-1:000000000000:execution:Saga:*',
        'arn:aws:dynamodb:us-*-1:000000000000:table/Orders',
        'arn:aws:lambda:us-east-1:000000000000:function:Step?',
      ],
    });

    // Act & Assess
    expect(evaluate(statements, 'iam:GetUser', 'arn:aws:iam::000000000000:user/accounting/team/bob').allowed).toBe(true);
    expect(evaluate(statements, 'iam:GetUser', 'arn:aws:iam::000000000000:user/marketing/bob').allowed).toBe(false);
    expect(evaluate(statements, 'states:DescribeExecution', 'arn:aws:states:us-east-1:000000000000:execution:Saga:p-1').allowed).toBe(true);
    expect(evaluate(statements, 'states:DescribeExecution', 'arn:aws:states:us-east-1:000000000000:execution:Other:p-1').allowed).toBe(false);
    expect(evaluate(statements, 'dynamodb:GetItem', 'arn:aws:dynamodb:us-west-1:000000000000:table/Orders').allowed).toBe(true);
    expect(evaluate(statements, 'dynamodb:GetItem', 'arn:aws:dynamodb:eu-west-1:000000000000:table/Orders').allowed).toBe(false);
    // A * inside a segment does not reach across the colon that ends it.
    expect(evaluate(statements, 'dynamodb:GetItem', 'arn:aws:dynamodb:us-x:y-1:000000000000:table/Orders').allowed).toBe(false);
    expect(evaluate(statements, 'lambda:InvokeFunction', 'arn:aws:lambda:us-east-1:000000000000:function:Step1').allowed).toBe(true);
    expect(evaluate(statements, 'lambda:InvokeFunction', 'arn:aws:lambda:us-east-1:000000000000:function:Step12').allowed).toBe(false);
  });

  it('writes the denial as AWS does, for an implicit and for an explicit deny', () => {
    // Act
    const implicit = accessDeniedMessage('arn:aws:sts::000000000000:assumed-role/R/F', 'dynamodb:PutItem', table, 'implicit');
    const explicit = accessDeniedMessage('arn:aws:sts::000000000000:assumed-role/R/F', 'dynamodb:PutItem', table, 'explicit');

    // Assess
    expect(implicit).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/R/F is not authorized to perform: dynamodb:PutItem on resource: ${table} because no identity-based policy allows the dynamodb:PutItem action`,
    );
    expect(explicit).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/R/F is not authorized to perform: dynamodb:PutItem on resource: ${table} with an explicit deny in an identity-based policy`,
    );
  });

  describe('refuses at startup what it does not implement, naming it', () => {
    const refusals: [string, Record<string, unknown>, string][] = [
      ['a Condition', { Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }, 'uses Condition'],
      ['NotAction', { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }, 'uses NotAction'],
      ['NotResource', { Effect: 'Allow', Action: '*', NotResource: table }, 'uses NotResource'],
      ['a Principal in an identity policy', { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }, 'uses Principal'],
      ['NotPrincipal', { Effect: 'Deny', NotPrincipal: { AWS: 'x' }, Action: '*', Resource: '*' }, 'uses NotPrincipal'],
      ['a policy variable', { Effect: 'Allow', Action: '*', Resource: 'arn:aws:dynamodb:us-east-1:0:table/${aws:username}' }, 'policy variable'],
      ['an Effect IAM does not know', { Effect: 'allow', Action: '*', Resource: '*' }, 'Effect must be Allow or Deny'],
      ['a statement without Resource', { Effect: 'Allow', Action: '*' }, 'has no Resource'],
      ['a wildcard in the service segment', { Effect: 'Allow', Action: '*', Resource: 'arn:aws:*:us-east-1:0:table/T' }, 'wildcard in its service segment'],
      ['an action without its service', { Effect: 'Allow', Action: 'GetItem', Resource: '*' }, 'neither * nor service:action'],
    ];
    it.each(refusals)('%s', (_, statement, named) => {
      // Act & Assess
      expect(() => policy(statement)).toThrow(UnsupportedPolicyError);
      expect(() => policy(statement)).toThrow(named);
      expect(() => policy(statement)).toThrow('test policy, statement 1');
    });
  });
});
