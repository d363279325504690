/**
 * The one account and region the local stack pretends to be, and the ARNs its resources get
 * there: what a template's `Ref`, `Fn::GetAtt` and pseudo parameters resolve to locally.
 */
export const localPartition = 'aws';
export const localRegion = 'us-east-1';
export const localAccountId = '000000000000';

export const pseudoParameters: Readonly<Record<string, string>> = {
  'AWS::Partition': localPartition,
  'AWS::Region': localRegion,
  'AWS::AccountId': localAccountId,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'local',
  'AWS::StackId': `arn:${localPartition}:cloudformation:${localRegion}:${localAccountId}:stack/local/local`,
};

/** `arn:aws:<service>:us-east-1:000000000000:<resource>`; IAM's ARNs have no region. */
export function localArn(service: string, resource: string): string {
  const region = service === 'iam' ? '' : localRegion;
  return `arn:${localPartition}:${service}:${region}:${localAccountId}:${resource}`;
}

export const localFunctionArn = (name: string): string => localArn('lambda', `function:${name}`);
export const localStateMachineArn = (name: string): string => localArn('states', `stateMachine:${name}`);
export const localExecutionArn = (stateMachineName: string, executionName: string): string =>
  localArn('states', `execution:${stateMachineName}:${executionName}`);

/**
 * The function a Lambda ARN names (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`),
 * or a bare function name as Step Functions and API Gateway accept one; undefined for anything else.
 */
export function functionNameOfArn(arnOrName: string): string | undefined {
  const arn = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/.exec(arnOrName);
  if (arn !== null) return arn[1];
  return /^[A-Za-z0-9_-]{1,140}$/.test(arnOrName) ? arnOrName : undefined;
}
