import { isPaymentNo } from '../../domain/create-payment.ts';
import { PaymentStatus } from '../../domain/payment.ts';
import { paymentLister, paymentRepository } from '../shared/persistence.ts';
import { apiHandler } from './http.ts';
import { listBody, oneOf, parseListRequest, withCursors } from './list-query.ts';
import { paymentView } from './payment-view.ts';

/**
 * `GET /v1/payments`: the merchant's payments, newest first, Stripe's list parameters and
 * `status`. Each as `GET /v1/payments/{payment_no}` shows it, without its refunds.
 */
export const handler = apiHandler('ListPayments', async ({ event, merchantId }) => {
  const request = parseListRequest<{ status: PaymentStatus }>(event, { status: oneOf('status', Object.values(PaymentStatus)) });
  const query = await withCursors(request, async (paymentNo) => {
    const payment = isPaymentNo(paymentNo) ? await paymentRepository().get(paymentNo) : undefined;
    return payment?.merchantId === merchantId ? { createdAt: payment.createdAt, id: payment.paymentNo } : undefined;
  });
  const page = await paymentLister().listForMerchant(merchantId, query);
  return { status: 200, body: listBody('/v1/payments', page, paymentView) };
});
