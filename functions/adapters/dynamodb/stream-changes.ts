import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { ResourceChange } from '../../domain/events.ts';
import type { SourceChange } from '../../domain/ledger/ledger.ts';
import { type PaymentItem, fromItem as paymentFromItem } from './payment-repository.ts';
import { type PayoutItem, fromItem as payoutFromItem } from './payout-store.ts';
import { type RefundItem, fromItem as refundFromItem } from './refund-repository.ts';
import { type StoredCart, cartFromItem } from './school-items.ts';

/** The item types whose changes the ledger reads, as the table's `type` attribute spells them. */
export const LEDGER_SOURCE_TYPES = ['payment', 'refund'] as const;

/** The item types whose status changes make events (functions/domain/events.ts). */
export const EVENT_SOURCE_TYPES = ['payment', 'refund', 'cart', 'payout'] as const;

type Image = Record<string, AttributeValue>;

/**
 * A stream record of the table as the change of a payment or refund it carries (the images
 * before and after, NEW_AND_OLD_IMAGES); undefined for a record of any other item, or one
 * without a new image (a removal).
 */
export function sourceChangeOf(record: DynamoDBRecord): SourceChange | undefined {
  const change = resourceChangeOf(record);
  return change?.kind === 'payment' || change?.kind === 'refund' ? change : undefined;
}

/** A stream record as the change of a payment, a refund, a cart or a payout; undefined for any other item, or a removal. */
export function resourceChangeOf(record: DynamoDBRecord): ResourceChange | undefined {
  const newImage = record.dynamodb?.NewImage as Image | undefined;
  const oldImage = record.dynamodb?.OldImage as Image | undefined;
  if (newImage === undefined) return undefined;
  const after = unmarshall(newImage);
  const before = oldImage === undefined ? undefined : unmarshall(oldImage);
  if (after['type'] === 'payment') {
    return { kind: 'payment', after: paymentFromItem(after as PaymentItem), ...(before && { before: paymentFromItem(before as PaymentItem) }) };
  }
  if (after['type'] === 'refund') {
    return { kind: 'refund', after: refundFromItem(after as RefundItem), ...(before && { before: refundFromItem(before as RefundItem) }) };
  }
  if (after['type'] === 'cart') {
    return { kind: 'cart', after: cartFromItem(after as StoredCart), ...(before && { before: cartFromItem(before as StoredCart) }) };
  }
  if (after['type'] === 'payout') {
    return { kind: 'payout', after: payoutFromItem(after as PayoutItem), ...(before && { before: payoutFromItem(before as PayoutItem) }) };
  }
  return undefined;
}
