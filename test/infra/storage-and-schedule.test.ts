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
        { AttributeName: 'list_pk', AttributeType: 'S' },
        { AttributeName: 'list_sk', AttributeType: 'S' },
      ]),
    );
  });
});

describe('reconcile schedule', () => {
  it.each([
    ['reconciler', 'rate(1 minute)'],
    ['settleDay', 'rate(1 hour)'],
  ] as const)('invokes the %s on its own rule, %s, without EventBridge retries', (fn, rate) => {
    // Prepare
    const targetId = logicalIdOf(synth.stack.functions[fn]);

    // Act
    const rules = Object.values(synth.template.findResources('AWS::Events::Rule'));
    const rule = rules.find((r) => JSON.stringify(r.Properties.Targets).includes(targetId));

    // Assess
    expect(rules).toHaveLength(2);
    expect(rule?.Properties).toMatchObject({
      ScheduleExpression: rate,
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [targetId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        },
      ],
    });
    expect(rule?.Properties.Targets).toHaveLength(1);
  });

  it('lets EventBridge invoke the reconciler and the settlement, no other', () => {
    // Act
    const permissions = Object.values(synth.template.findResources('AWS::Lambda::Permission')).filter(
      (p) => p.Properties.Principal === 'events.amazonaws.com',
    );

    // Assess
    expect(permissions.map((p) => p.Properties.FunctionName)).toEqual([
      { 'Fn::GetAtt': [logicalIdOf(synth.stack.functions.reconciler), 'Arn'] },
      { 'Fn::GetAtt': [logicalIdOf(synth.stack.functions.settleDay), 'Arn'] },
    ]);
  });
});
