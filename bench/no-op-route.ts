/**
 * The duplicate storm's ceiling: a handler of `POST /v1/payments` that reads nothing, writes
 * nothing and answers at once. Served behind the same local API Gateway and authorizer as the
 * product's handler, its throughput is what the stack's plumbing alone allows on this machine;
 * the storm prints the key layer's share of it.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';

const ANSWER = JSON.stringify({ payment_no: 'pay_000000000000000000000000', status: 'pending' });

export async function handler(): Promise<APIGatewayProxyResult> {
  return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: ANSWER };
}
