/**
 * What payments cost on AWS, from what the checkout benchmark counted of them: API Gateway
 * requests, Lambda invocations and their duration, DynamoDB request units, Step Functions state
 * transitions, at the public on-demand prices of us-east-1 with no free tier. docs/capacity.md
 * shows the same arithmetic by hand. These are estimates of fractions of a cent, not money the
 * product moves: plain numbers of US dollars, rounded only when printed.
 */

/** A price: `usd` for `per` units of `unit`, where it was read, and when. */
export interface Price {
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  readonly source: string;
  readonly seen: string;
}

const SEEN = '2026-12-02';
const MILLION = 1_000_000;

export const PRICES = {
  /** REST APIs, the first 333 million requests of a month. */
  apiGatewayRequest: {
    usd: 3.5,
    per: MILLION,
    unit: 'REST API requests',
    source: 'https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html',
    seen: SEEN,
  },
  lambdaRequest: { usd: 0.2, per: MILLION, unit: 'Lambda invocations', source: 'https://aws.amazon.com/lambda/pricing/', seen: SEEN },
  /** Arm, the first 7.5 billion GB-seconds of a month. */
  lambdaArmGbSecond: { usd: 0.0000133334, per: 1, unit: 'GB-second on arm64', source: 'https://cloudchipr.com/blog/aws-lambda-pricing', seen: SEEN },
  /** On demand, since the price cut of November 2024. */
  dynamoWriteRequestUnit: { usd: 0.625, per: MILLION, unit: 'write request units', source: 'https://airbyte.com/data-engineering-resources/dynamodb-pricing', seen: SEEN },
  dynamoReadRequestUnit: { usd: 0.125, per: MILLION, unit: 'read request units', source: 'https://airbyte.com/data-engineering-resources/dynamodb-pricing', seen: SEEN },
  /** Standard workflows; every retry is a transition too. */
  stateTransition: { usd: 0.025, per: 1000, unit: 'Standard state transitions', source: 'https://aws.amazon.com/step-functions/pricing/', seen: SEEN },
} as const satisfies Record<string, Price>;

/** What one payment used. */
export interface PaymentUsage {
  readonly apiRequests: number;
  readonly lambdaInvocations: number;
  /** Memory (GB) times duration (s), summed over the invocations. */
  readonly lambdaGbSeconds: number;
  /** On demand: an item write of up to 1 KB is one unit, twice that inside a transaction. */
  readonly writeRequestUnits: number;
  /** A strongly consistent read of up to 4 KB is one unit, an eventually consistent one half, a transactional one two. */
  readonly readRequestUnits: number;
  readonly stateTransitions: number;
}

/** What the benchmark counted over a number of payments. */
export interface BenchCounts {
  readonly payments: number;
  readonly apiRequests: number;
  /** Per function the run invoked. */
  readonly functions: readonly { readonly invocations: number; readonly handlerMs: number; readonly memoryMb: number }[];
  readonly dynamo: {
    readonly writeItems: number;
    readonly transactionalWriteItems: number;
    readonly readItems: number;
    readonly transactionalReadItems: number;
    readonly consistentReadItems: number;
  };
  /** States entered and retries, over every execution. */
  readonly stateTransitions: number;
}

/**
 * One payment's usage from the run's counts. Items are taken as at most 1 KB written and 4 KB
 * read (a larger item costs a unit per started KB, or 4 KB); a query as one unit.
 */
export function usagePerPayment(counts: BenchCounts): PaymentUsage {
  const { payments, dynamo } = counts;
  const plainWrites = dynamo.writeItems - dynamo.transactionalWriteItems;
  const eventualReads = dynamo.readItems - dynamo.transactionalReadItems - dynamo.consistentReadItems;
  return {
    apiRequests: counts.apiRequests / payments,
    lambdaInvocations: counts.functions.reduce((sum, fn) => sum + fn.invocations, 0) / payments,
    lambdaGbSeconds: counts.functions.reduce((sum, fn) => sum + (fn.memoryMb / 1024) * (fn.handlerMs / 1000), 0) / payments,
    writeRequestUnits: (plainWrites + 2 * dynamo.transactionalWriteItems) / payments,
    readRequestUnits: (0.5 * eventualReads + dynamo.consistentReadItems + 2 * dynamo.transactionalReadItems) / payments,
    stateTransitions: counts.stateTransitions / payments,
  };
}

export interface CostLine {
  readonly item: string;
  /** Per 1,000 payments. */
  readonly quantity: number;
  readonly price: Price;
  readonly usd: number;
}

/** The cost of 1,000 payments of this usage, line by line, and in all. */
export function costPerThousandPayments(usage: PaymentUsage): { readonly lines: readonly CostLine[]; readonly totalUsd: number } {
  const line = (item: string, perPayment: number, price: Price): CostLine => ({ item, quantity: perPayment * 1000, price, usd: (perPayment * 1000 * price.usd) / price.per });
  const lines = [
    line('API Gateway requests', usage.apiRequests, PRICES.apiGatewayRequest),
    line('Lambda invocations', usage.lambdaInvocations, PRICES.lambdaRequest),
    line('Lambda duration (GB-s)', usage.lambdaGbSeconds, PRICES.lambdaArmGbSecond),
    line('DynamoDB write request units', usage.writeRequestUnits, PRICES.dynamoWriteRequestUnit),
    line('DynamoDB read request units', usage.readRequestUnits, PRICES.dynamoReadRequestUnit),
    line('Step Functions state transitions', usage.stateTransitions, PRICES.stateTransition),
  ];
  return { lines, totalUsd: lines.reduce((sum, l) => sum + l.usd, 0) };
}
