import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConcurrentModificationError } from '../../domain/errors.ts';
import { type Account, Accounts, type Balances, type CurrencyBalances } from '../../domain/ledger/accounts.ts';
import {
  type BalanceTransaction,
  type ChargeBalanceTransaction,
  isCharge,
  parseBalanceTransactionId,
} from '../../domain/ledger/balance-transaction.ts';
import { type JournalKey, type JournalTransaction, balanceChanges } from '../../domain/ledger/journal.ts';
import type { LedgerStore } from '../../domain/ledger/ledger.ts';
import type { Posting } from '../../domain/ledger/postings.ts';
import type { Currency } from '../../domain/money.ts';
import { translateDynamoError } from './client.ts';
import { dueShardOf, listKeysOf, queryDue } from './table.ts';

/** A journal transaction as stored, under its merchant, keyed by its source. */
export interface JournalItem {
  pk: string;
  sk: string;
  type: 'journal';
  journal_key: JournalKey;
  merchant_id: string;
  currency: string;
  entries: { account: Account; amount: number }[];
  created_at: string;
  /** The balance transaction it added, so a refund finds its charge from the capture's key. */
  balance_transaction_id?: string;
  /** The `by_merchant` index (`journal#<merchant_id>`, `<created_at>#<source key>`): how a day's journal is found. */
  list_pk: string;
  list_sk: string;
}

/** A balance transaction as stored, under its merchant, sorted by creation. */
export interface BalanceTransactionItem {
  pk: string;
  sk: string;
  type: 'balance_transaction';
  id: string;
  merchant_id: string;
  currency: string;
  transaction_type: BalanceTransaction['type'];
  source: string;
  journal_key: JournalKey;
  amount: number;
  fee: number;
  net: number;
  created_at: string;
  available_on: string;
  status: BalanceTransaction['status'];
  payment_no?: string;
  pending_remaining?: number;
  refunded?: number;
  fee_returned?: number;
  version?: number;
  /** Only a pending charge carries them: the sparse `by_due` index the schedule releases funds through. */
  due_shard?: string;
  due_at?: string;
}

export const ledgerPartitionOf = (merchantId: string) => `LEDGER#${merchantId}`;
const partitionOf = ledgerPartitionOf;
const journalSk = (key: JournalKey) => `JOURNAL#${key}`;
const balanceSk = (currency: string) => `BALANCE#${currency}`;
export const BALANCE_TRANSACTION_PREFIX = 'BTXN#';
const transactionSk = (createdAt: string, journalKey: JournalKey) => `${BALANCE_TRANSACTION_PREFIX}${createdAt}|${journalKey}`;

/**
 * The ledger in the payments table, one partition per merchant (`LEDGER#<merchant_id>`): its
 * journal transactions (`JOURNAL#<source key>`), its balance transactions
 * (`BTXN#<created_at>|<source key>`, newest last) and one balance record per currency
 * (`BALANCE#<currency>`), every account an attribute. A posting is one TransactWriteItems.
 */
