import { beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_BATCH_SIZE, LEDGER_RETRY_ATTEMPTS } from '../../lib/ledger-stream.ts';
import { logicalIdOf, synthesize, type Synthesized } from './synth.ts';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});

/** The poster's mapping (the event publisher has its own: test/infra/webhook-delivery.test.ts). */
function onlyMapping() {
  const mappings = Object.values(synth.template.findResources('AWS::Lambda::EventSourceMapping')).filter(
    (mapping) => (mapping.Properties.FunctionName as { Ref?: string }).Ref === logicalIdOf(synth.stack.functions.ledgerPoster),
  );
  expect(mappings).toHaveLength(1);
  return mappings[0]!.Properties as Record<string, unknown>;
}

describe('the ledger stream', () => {
  it('streams the table’s changes with the item before and after', () => {
    // Act
    const [table] = Object.values(synth.template.findResources('AWS::DynamoDB::Table'));

    // Assess
    expect(table?.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  it('delivers the stream to the ledger poster from its start, in bisected batches, retried a bounded number of times', () => {
    // Act
    const mapping = onlyMapping();

    // Assess
    expect(mapping).toMatchObject({
      FunctionName: { Ref: logicalIdOf(synth.stack.functions.ledgerPoster) },
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(synth.stack.table.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: LEDGER_BATCH_SIZE,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: LEDGER_RETRY_ATTEMPTS,
    });
    expect(LEDGER_RETRY_ATTEMPTS).toBeGreaterThan(0);
  });

  it('sends what it gives up on to a queue whose first message raises the alarm on the alarms topic', () => {
    // Prepare
    const queueId = logicalIdOf(synth.stack.ledgerStream.failures);

    // Act
    const mapping = onlyMapping();
    const alarm = synth.template.toJSON().Resources[logicalIdOf(synth.stack.ledgerStream.failuresAlarm)].Properties;

    // Assess
    expect(mapping['DestinationConfig']).toEqual({ OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } });
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: logicalIdOf(synth.stack.alarms.topic) }],
    });
  });

  it('lets through only succeeded payments and refunds, inserted or modified', () => {
    // Act
    const filters = (onlyMapping()['FilterCriteria'] as { Filters: { Pattern: string }[] }).Filters.map((f) => JSON.parse(f.Pattern));

    // Assess
    expect(filters).toEqual([
      {
        eventName: ['INSERT', 'MODIFY'],
        dynamodb: { NewImage: { type: { S: ['payment', 'refund'] }, status: { S: ['succeeded'] } } },
      },
    ]);
  });
});
