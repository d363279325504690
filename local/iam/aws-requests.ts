/**
 * What an AWS JSON-protocol request asks IAM for: the service it goes to (by its `X-Amz-Target`)
 * and each action on each resource it must be allowed, as the services document their
 * authorization. A request is allowed only if every one of them is.
 */
import { localArn } from '../assembly/local-account.ts';

export type AwsService = 'dynamodb' | 'sfn' | 'secretsManager';

/** One authorization a request needs. `shownResource` is what a denial names, when not `resource`. */
export interface Access {
  readonly action: string;
  readonly resource: string;
  readonly shownResource?: string;
}

const targetPrefixes: Readonly<Record<string, AwsService>> = {
  DynamoDB_20120810: 'dynamodb',
  DynamoDBStreams_20120810: 'dynamodb',
  AWSStepFunctions: 'sfn',
  secretsmanager: 'secretsManager',
};

/** `DynamoDB_20120810.PutItem` → dynamodb, PutItem; undefined for a service the local stack does not serve. */
export function operationOf(target: string): { service: AwsService; operation: string } | undefined {
  const dot = target.indexOf('.');
  const service = targetPrefixes[target.slice(0, dot)];
  return dot < 0 || service === undefined ? undefined : { service, operation: target.slice(dot + 1) };
}

/** The kind of each item of a TransactWriteItems, and the action it is authorized as. */
const transactWriteActions: Readonly<Record<string, string>> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/**
 * The authorizations a request needs. DynamoDB: its table's (or index's, for a Query or Scan of
 * one) ARN; a transaction needs each item's own action on the item's table (a Put is a PutItem,
 * a ConditionCheck a ConditionCheckItem, a Get a GetItem), a batch its operation on every table.
 * Step Functions: the state machine's or the execution's ARN. Secrets Manager: the secret's ARN,
 * found by `secretArnOf` from the name or ARN the caller gave, which the denial names.
 */
export function accessesOf(
  service: AwsService,
  operation: string,
  body: Record<string, unknown>,
  secretArnOf: (secretId: string) => string | undefined,
): Access[] {
  switch (service) {
    case 'dynamodb':
      return dynamoDbAccesses(operation, body);
    case 'sfn': {
      const arn = body['stateMachineArn'] ?? body['executionArn'];
      return [{ action: `states:${operation}`, resource: typeof arn === 'string' ? arn : '*' }];
    }
    case 'secretsManager': {
      const secretId = body['SecretId'];
      if (typeof secretId !== 'string') return [{ action: `secretsmanager:${operation}`, resource: '*' }];
      const resource =
        secretArnOf(secretId) ?? (secretId.startsWith('arn:') ? secretId : localArn('secretsmanager', `secret:${secretId}`));
      return [{ action: `secretsmanager:${operation}`, resource, shownResource: secretId }];
    }
  }
}

function dynamoDbAccesses(operation: string, body: Record<string, unknown>): Access[] {
  const entries = (value: unknown) => (Array.isArray(value) ? (value as Record<string, Record<string, unknown>>[]) : []);
  switch (operation) {
    case 'TransactWriteItems':
      return entries(body['TransactItems']).flatMap((item) =>
        Object.entries(item).map(([kind, part]) => ({
          action: transactWriteActions[kind] ?? `dynamodb:${kind}`,
          resource: tableArn(part['TableName']),
        })),
      );
    case 'TransactGetItems':
      return entries(body['TransactItems']).map((item) => ({ action: 'dynamodb:GetItem', resource: tableArn(item['Get']?.['TableName']) }));
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((body['RequestItems'] ?? {}) as object).map((table) => ({ action: `dynamodb:${operation}`, resource: tableArn(table) }));
    case 'Query':
    case 'Scan': {
      const index = body['IndexName'];
      const table = tableArn(body['TableName']);
      return [{ action: `dynamodb:${operation}`, resource: typeof index === 'string' ? `${table}/index/${index}` : table }];
    }
    default: {
      const arn = body['TableName'] ?? body['StreamArn'];
      return [{ action: `dynamodb:${operation}`, resource: typeof arn === 'string' ? tableArn(arn) : '*' }];
    }
  }
}

/** DynamoDB takes a table's name or its ARN wherever it takes a table. */
function tableArn(table: unknown): string {
  const name = String(table);
  return name.startsWith('arn:') ? name : localArn('dynamodb', `table/${name}`);
}
