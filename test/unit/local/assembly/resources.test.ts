import { describe, expect, it } from 'vitest';
import type { CloudAssembly } from '../../../../local/assembly/cloud-assembly.ts';
import type { CfnTemplate } from '../../../../local/assembly/intrinsics.ts';
import { readResources, streamMappingsOf } from '../../../../local/assembly/resources.ts';

/** An assembly of `template` whose every asset is in `/assets/<key>`. */
const assemblyOf = (template: CfnTemplate): CloudAssembly => ({ dir: '/assembly', stackName: 'Test', template, assetDir: (key) => `/assets/${key}` });

const role = { Type: 'AWS::IAM::Role', Properties: {} };
const fn = (variables: Record<string, unknown>) => ({
  Type: 'AWS::Lambda::Function',
  Properties: {
    Code: { S3Bucket: 'bucket', S3Key: 'bundle.zip' },
    Handler: 'index.handler',
    Runtime: 'nodejs22.x',
    MemorySize: 256,
    Timeout: 10,
    Role: { 'Fn::GetAtt': ['Role1', 'Arn'] },
    Environment: { Variables: variables },
  },
  Metadata: { 'aws:cdk:path': 'Test/Functions/CreatePayment/Resource' },
});

describe('the assembly reader', () => {
  it("reads a function's bundle, limits, role and environment, its intrinsics resolved to the local resources", () => {
    // Prepare
    const template = {
      Resources: {
        Role1: role,
        Table1: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'payments' } },
        Saga1: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: '{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}' } },
        Fn1: fn({ TABLE_NAME: { Ref: 'Table1' }, STATE_MACHINE_ARN: { Ref: 'Saga1' }, TABLE_ARN: { 'Fn::Sub': '${Table1.Arn}/index/*' } }),
      },
    };

    // Act
    const [read] = readResources(assemblyOf(template)).functions;

    // Assess
    expect(read).toEqual({
      logicalId: 'Fn1',
      name: 'Fn1',
      constructId: 'CreatePayment',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:Fn1',
      codeDir: '/assets/bundle.zip',
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      memoryMb: 256,
      timeoutSeconds: 10,
      environment: {
        TABLE_NAME: 'payments',
        STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:Saga1',
        TABLE_ARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/payments/index/*',
      },
      roleLogicalId: 'Role1',
    });
  });

  it('refuses at startup a resource type it neither hosts nor ignores on purpose, naming the type and the resource', () => {
    // Prepare
    const template = { Resources: { Role1: role, Bucket1: { Type: 'AWS::S3::Bucket', Properties: {} } } };

    // Act & Assess
    expect(() => readResources(assemblyOf(template))).toThrow(/the local stack cannot host AWS::S3::Bucket \(Bucket1\)/);
  });

  it('refuses a Task that invokes anything but a function of the template', () => {
    // Prepare
    const definition = { StartAt: 'Put', States: { Put: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', End: true } } };
    const template = { Resources: { Saga1: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: JSON.stringify(definition) } } } };

    // Act & Assess
    expect(() => readResources(assemblyOf(template))).toThrow('Saga1 Task Put: arn:aws:states:::dynamodb:putItem is no Lambda function; only those run locally');
  });
});

describe("the assembly reader's event source mappings", () => {
  const mapping = (properties: Record<string, unknown>): CfnTemplate => ({
    Resources: {
      Role1: role,
      Table1: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'payments' } },
      Fn1: fn({}),
      Mapping1: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { FunctionName: { Ref: 'Fn1' }, EventSourceArn: { 'Fn::GetAtt': ['Table1', 'StreamArn'] }, StartingPosition: 'TRIM_HORIZON', ...properties },
      },
    },
  });

  it("reads a table stream's mapping with its batch size, retries, bisection and filter", () => {
    // Act
    const [read] = streamMappingsOf(
      mapping({
        BatchSize: 25,
        MaximumRetryAttempts: 3,
        BisectBatchOnFunctionError: true,
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ dynamodb: { NewImage: { status: { S: ['succeeded'] } } } }) }] },
      }),
    );

    // Assess
    expect(read).toMatchObject({
      logicalId: 'Mapping1',
      functionLogicalId: 'Fn1',
      tableLogicalId: 'Table1',
      batchSize: 25,
      maximumRetryAttempts: 3,
      bisectBatchOnFunctionError: true,
      filters: [{ dynamodb: { NewImage: { status: { S: ['succeeded'] } } } }],
    });
  });

  it('refuses at startup what the streams poller would not honour, naming it, instead of running the mapping without it', () => {
    expect(() => streamMappingsOf(mapping({ TumblingWindowInSeconds: 60 }))).toThrow('Mapping1: the streams poller does not honour TumblingWindowInSeconds');
    expect(() => streamMappingsOf(mapping({ StartingPosition: 'AT_TIMESTAMP' }))).toThrow('Mapping1.StartingPosition: AT_TIMESTAMP');
    expect(() =>
      streamMappingsOf(mapping({ FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ dynamodb: { NewImage: { status: { S: [{ prefix: 'succ' }] } } } }) }] } })),
    ).toThrow(/only exact values are matched locally/);
  });

  it('runs no mapping the template disables', () => {
    expect(streamMappingsOf(mapping({ Enabled: false }))).toEqual([]);
  });
});
