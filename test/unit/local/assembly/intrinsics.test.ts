import { describe, expect, it } from 'vitest';
import { localArnOf, resolveIntrinsics } from '../../../../local/assembly/intrinsics.ts';

/** The shapes `cdk synth` writes for the resources the local stack names. */
const template = {
  Resources: {
    Table1: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Named: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'orders' } },
    Saga1: { Type: 'AWS::StepFunctions::StateMachine', Properties: {} },
    Secret1: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
    Fn1: { Type: 'AWS::Lambda::Function', Properties: {} },
    Role1: { Type: 'AWS::IAM::Role', Properties: {} },
    Rule1: { Type: 'AWS::Events::Rule', Properties: {} },
    Api1: { Type: 'AWS::ApiGateway::RestApi', Properties: {} },
    Stage1: { Type: 'AWS::ApiGateway::Stage', Properties: { StageName: 'api' } },
  },
  Parameters: { Stage: { Type: 'String' } },
};

const resolve = (value: unknown) => resolveIntrinsics(template, value, 'test');

describe('the local resources of a template', () => {
  it('answers Ref as CloudFormation does for each type: a name, or the ARN', () => {
    // Act
    const refs = ['Table1', 'Named', 'Saga1', 'Secret1', 'Fn1', 'Role1', 'Api1', 'Stage1', 'AWS::Region', 'AWS::AccountId'].map((id) =>
      resolve({ Ref: id }),
    );

    // Assess
    expect(refs).toEqual([
      'Table1',
      'orders',
      'arn:aws:states:us-east-1:000000000000:stateMachine:Saga1',
      expect.stringMatching(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:Secret1-[0-9a-f]{6}$/),
      'Fn1',
      'Role1',
      'Api1',
      'api',
      'us-east-1',
      '000000000000',
    ]);
  });

  it('gives each resource the ARN its service would, the same one for GetAtt and for the policies', () => {
    // Act
    const arns = ['Table1', 'Saga1', 'Fn1', 'Role1', 'Rule1'].map((id) => resolve({ 'Fn::GetAtt': [id, 'Arn'] }));

    // Assess
    expect(arns).toEqual([
      'arn:aws:dynamodb:us-east-1:000000000000:table/Table1',
      'arn:aws:states:us-east-1:000000000000:stateMachine:Saga1',
      'arn:aws:lambda:us-east-1:000000000000:function:Fn1',
      'arn:aws:iam::000000000000:role/Role1',
      'arn:aws:events:us-east-1:000000000000:rule/Rule1',
    ]);
    expect(resolve({ 'Fn::GetAtt': 'Table1.Arn' })).toBe(localArnOf(template, 'Table1'));
  });

  it("resolves the executions' ARN CDK writes for states:DescribeExecution (Join, Select, Split)", () => {
    // Prepare: StateMachine.grantExecution's resource.
    const executions = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':states:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':execution:',
          { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: 'Saga1' }] }] },
          ':*',
        ],
      ],
    };

    // Act
    const resolved = resolve(executions);

    // Assess
    expect(resolved).toBe('arn:aws:states:us-east-1:000000000000:execution:Saga1:*');
  });

  it('substitutes Fn::Sub variables, attributes and escapes', () => {
    // Act
    const resolved = resolve({ 'Fn::Sub': ['${Table1}/${Saga1.Name}/${Custom}/${!Literal}/${AWS::Region}', { Custom: { Ref: 'Named' } }] });

    // Assess
    expect(resolved).toBe('Table1/Saga1/orders/${Literal}/us-east-1');
  });

  it('refuses what it cannot resolve, naming it, instead of leaving it in place', () => {
    // Assess
    expect(() => resolve({ 'Fn::ImportValue': 'Shared' })).toThrow('test: Fn::ImportValue is not resolved locally');
    expect(() => resolve({ Ref: 'Missing' })).toThrow('test: no resource Missing in the template');
    expect(() => resolve({ 'Fn::GetAtt': ['Table1', 'StreamSpecification'] })).toThrow('Fn::GetAtt Table1.StreamSpecification (AWS::DynamoDB::Table) is not resolved locally');
    expect(() => resolve({ 'Fn::GetAtt': ['Api1', 'Arn'] })).toThrow('the local stack gives no ARN to Api1 (AWS::ApiGateway::RestApi)');
    expect(() => resolve({ Ref: 'Stage' })).toThrow('test: Ref to the parameter Stage: the local stack takes no parameter values');
    expect(() => resolve({ 'Fn::Select': [3, ['a', 'b']] })).toThrow('test: Fn::Select index 3 out of 2 items');
  });
});
