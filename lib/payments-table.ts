import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  BY_DUE_INDEX,
  BY_MERCHANT_INDEX,
  DUE_AT_ATTRIBUTE,
  DUE_SHARD_ATTRIBUTE,
  LIST_PK_ATTRIBUTE,
  LIST_SK_ATTRIBUTE,
  PARTITION_KEY,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '../functions/adapters/dynamodb/table.ts';

/**
 * The name of the reconciler's index of unfinished payments, re-exported from the table
 * layout the repositories use (`functions/adapters/dynamodb/table.ts`), so there is one
 * spelling. Sparse: only non-terminal payments carry `due_shard` and `due_at`.
 */
export const BY_DUE_INDEX_NAME = BY_DUE_INDEX;


/**
 * The single payments table: payments, API keys and merchants, keyed by `pk`/`sk`.
 * `dynamodb.Table` (not `TableV2`) on purpose: the local stack re-creates tables from the
 * template's `AWS::DynamoDB::Table` resources, and `TableV2` is an `AWS::DynamoDB::GlobalTable`.
 */
export class PaymentsTable extends Construct {
  readonly table: dynamodb.Table;
  /** Its global secondary indexes, whose throttles throttle the table's writes too. */
  readonly indexNames: string[] = [];

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // The ledger is posted from the changes of payments and refunds (lib/ledger-stream.ts):
      // the checkout's own writes stay as they are.
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      // Payments are money records: deleting the stack must never take them along.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.addIndex({
      indexName: BY_DUE_INDEX,
      partitionKey: { name: DUE_SHARD_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DUE_AT_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    // The API's lists and a merchant's journal by time (its settlement statements): a page is
    // one query, with no read of each record after it.
    this.addIndex({
      indexName: BY_MERCHANT_INDEX,
      partitionKey: { name: LIST_PK_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LIST_SK_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  private addIndex(index: dynamodb.GlobalSecondaryIndexProps): void {
    this.table.addGlobalSecondaryIndex(index);
    this.indexNames.push(index.indexName);
  }
}
