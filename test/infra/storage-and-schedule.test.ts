import { beforeAll, describe, expect, it } from 'vitest';
import { BY_DUE_INDEX_NAME } from '../../lib/payments-table.ts';
import { BY_MERCHANT_INDEX } from '../../functions/adapters/dynamodb/table.ts';
import { logicalIdOf, synthesize, type Synthesized } from './synth.ts';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});

describe('payments table', () => {
  it('is one on-demand AWS::DynamoDB::Table keyed by pk and sk, retained on stack deletion', () => {
    // Act
    const tables = synth.template.findResources('AWS::DynamoDB::Table');
    const [table] = Object.values(tables);

    // Assess
    expect(Object.keys(tables)).toHaveLength(1);
    expect(synth.template.findResources('AWS::DynamoDB::GlobalTable')).toEqual({});
    expect(table?.DeletionPolicy).toBe('Retain');
    expect(table?.UpdateReplacePolicy).toBe('Retain');
    expect(table?.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
  });

  it('has point-in-time recovery and a TTL on expires_at', () => {
    // Act
    const [table] = Object.values(synth.template.findResources('AWS::DynamoDB::Table'));

    // Assess
    expect(table?.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table?.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expires_at', Enabled: true });
  });

  it('indexes unfinished payments by due shard and due time, and each merchant’s listed records by creation, projecting everything', () => {
    // Act
    const [table] = Object.values(synth.template.findResources('AWS::DynamoDB::Table'));

    // Assess
    expect(table?.Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: BY_DUE_INDEX_NAME,
        KeySchema: [
          { AttributeName: 'due_shard', KeyType: 'HASH' },
          { AttributeName: 'due_at', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: BY_MERCHANT_INDEX,
        KeySchema: [
          { AttributeName: 'list_pk', KeyType: 'HASH' },
          { AttributeName: 'list_sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(table?.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'due_shard', AttributeType: 'S' },
        { AttributeName: 'due_at', AttributeType: 'S' },
      ]),
    );
  });
});

describe('reconcile schedule', () => {
  it('invokes the reconciler every minute without EventBridge retries', () => {
    // Prepare
    const reconcilerId = logicalIdOf(synth.stack.functions.reconciler);

    // Act
    const rules = Object.values(synth.template.findResources('AWS::Events::Rule'));

    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [reconcilerId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        },
      ],
    });
    expect(rules[0]?.Properties.Targets).toHaveLength(1);
  });

  it('lets EventBridge invoke the reconciler', () => {
    // Act
    const permissions = Object.values(synth.template.findResources('AWS::Lambda::Permission')).filter(
      (p) => p.Properties.Principal === 'events.amazonaws.com',
    );

    // Assess
    expect(permissions).toHaveLength(1);
    expect(permissions[0]?.Properties.FunctionName).toEqual({
      'Fn::GetAtt': [logicalIdOf(synth.stack.functions.reconciler), 'Arn'],
    });
  });
});
