import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Currency } from '../functions/domain/money.ts';
import type { PaymentProvider } from '../functions/domain/provider.ts';

/**
 * TEACHING CODE, NOT THE PRODUCT. The two ways to charge that the product exists to replace,
 * on the same provider and the same table, so the demo can show what each does when the
 * process dies between its two steps. Neither derives an idempotency key from its own ids,
 * because neither records progress it could derive one from.
 */
export type NaiveCrashPoint = 'before-first-step' | 'between-steps' | 'after-last-step';
export const naiveCrashPoints: readonly NaiveCrashPoint[] = ['before-first-step', 'between-steps', 'after-last-step'];

export class ProcessDied extends Error {
  override readonly name = 'ProcessDied';
}

export interface NaiveOrder {
  readonly orderNo: string;
  readonly amount: number;
  readonly currency: Currency;
  readonly paymentMethod: string;
}

export interface NaiveDeps {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly provider: PaymentProvider;
}

const key = (orderNo: string) => ({ pk: `DEMO#${orderNo}`, sk: 'DEMO' });

export async function isPaid(deps: NaiveDeps, orderNo: string): Promise<boolean> {
  const { Item } = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: key(orderNo), ConsistentRead: true }));
  return Item?.status === 'paid';
}

async function markPaid(deps: NaiveDeps, order: NaiveOrder): Promise<void> {
  await deps.db.send(new PutCommand({ TableName: deps.tableName, Item: { ...key(order.orderNo), status: 'paid' } }));
}

async function charge(deps: NaiveDeps, order: NaiveOrder): Promise<void> {
  const authorized = await deps.provider.authorizeCharge({
    paymentNo: `demo-${order.orderNo}`,
    amount: order.amount,
    currency: order.currency,
    paymentMethod: order.paymentMethod,
    idempotencyKey: randomUUID(),
    metadata: { payment_no: `demo-${order.orderNo}` },
  });
  await deps.provider.captureCharge({ chargeId: authorized.id, idempotencyKey: randomUUID() });
}

function dieAt(point: NaiveCrashPoint, crashAt: NaiveCrashPoint | undefined) {
  if (point === crashAt) throw new ProcessDied(point);
}

/** Strategy 1: charge the card, then mark the order paid. A restart after the charge charges again. */
export async function chargeThenMark(deps: NaiveDeps, order: NaiveOrder, crashAt?: NaiveCrashPoint) {
  if (await isPaid(deps, order.orderNo)) return;
  dieAt('before-first-step', crashAt);
  await charge(deps, order);
  dieAt('between-steps', crashAt);
  await markPaid(deps, order);
  dieAt('after-last-step', crashAt);
}

/** Strategy 2: mark the order paid, then charge. A restart after the mark never charges. */
export async function markThenCharge(deps: NaiveDeps, order: NaiveOrder, crashAt?: NaiveCrashPoint) {
  if (await isPaid(deps, order.orderNo)) return;
  dieAt('before-first-step', crashAt);
  await markPaid(deps, order);
  dieAt('between-steps', crashAt);
  await charge(deps, order);
  dieAt('after-last-step', crashAt);
}
