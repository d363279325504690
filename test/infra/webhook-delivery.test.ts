import { beforeAll, describe, expect, it } from 'vitest';
import { webhookSteps } from '../../functions/catalog.ts';
import { EnvVar } from '../../functions/config/env.ts';
import { Metric } from '../../functions/config/metrics.ts';
import { PROCESS_EXIT_ERROR_NAME, TransientErrorNames, WebhookGiveUpErrorNames } from '../../functions/domain/errors.ts';
import { DELIVERY_GIVE_UP_SECONDS } from '../../functions/domain/webhooks.ts';
import { DELIVERY_MAX_ATTEMPTS } from '../../lib/webhook-delivery.ts';
import {
  actionsOf,
  directInvocationsOf,
  logicalIdOf,
  stateMachineDefinition,
  statementsOfRole,
  synthesize,
  taskResourcesOf,
  type AslDefinition,
  type Synthesized,
} from './synth.ts';

let synth: Synthesized;
let definition: AslDefinition;
beforeAll(() => {
  synth = synthesize();
  definition = stateMachineDefinition(synth.template, 'DeliverWebhook');
});

const roleOf = (fn: { role?: unknown }) => logicalIdOf(fn.role as never);

describe('the event publisher’s stream', () => {
  it('feeds the publisher the table’s inserts and changes of payments, refunds, carts and payouts in an eventful status, bisected, retried, its give-ups queued and alarmed', () => {
    // Prepare
    const mappings = Object.values(synth.template.findResources('AWS::Lambda::EventSourceMapping')).map((m) => m.Properties as Record<string, any>);
    const queueId = logicalIdOf(synth.stack.webhooks.publishing.failures);

    // Act
    const mapping = mappings.find((m) => m.FunctionName?.Ref === logicalIdOf(synth.stack.functions.eventPublisher));
    const alarm = synth.template.toJSON().Resources[logicalIdOf(synth.stack.webhooks.publishing.failuresAlarm)].Properties;

    // Assess
    expect(mapping).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(synth.stack.table.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    const patterns = mapping!.FilterCriteria.Filters.map((filter: { Pattern: string }) => JSON.parse(filter.Pattern));
    expect(patterns).toEqual([
      {
        eventName: ['INSERT', 'MODIFY'],
        dynamodb: { NewImage: { type: { S: ['payment', 'refund', 'cart', 'payout'] }, status: { S: ['succeeded', 'failed', 'canceled', 'applied', 'done', 'expired', 'paid'] } } },
      },
      // Only a manual payment's authorization: an automatic one's would invoke the publisher for nothing on every payment.
      {
        eventName: ['INSERT', 'MODIFY'],
        dynamodb: { NewImage: { type: { S: ['payment'] }, status: { S: ['authorized'] }, capture_method: { S: ['manual'] } } },
      },
    ]);
    expect(alarm).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 1, AlarmActions: [{ Ref: logicalIdOf(synth.stack.alarms.topic) }] });
  });
});

