import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, type QueryCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { JournalTransaction } from '../../domain/ledger/journal.ts';
import type { BalanceTransaction } from '../../domain/ledger/balance-transaction.ts';
import type { MerchantSettlementState, PutStatementResult, SettlementStore } from '../../domain/ledger/settle.ts';
import type { SettlementStatement, StatementBalances } from '../../domain/ledger/settlement.ts';
import type { SettlementDate } from '../../domain/ledger/settlement-day.ts';
import type { Currency } from '../../domain/money.ts';
import { translateDynamoError } from './client.ts';
import {
  BALANCE_TRANSACTION_PREFIX,
  type BalanceTransactionItem,
  type JournalItem,
  fromJournalItem,
  fromTransactionItem,
  ledgerPartitionOf,
} from './ledger-store.ts';
import { BY_LEDGER_TIME_INDEX, LEDGER_TIME_ATTRIBUTE, MERCHANT_REGISTRY_PARTITION, merchantRegistrySk } from './table.ts';

/** A merchant's registry entry, with where its settlement stands. */
interface RegistryItem {
  pk: string;
  sk: string;
  merchant_id: string;
  created_at: string;
  settled_through?: string;
  closings?: Record<string, StatementBalances>;
}

/** A statement, whole, under its merchant, sorted by date then currency. */
interface StatementItem {
  pk: string;
  sk: string;
  type: 'settlement';
  statement: SettlementStatement;
}

const statementPartitionOf = (merchantId: string) => `SETTLEMENT#${merchantId}`;
const STATEMENT_PREFIX = 'STATEMENT#';
const statementSk = (date: string, currency: string) => `${STATEMENT_PREFIX}${date}#${currency}`;

/**
 * Statements in the payments table (`SETTLEMENT#<merchant_id>` / `STATEMENT#<date>#<currency>`),
 * each put once; the merchant registry (`MERCHANTS` / `MERCHANT#<id>`), one query for every
 * merchant; the ledger's journal by time through the sparse `by_ledger_time` index and its
 * balance transactions by their time-sorted keys.
 */
export class DynamoSettlementStore implements SettlementStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async merchants(): Promise<MerchantSettlementState[]> {
    const items = await this.queryAll<RegistryItem>({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': MERCHANT_REGISTRY_PARTITION },
      ConsistentRead: true,
    });
    return items.map(fromRegistryItem);
  }

  async merchant(merchantId: string): Promise<MerchantSettlementState | undefined> {
    const item = await this.get<RegistryItem>(MERCHANT_REGISTRY_PARTITION, merchantRegistrySk(merchantId));
    return item === undefined ? undefined : fromRegistryItem(item);
  }

  async journalBetween(merchantId: string, from: string, to: string): Promise<JournalTransaction[]> {
    // `<created_at>|<key>` sorts by time; `to` alone sorts before every key made at `to`, so the range ends before it.
    const items = await this.queryAll<JournalItem>({
      TableName: this.tableName,
      IndexName: BY_LEDGER_TIME_INDEX,
      KeyConditionExpression: '#pk = :pk AND #at BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#pk': 'pk', '#at': LEDGER_TIME_ATTRIBUTE },
      ExpressionAttributeValues: { ':pk': ledgerPartitionOf(merchantId), ':from': from, ':to': to },
    });
    return items.map(fromJournalItem);
  }

  async transactionsBetween(merchantId: string, from: string, to: string): Promise<BalanceTransaction[]> {
    const items = await this.queryAll<BalanceTransactionItem>({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': ledgerPartitionOf(merchantId),
        ':from': `${BALANCE_TRANSACTION_PREFIX}${from}`,
        ':to': `${BALANCE_TRANSACTION_PREFIX}${to}`,
      },
      ConsistentRead: true,
    });
    return items.map(fromTransactionItem);
  }

  async putStatement(statement: SettlementStatement): Promise<PutStatementResult> {
    const item: StatementItem = {
      pk: statementPartitionOf(statement.merchantId),
      sk: statementSk(statement.date, statement.currency),
      type: 'settlement',
      // A charge's running totals move after its day; the statement keeps the day's lines only.
      statement: { ...statement, transactions: statement.transactions.map(({ charge: _totals, ...line }) => line) },
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { outcome: 'written' };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return { outcome: 'already_written', statement: (unmarshall(error.Item as Record<string, AttributeValue>) as StatementItem).statement };
      }
      return translateDynamoError(error);
    }
  }

  async advance(merchantId: string, date: SettlementDate, closings: Readonly<Record<string, StatementBalances>>): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: MERCHANT_REGISTRY_PARTITION, sk: merchantRegistrySk(merchantId) },
          UpdateExpression: 'SET settled_through = :date, closings = :closings',
          // Two overlapping runs: the one behind never moves the other back.
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(settled_through) OR settled_through < :date)',
          ExpressionAttributeValues: { ':date': date, ':closings': closings },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      translateDynamoError(error);
    }
  }

  async getStatement(merchantId: string, date: SettlementDate, currency: Currency): Promise<SettlementStatement | undefined> {
    return (await this.get<StatementItem>(statementPartitionOf(merchantId), statementSk(date, currency)))?.statement;
  }

  async listStatements(
    merchantId: string,
    page: { limit: number; date?: SettlementDate; startingAfter?: { date: SettlementDate; currency: Currency } },
  ): Promise<{ data: SettlementStatement[]; hasMore: boolean }> {
    const pk = statementPartitionOf(merchantId);
    const { Items = [] } = await this.db
      .send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': page.date === undefined ? STATEMENT_PREFIX : `${STATEMENT_PREFIX}${page.date}#` },
          ScanIndexForward: false,
          ConsistentRead: true,
          // One more than asked: whether there is a next page, without a second query.
          Limit: page.limit + 1,
          ...(page.startingAfter !== undefined && { ExclusiveStartKey: { pk, sk: statementSk(page.startingAfter.date, page.startingAfter.currency) } }),
        }),
      )
      .catch(translateDynamoError);
    const data = (Items as StatementItem[]).map((item) => item.statement);
    return { data: data.slice(0, page.limit), hasMore: data.length > page.limit };
  }

  private async get<T>(pk: string, sk: string): Promise<T | undefined> {
    const { Item } = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }))
      .catch(translateDynamoError);
    return Item as T | undefined;
  }

  private async queryAll<T>(input: QueryCommandInput): Promise<T[]> {
    const items: T[] = [];
    let start: QueryCommandInput['ExclusiveStartKey'];
    do {
      const page = await this.db.send(new QueryCommand({ ...input, ExclusiveStartKey: start })).catch(translateDynamoError);
      items.push(...((page.Items ?? []) as T[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

function fromRegistryItem(item: RegistryItem): MerchantSettlementState {
  return {
    merchantId: item.merchant_id,
    createdAt: item.created_at,
    ...(item.settled_through !== undefined && { settledThrough: item.settled_through }),
    closings: item.closings ?? {},
  };
}
