import { isPaymentNo } from '../../domain/create-payment.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { paymentRepository, refundRepository } from '../shared/persistence.ts';
import { apiHandler } from './http.ts';
import { paymentView } from './payment-view.ts';
import { refundView } from './refund-view.ts';

/** `GET /v1/payments/{payment_no}`: another merchant's payment is as absent as a missing one. */
export const handler = apiHandler('GetPayment', async ({ event, merchantId }) => {
  const paymentNo = event.pathParameters?.payment_no ?? '';
  const payment = isPaymentNo(paymentNo) ? await paymentRepository().get(paymentNo) : undefined;
  if (!payment || payment.merchantId !== merchantId) {
    throw new NotFoundError(`no payment ${paymentNo}`, { field: 'payment_no' });
  }
  const snapshot = await refundRepository().listForPayment(payment);
  return { status: 200, body: { ...paymentView(snapshot.payment), refunds: snapshot.refunds.map(refundView) } };
});
