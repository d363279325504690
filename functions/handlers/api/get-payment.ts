import { NotFoundError } from '../../domain/errors.ts';
import { paymentRepository } from '../shared/dependencies.ts';
import { apiHandler } from './http.ts';
import { paymentView } from './payment-schema.ts';

/** `GET /v1/payments/{payment_no}`: another merchant's payment is as absent as a missing one. */
export const handler = apiHandler('GetPayment', async ({ event, merchantId }) => {
  const paymentNo = event.pathParameters?.payment_no ?? '';
  const payment = /^pay_[0-9a-f]{24}$/.test(paymentNo) ? await paymentRepository().get(paymentNo) : undefined;
  if (!payment || payment.merchantId !== merchantId) {
    throw new NotFoundError(`no payment ${paymentNo}`, { field: 'payment_no' });
  }
  return { status: 200, body: paymentView(payment) };
});
