import { isPaymentNo } from '../../domain/create-payment.ts';
import { ValidationError } from '../../domain/errors.ts';
import { isRefundNo } from '../../domain/refund.ts';
import { refundLister, refundRepository } from '../shared/persistence.ts';
import { apiHandler } from './http.ts';
import { listBody, parseListRequest, withCursors } from './list-query.ts';
import { refundView } from './refund-view.ts';

/** `GET /v1/refunds`: the merchant's refunds, newest first, Stripe's list parameters and `payment_no`. */
export const handler = apiHandler('ListRefunds', async ({ event, merchantId }) => {
  const request = parseListRequest<{ payment_no: string }>(event, { payment_no: paymentNumber });
  const query = await withCursors(request, async (refundNo) => {
    const refund = isRefundNo(refundNo) ? await refundRepository().get(refundNo) : undefined;
    return refund?.merchantId === merchantId ? { createdAt: refund.createdAt, id: refund.refundNo } : undefined;
  });
  const { payment_no: paymentNo } = query.filters;
  const page = await refundLister().listForMerchant(merchantId, { ...query, filters: { ...(paymentNo !== undefined && { paymentNo }) } });
  return { status: 200, body: listBody('/v1/refunds', page, refundView) };
});

function paymentNumber(raw: string): string {
  if (!isPaymentNo(raw)) throw new ValidationError('payment_no', 'must be a payment number (pay_...)');
  return raw;
}
