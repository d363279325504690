import { describe, expect, it } from 'vitest';
import { stateMachineDefinitions } from '../../../../local/assembly/state-machine-definition.ts';

describe('stateMachineDefinitions', () => {
  it('resolves an Fn::Join definition with GetAtt ARNs and pseudo parameters into ASL', () => {
    // Prepare: the shape `cdk synth` writes.
    const template = {
      Resources: {
        AuthorizeFn1A2B: { Type: 'AWS::Lambda::Function', Properties: {} },
        CaptureFn3C4D: { Type: 'AWS::Lambda::Function', Properties: {} },
        PaymentSaga5E6F: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            DefinitionString: {
              'Fn::Join': [
                '',
                [
                  '{"StartAt":"Authorize","States":{"Authorize":{"Next":"Capture","Type":"Task","Resource":"',
                  { 'Fn::GetAtt': ['AuthorizeFn1A2B', 'Arn'] },
                  '"},"Capture":{"End":true,"Type":"Task","Resource":"arn:',
                  { Ref: 'AWS::Partition' },
                  ':states:::lambda:invoke","Parameters":{"FunctionName":"',
                  { 'Fn::GetAtt': ['CaptureFn3C4D', 'Arn'] },
                  '","Payload.$":"$"},"Comment":"in ',
                  { Ref: 'AWS::Region' },
                  ' of ',
                  { Ref: 'AWS::AccountId' },
                  '"}}}',
                ],
              ],
            },
          },
        },
        Other: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      },
    };

    // Act
    const definitions = stateMachineDefinitions(template);

    // Assess
    expect(definitions).toHaveLength(1);
    expect(definitions[0]!.logicalId).toBe('PaymentSaga5E6F');
    expect(definitions[0]!.definition).toEqual({
      StartAt: 'Authorize',
      States: {
        Authorize: {
          Next: 'Capture',
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:000000000000:function:AuthorizeFn1A2B',
        },
        Capture: {
          End: true,
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:CaptureFn3C4D', 'Payload.$': '$' },
          Comment: 'in us-east-1 of 000000000000',
        },
      },
    });
  });

  it('accepts a plain string definition', () => {
    // Prepare
    const template = {
      Resources: {
        Simple: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { StateMachineName: 'simple', DefinitionString: '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}' },
        },
      },
    };

    // Act
    const [simple] = stateMachineDefinitions(template);

    // Assess
    expect(simple).toMatchObject({ logicalId: 'Simple', stateMachineName: 'simple', definition: { StartAt: 'P' } });
  });
});