describe('the webhook delivery state machine', () => {
  it('has one Task per catalog webhook step, invoking its function directly', () => {
    // Assess
    expect(taskResourcesOf(definition)).toEqual(directInvocationsOf(synth.stack.functions.webhookSteps));
    expect(Object.keys(taskResourcesOf(definition)).sort()).toEqual(Object.keys(webhookSteps).sort());
  });

  it('retries a failed attempt (and one whose function died) with exponential, capped, fully jittered backoff, besides the transient errors', () => {
    // Act
    const retriers = definition.States.DeliverWebhook!.Retry as Record<string, unknown>[];

    // Assess
    expect(retriers.map((r) => r.ErrorEquals)).toEqual([[...TransientErrorNames], ['WebhookAttemptFailed', PROCESS_EXIT_ERROR_NAME]]);
    expect(retriers[1]).toMatchObject({ IntervalSeconds: 30, BackoffRate: 2, MaxDelaySeconds: 3600, JitterStrategy: 'FULL', MaxAttempts: DELIVERY_MAX_ATTEMPTS });
  });

  it('gives the attempt the execution’s start, and gives up into GiveUpWebhook then a Fail, and nothing else is caught', () => {
    // Act
    const deliver = definition.States.DeliverWebhook!;

    // Assess
    expect(deliver.Parameters).toEqual({ 'event_id.$': '$.event_id', 'endpoint_id.$': '$.endpoint_id', 'started_at.$': '$$.Execution.StartTime' });
    expect(deliver.Catch).toEqual([{ ErrorEquals: [...WebhookGiveUpErrorNames], ResultPath: '$.error', Next: 'GiveUpWebhook' }]);
    expect(definition.States.GiveUpWebhook).toMatchObject({ Next: 'DeliveryFailed' });
    expect(definition.States.DeliveryFailed).toMatchObject({ Type: 'Fail' });
    expect(definition.States.GiveUpWebhook!.Catch).toBeUndefined();
  });

  it('lets an execution outlive the three days the attempts count', () => {
    // Act
    const [machine] = Object.values(synth.template.findResources('AWS::StepFunctions::StateMachine')).filter((m) =>
      JSON.stringify(m.Properties.DefinitionString).includes('DeliverWebhook'),
    );
    const definitionText = JSON.stringify(machine!.Properties.DefinitionString);

    // Assess
    expect(definitionText).toContain(`\\"TimeoutSeconds\\":${DELIVERY_GIVE_UP_SECONDS + 24 * 3600}`);
  });

  it('alarms on the topic when a delivery is given up', () => {
    // Act
    const alarm = synth.template.toJSON().Resources[logicalIdOf(synth.stack.webhooks.deliveriesFailedAlarm)].Properties;

    // Assess
    expect(alarm).toMatchObject({
      MetricName: Metric.WebhookDeliveriesFailed.name,
      Dimensions: expect.arrayContaining([{ Name: 'step', Value: 'GiveUpWebhook' }]),
      Threshold: 1,
      AlarmActions: [{ Ref: logicalIdOf(synth.stack.alarms.topic) }],
    });
  });
});

describe('grants', () => {
  it('lets only the publisher and the redeliver route start deliveries, and gives them the state machine', () => {
    // Prepare
    const machineId = logicalIdOf(synth.stack.webhooks.stateMachine);
    const redeliver = synth.stack.functions.routes.find(({ route }) => route.id === 'RedeliverEvent')!.fn;
    const functions = Object.entries(synth.template.findResources('AWS::Lambda::Function'));

    // Act
    const starters = Object.values(synth.template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.PolicyDocument).includes(`"Ref":"${machineId}"`))
      .flatMap((policy) => (policy.Properties.Roles as { Ref: string }[]).map((role) => role.Ref))
      .sort();
    const withArn = functions.filter(([, fn]) => fn.Properties.Environment?.Variables?.[EnvVar.WebhookStateMachineArn] !== undefined).map(([id]) => id).sort();

    // Assess
    expect(starters).toEqual([roleOf(synth.stack.functions.eventPublisher), roleOf(redeliver)].sort());
    expect(withArn).toEqual([logicalIdOf(synth.stack.functions.eventPublisher), logicalIdOf(redeliver)].sort());
  });

  it('lets the publisher put events and query endpoints, an attempt read and put, a give-up put, and the events list query its index', () => {
    // Prepare
    const listEvents = synth.stack.functions.routes.find(({ route }) => route.id === 'ListEvents')!.fn;
    const dynamo = (fn: { role?: unknown }) => actionsOf(statementsOfRole(synth.template, roleOf(fn)), 'dynamodb');

    // Assess
    // Besides the stream its mapping reads as its role.
    expect(dynamo(synth.stack.functions.eventPublisher)).toEqual(
      ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams', 'dynamodb:PutItem', 'dynamodb:Query'],
    );
    expect(dynamo(synth.stack.functions.webhookSteps.DeliverWebhook)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(dynamo(synth.stack.functions.webhookSteps.GiveUpWebhook)).toEqual(['dynamodb:PutItem']);
    expect(JSON.stringify(statementsOfRole(synth.template, roleOf(listEvents)))).toContain('/index/by_merchant');
  });
});