export class DynamoLedgerStore implements LedgerStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async post(posting: Posting): Promise<'posted' | 'already_posted'> {
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: postingWrites(this.tableName, posting) }));
      return 'posted';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) return translateDynamoError(error);
      const reasons = error.CancellationReasons ?? [];
      // The journal's keys first: a source delivered again also finds its charge moved on.
      if (reasons.slice(0, posting.transactions.length).some((reason) => reason.Code === 'ConditionalCheckFailed')) return 'already_posted';
      // The charge changed since it was read, or another transaction on these items was in flight.
      throw new ConcurrentModificationError(`posting ${posting.transactions.map((t) => t.key).join(', ')} met a concurrent change`, { cause: error });
    }
  }

  async chargeOf(merchantId: string, chargeId: string): Promise<ChargeBalanceTransaction | undefined> {
    const journal = await this.get<JournalItem>(partitionOf(merchantId), journalSk(`capture:${chargeId}`));
    const id = journal?.balance_transaction_id;
    const found = id === undefined ? undefined : await this.getBalanceTransaction(merchantId, id);
    return found !== undefined && isCharge(found) ? found : undefined;
  }

  async listDueCharges(now: Date, limit: number): Promise<ChargeBalanceTransaction[]> {
    const items = await queryDue<BalanceTransactionItem>(this.db, this.tableName, 'charge', now, limit);
    return items.map(fromTransactionItem).filter(isCharge);
  }

  async balances(merchantId: string): Promise<CurrencyBalances[]> {
    const items = await this.queryAll<Record<string, unknown>>({ pk: partitionOf(merchantId), prefix: 'BALANCE#' });
    return items.map((item) => ({
      currency: item['currency'] as Currency,
      balances: Object.fromEntries(Accounts.map((account) => [account, Number(item[account] ?? 0)])) as Balances,
    }));
  }

  async listBalanceTransactions(merchantId: string, page: { limit: number; startingAfter?: string }) {
    const after = page.startingAfter === undefined ? undefined : parseBalanceTransactionId(page.startingAfter);
    const pk = partitionOf(merchantId);
    const { Items = [] } = await this.db
      .send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': BALANCE_TRANSACTION_PREFIX },
          ScanIndexForward: false,
          ConsistentRead: true,
          // One more than asked: whether there is a next page, without a second query.
          Limit: page.limit + 1,
          ...(after !== undefined && { ExclusiveStartKey: { pk, sk: transactionSk(after.createdAt, after.journalKey) } }),
        }),
      )
      .catch(translateDynamoError);
    const data = (Items as BalanceTransactionItem[]).map(fromTransactionItem);
    return { data: data.slice(0, page.limit), hasMore: data.length > page.limit };
  }

  async getBalanceTransaction(merchantId: string, id: string): Promise<BalanceTransaction | undefined> {
    const parsed = parseBalanceTransactionId(id);
    if (parsed === undefined) return undefined;
    const item = await this.get<BalanceTransactionItem>(partitionOf(merchantId), transactionSk(parsed.createdAt, parsed.journalKey));
    return item === undefined ? undefined : fromTransactionItem(item);
  }

  async journal(merchantId: string): Promise<JournalTransaction[]> {
    const items = await this.queryAll<JournalItem>({ pk: partitionOf(merchantId), prefix: 'JOURNAL#' });
    return items.map(fromJournalItem);
  }

  private async get<T>(pk: string, sk: string): Promise<T | undefined> {
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }))
      .catch(translateDynamoError);
    return Item as T | undefined;
  }

  private async queryAll<T>({ pk, prefix }: { pk: string; prefix: string }): Promise<T[]> {
    const items: T[] = [];
    let start: QueryCommandInput['ExclusiveStartKey'];
    do {
      const page = await this.db
        .send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        )
        .catch(translateDynamoError);
      items.push(...((page.Items ?? []) as T[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * A posting's writes, the journal's puts first (each on the condition that its key is new),
 * for a TransactWriteItems of its own or within a larger one (a payout's, with its record):
 * the balance changes its journal transactions imply, the balance transaction it adds and the
 * charge it updates (on the condition that the charge is still as read). `availableCovers`
 * makes the balance's update hold only while `available` holds at least that much: a payout
 * never takes it below zero.
 */
export function postingWrites(tableName: string, posting: Posting, availableCovers?: number): TransactItem[] {
  const pk = partitionOf(posting.merchantId);
  const changes = Object.entries(balanceChanges(posting.transactions)) as [Account, number][];
  const journalPuts = posting.transactions.map((transaction) => ({
    Put: {
      TableName: tableName,
      Item: journalItem(transaction, posting.added?.journalKey === transaction.key ? posting.added.id : undefined),
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  }));
  return [
    ...journalPuts,
    {
      Update: {
        TableName: tableName,
        Key: { pk, sk: balanceSk(posting.currency) },
        UpdateExpression: [
          'SET #type = :type, merchant_id = :merchant, currency = :currency',
          ...(changes.length > 0 ? [`ADD ${changes.map(([account]) => `#${account} :${account}`).join(', ')}`] : []),
        ].join(' '),
        ...(availableCovers !== undefined && { ConditionExpression: '#available >= :covers' }),
        ExpressionAttributeNames: {
          '#type': 'type',
          ...Object.fromEntries(changes.map(([account]) => [`#${account}`, account])),
          ...(availableCovers !== undefined && { '#available': 'available' }),
        },
        ExpressionAttributeValues: {
          ':type': 'balance',
          ':merchant': posting.merchantId,
          ':currency': posting.currency,
          ...Object.fromEntries(changes.map(([account, change]) => [`:${account}`, change])),
          ...(availableCovers !== undefined && { ':covers': availableCovers }),
        },
      },
    },
    ...(posting.added === undefined
      ? []
      : [{ Put: { TableName: tableName, Item: transactionItem(posting.added), ConditionExpression: 'attribute_not_exists(pk)' } }]),
    ...(posting.updated === undefined
      ? []
      : [
          {
            Put: {
              TableName: tableName,
              Item: transactionItem(posting.updated.after),
              ConditionExpression: '#version = :version',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':version': posting.updated.before.charge.version },
            },
          },
        ]),
  ];
}

function journalItem(transaction: JournalTransaction, balanceTransactionId: string | undefined): JournalItem {
  return {
    pk: partitionOf(transaction.merchantId),
    sk: journalSk(transaction.key),
    type: 'journal',
    journal_key: transaction.key,
    merchant_id: transaction.merchantId,
    currency: transaction.currency,
    entries: transaction.entries.map(({ account, amount }) => ({ account, amount })),
    created_at: transaction.createdAt,
    ...(balanceTransactionId !== undefined && { balance_transaction_id: balanceTransactionId }),
    // A merchant's journal by time, for its settlement statements.
    ...listKeysOf('journal', transaction.merchantId, transaction.createdAt, transaction.key),
  };
}

export function fromJournalItem(item: JournalItem): JournalTransaction {
  return {
    key: item.journal_key,
    merchantId: item.merchant_id,
    currency: item.currency as Currency,
    entries: item.entries,
    createdAt: item.created_at,
  };
}

function transactionItem(transaction: BalanceTransaction): BalanceTransactionItem {
  const totals = transaction.charge;
  const due = transaction.type === 'charge' && transaction.status === 'pending';
  return {
    pk: partitionOf(transaction.merchantId),
    sk: transactionSk(transaction.createdAt, transaction.journalKey),
    type: 'balance_transaction',
    id: transaction.id,
    merchant_id: transaction.merchantId,
    currency: transaction.currency,
    transaction_type: transaction.type,
    source: transaction.source,
    journal_key: transaction.journalKey,
    amount: transaction.amount,
    fee: transaction.fee,
    net: transaction.net,
    created_at: transaction.createdAt,
    available_on: transaction.availableOn,
    status: transaction.status,
    ...(totals !== undefined && {
      payment_no: totals.paymentNo,
      pending_remaining: totals.pendingRemaining,
      refunded: totals.refunded,
      fee_returned: totals.feeReturned,
      version: totals.version,
    }),
    ...(due && { due_shard: dueShardOf(transaction.id, 'charge'), due_at: transaction.availableOn }),
  };
}

export function fromTransactionItem(item: BalanceTransactionItem): BalanceTransaction {
  return {
    id: item.id,
    merchantId: item.merchant_id,
    currency: item.currency as Currency,
    type: item.transaction_type,
    source: item.source,
    journalKey: item.journal_key,
    amount: item.amount,
    fee: item.fee,
    net: item.net,
    createdAt: item.created_at,
    availableOn: item.available_on,
    status: item.status,
    ...(item.payment_no !== undefined && {
      charge: {
        paymentNo: item.payment_no,
        pendingRemaining: item.pending_remaining ?? 0,
        refunded: item.refunded ?? 0,
        feeReturned: item.fee_returned ?? 0,
        version: item.version ?? 0,
      },
    }),
  };
}
