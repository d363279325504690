/**
 * A Lambda `Context` for functions called in-process, so handlers that read it (Powertools'
 * logger, `getRemainingTimeInMillis`) behave as they do in Lambda.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { localAccountId, localRegion } from '../assembly/state-machine-definition.ts';

export function localLambdaContext(functionName: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${localRegion}:${localAccountId}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
