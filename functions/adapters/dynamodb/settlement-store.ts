import { type AttributeValue, ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
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
import { BY_MERCHANT_INDEX, LIST_PK_ATTRIBUTE, LIST_SK_ATTRIBUTE, MERCHANT_REGISTRY_PARTITION, listPartitionOf, merchantRegistrySk } from './table.ts';

/** A merchant's registry entry, with where its settlement stands. */
interface RegistryItem {
  pk: string;
  sk: string;
  merchant_id: string;
  created_at: string;
  settled_through?: string;
  closings?: Record<string, StatementBalances>;
}

/** A statement without its lines, under its merchant, sorted by date then currency: what says it is written. */
interface StatementItem {
  pk: string;
  sk: string;
  type: 'settlement';
  statement: Omit<SettlementStatement, 'transactions'>;
  line_pages: number;
}

/** A page of a statement's lines (its balance transactions, oldest first), beside it. */
interface LinesItem {
  pk: string;
  sk: string;
  type: 'settlement_lines';
  lines: SettlementStatement['transactions'];
}

const statementPartitionOf = (merchantId: string) => `SETTLEMENT#${merchantId}`;
const STATEMENT_PREFIX = 'STATEMENT#';
const statementSk = (date: string, currency: string) => `${STATEMENT_PREFIX}${date}#${currency}`;
const linesPrefix = (date: string, currency: string) => `LINES#${date}#${currency}#`;
const linesSk = (date: string, currency: string, page: number) => `${linesPrefix(date, currency)}${String(page).padStart(5, '0')}`;

/**
 * Lines per page: a line takes about 350 bytes, so a page stays far below DynamoDB's 400 KB item
 * limit, and a busy merchant's day (thousands of transactions) still fits in several pages.
 */
const LINES_PER_PAGE = 500;

/**
 * Statements in the payments table (`SETTLEMENT#<merchant_id>` / `STATEMENT#<date>#<currency>`),
 * each put once, their lines in pages beside them (`LINES#<date>#<currency>#<page>`); the merchant registry (`MERCHANTS` / `MERCHANT#<id>`), one query for every
 * merchant; the ledger's journal by time through the `by_merchant` index and its
 * balance transactions by their time-sorted keys.
 */
export class DynamoSettlementStore implements SettlementStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly linesPerPage = LINES_PER_PAGE,
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
    // `<created_at>#<key>` sorts by time; `to` alone sorts before every key made at `to`, so the range ends before it.
    const items = await this.queryAll<JournalItem>({
      TableName: this.tableName,
      IndexName: BY_MERCHANT_INDEX,
      KeyConditionExpression: '#pk = :pk AND #at BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#pk': LIST_PK_ATTRIBUTE, '#at': LIST_SK_ATTRIBUTE },
      ExpressionAttributeValues: { ':pk': listPartitionOf('journal', merchantId), ':from': from, ':to': to },
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

  /**
   * The lines go first, in pages, each on the condition that the statement is not written yet;
   * the statement's own item, put on the condition that none exists, is what makes it written.
   * Before that, a page may be put again (a run that died half-way, run again): nothing reads
   * pages without their statement. Once it exists, nothing of it is put again: the stored
   * statement is answered as it is.
   */
  async putStatement(statement: SettlementStatement): Promise<PutStatementResult> {
    const pk = statementPartitionOf(statement.merchantId);
    const existing = await this.get<StatementItem>(pk, statementSk(statement.date, statement.currency));
    if (existing !== undefined) return { outcome: 'already_written', statement: await this.withLines(existing) };
    const { transactions, ...summary } = statement;
    // A charge's running totals move after its day; the statement keeps the day's lines only.
    const lines = transactions.map(({ charge: _totals, ...line }) => line);
    const pages = Array.from({ length: Math.ceil(lines.length / this.linesPerPage) }, (_, page) =>
      lines.slice(page * this.linesPerPage, (page + 1) * this.linesPerPage),
    );
    const head = { pk, sk: statementSk(statement.date, statement.currency) };
    for (const [page, pageLines] of pages.entries()) {
      const item: LinesItem = { pk, sk: linesSk(statement.date, statement.currency, page), type: 'settlement_lines', lines: pageLines };
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              { ConditionCheck: { TableName: this.tableName, Key: head, ConditionExpression: 'attribute_not_exists(pk)' } },
              { Put: { TableName: this.tableName, Item: item } },
            ],
          }),
        );
      } catch (error) {
        if (!(error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')) translateDynamoError(error);
        // Another run wrote the statement meanwhile: its lines stand, and so does it.
        const written = await this.get<StatementItem>(pk, head.sk);
        if (written !== undefined) return { outcome: 'already_written', statement: await this.withLines(written) };
        throw error;
      }
    }
    const item: StatementItem = { ...head, type: 'settlement', statement: summary, line_pages: pages.length };
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
        // Another run wrote it meanwhile: its statement stands.
        return { outcome: 'already_written', statement: await this.withLines(unmarshall(error.Item as Record<string, AttributeValue>) as StatementItem) };
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
    const item = await this.get<StatementItem>(statementPartitionOf(merchantId), statementSk(date, currency));
    return item === undefined ? undefined : this.withLines(item);
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
    const items = Items as StatementItem[];
    return { data: await Promise.all(items.slice(0, page.limit).map((item) => this.withLines(item))), hasMore: items.length > page.limit };
  }

  /** The statement whole: its item and its pages of lines, in order. */
  private async withLines(item: StatementItem): Promise<SettlementStatement> {
    const { merchantId, date, currency } = item.statement;
    const pages =
      item.line_pages === 0
        ? []
        : await this.queryAll<LinesItem>({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': statementPartitionOf(merchantId), ':prefix': linesPrefix(date, currency) },
            ConsistentRead: true,
          });
    // Pages a run put beyond the count its statement was written with (it died, the rerun made fewer) are not the statement's.
    return { ...item.statement, transactions: pages.slice(0, item.line_pages).flatMap((page) => page.lines) };
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
