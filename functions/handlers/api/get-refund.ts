import { NotFoundError } from '../../domain/errors.ts';
import { isRefundNo } from '../../domain/refund.ts';
import { refundRepository } from '../shared/persistence.ts';
import { apiHandler } from './http.ts';
import { refundView } from './refund-view.ts';

/** `GET /v1/refunds/{refund_no}`: another merchant's refund is as absent as a missing one. */
export const handler = apiHandler('GetRefund', async ({ event, merchantId }) => {
  const refundNo = event.pathParameters?.refund_no ?? '';
  const refund = isRefundNo(refundNo) ? await refundRepository().get(refundNo) : undefined;
  if (!refund || refund.merchantId !== merchantId) {
    throw new NotFoundError(`no refund ${refundNo}`, { field: 'refund_no' });
  }
  return { status: 200, body: refundView(refund) };
});
