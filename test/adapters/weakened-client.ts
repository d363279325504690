import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The parts of a write's input that may name expression attributes. */
interface ExpressionInput {
  ConditionExpression?: string;
  UpdateExpression?: string;
  KeyConditionExpression?: string;
  FilterExpression?: string;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/**
 * `db` with `from` replaced by `to` in every condition it sends (a condition left empty is
 * dropped): the adapter's code as it is, its guard as a careless edit would leave it. Names
 * and values the weakened expressions no longer use are dropped too, as the edit would have
 * to, since DynamoDB refuses unused ones. `strikes` counts the writes it weakened: a mutation
 * that never struck proves nothing.
 */
export function weakenedConditions(
  db: DynamoDBDocumentClient,
  from: string,
  to: string,
): { readonly db: DynamoDBDocumentClient; strikes(): number } {
  let strikes = 0;
  const send = (command: { input: object }) => {
    for (const write of writesOf(command.input)) if (rewrite(write, from, to)) strikes += 1;
    return db.send(command as Parameters<DynamoDBDocumentClient['send']>[0]);
  };
  return {
    db: new Proxy(db, { get: (target, property, receiver) => (property === 'send' ? send : Reflect.get(target, property, receiver)) }),
    strikes: () => strikes,
  };
}

function writesOf(input: object): ExpressionInput[] {
  const items = (input as { TransactItems?: Record<string, ExpressionInput | undefined>[] }).TransactItems;
  if (items === undefined) return [input as ExpressionInput];
  return items.flatMap((item) => Object.values(item).filter((write) => write !== undefined));
}

function rewrite(write: ExpressionInput, from: string, to: string): boolean {
  if (write.ConditionExpression === undefined || !write.ConditionExpression.includes(from)) return false;
  const weakened = write.ConditionExpression.replaceAll(from, to).trim();
  if (weakened === '') delete write.ConditionExpression;
  else write.ConditionExpression = weakened;
  const used = [write.ConditionExpression, write.UpdateExpression, write.KeyConditionExpression, write.FilterExpression, write.ProjectionExpression]
    .filter((expression) => expression !== undefined)
    .join(' ');
  const names = onlyUsed(write.ExpressionAttributeNames, used);
  const values = onlyUsed(write.ExpressionAttributeValues, used);
  if (names === undefined) delete write.ExpressionAttributeNames;
  else write.ExpressionAttributeNames = names;
  if (values === undefined) delete write.ExpressionAttributeValues;
  else write.ExpressionAttributeValues = values;
  return true;
}

function onlyUsed<T>(placeholders: Record<string, T> | undefined, expressions: string): Record<string, T> | undefined {
  if (placeholders === undefined) return undefined;
  const kept = Object.entries(placeholders).filter(([placeholder]) => new RegExp(`${placeholder}(?![\\w])`).test(expressions));
  return kept.length === 0 ? undefined : Object.fromEntries(kept);
}
