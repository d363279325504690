/**
 * Every Lambda function of the product, named once. The CDK app deploys one function per
 * entry; the local stack binds the same modules to the same names, so the two can never
 * disagree about which code runs where. Paths are relative to `functions/`.
 */

/** The payment saga's Task states, in order, each its own function. */
export const sagaSteps = {
  Authorize: 'handlers/saga/authorize.ts',
  RecordAuthorization: 'handlers/saga/record-authorization.ts',
  Capture: 'handlers/saga/capture.ts',
  MarkSucceeded: 'handlers/saga/mark-succeeded.ts',
  VoidAuthorization: 'handlers/saga/void-authorization.ts',
  MarkFailed: 'handlers/saga/mark-failed.ts',
} as const;
export type SagaStepName = keyof typeof sagaSteps;

/** The saga steps that call the payment provider and so need its secret. */
export const providerSteps: readonly SagaStepName[] = ['Authorize', 'Capture', 'VoidAuthorization'];

/** The refund saga's Task states: the provider refunds, then the refund is recorded (or failed). */
export const refundSteps = {
  SubmitRefund: 'handlers/refund-saga/submit-refund.ts',
  RecordRefund: 'handlers/refund-saga/record-refund.ts',
  MarkRefundFailed: 'handlers/refund-saga/mark-refund-failed.ts',
} as const;
export type RefundStepName = keyof typeof refundSteps;

export const providerRefundSteps: readonly RefundStepName[] = ['SubmitRefund'];

export interface ApiRoute {
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway resource path, with `{param}` placeholders. */
  readonly path: string;
  readonly entry: string;
  /** The saga whose executions the route starts, if any. */
  readonly starts?: 'payment' | 'refund';
}

export const apiRoutes: readonly ApiRoute[] = [
  { id: 'CreatePayment', method: 'POST', path: '/v1/payments', entry: 'handlers/api/create-payment.ts', starts: 'payment' },
  { id: 'GetPayment', method: 'GET', path: '/v1/payments/{payment_no}', entry: 'handlers/api/get-payment.ts' },
  { id: 'CreateRefund', method: 'POST', path: '/v1/refunds', entry: 'handlers/api/create-refund.ts', starts: 'refund' },
  { id: 'GetRefund', method: 'GET', path: '/v1/refunds/{refund_no}', entry: 'handlers/api/get-refund.ts' },
];

/** The API Gateway TOKEN authorizer that maps a merchant API key to its merchant. */
export const authorizerEntry = 'handlers/api/authorizer.ts';

/** Invoked by the EventBridge schedule every minute. */
export const reconcilerEntry = 'handlers/reconciler.ts';
